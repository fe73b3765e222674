"""What langgraph.json describes, loaded once at start: its graphs, its authentication, a
custom app to serve beside the API, and what it asks of webhooks."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from langgraph_sdk.auth import Auth

from waypost.auth.engine import ApiKeys, CustomAuth, NoAuth, Policy
from waypost.config import ServerConfig, load_config
from waypost.errors import ConfigError
from waypost.graphs import GraphRegistry, load_graphs
from waypost.imports import load_object
from waypost.settings import Settings

log = logging.getLogger("waypost")


@dataclass
class Project:
    config: ServerConfig
    graphs: GraphRegistry
    auth: Policy
    app: Any = None  # an ASGI app (Starlette, FastAPI) mounted beside the API

    def report(self) -> list[str]:
        """One line per thing the config asks for that Waypost does not do."""
        return [f"langgraph.json: {note}" for note in self.config.notes]


def load_project(settings: Settings) -> Project:
    config = load_config(settings.config_path)
    graphs = load_graphs(config)  # puts local dependencies on the import path first
    auth = _auth(config, settings)
    app = load_object(config.http.app, config.base, "http.app", "waypost_user_app") if config.http.app else None
    if not auth.enabled and settings.run_api and not settings.allow_unauthenticated and not _loopback(settings.host):
        raise ConfigError(
            f"refusing to serve {settings.host} without authentication: configure auth in langgraph.json or "
            "--api-key, or pass --allow-unauthenticated to serve it open on purpose"
        )
    return Project(config=config, graphs=graphs, auth=auth, app=app)


def _auth(config: ServerConfig, settings: Settings) -> Policy:
    if config.auth is not None and settings.api_keys:
        raise ConfigError(
            "both an auth module (langgraph.json) and API keys are configured; use one: the auth module "
            "can check keys itself"
        )
    if settings.api_keys:
        return ApiKeys(settings.api_keys)
    if config.auth is None:
        return NoAuth()
    auth = load_object(config.auth.path, config.base, "auth.path", "waypost_user_auth")
    if not isinstance(auth, Auth):
        raise ConfigError(f"auth.path: {config.auth.path} is a {type(auth).__name__}, not a langgraph_sdk.Auth")
    try:
        return CustomAuth(auth)
    except ValueError as exc:
        raise ConfigError(f"auth.path: {exc}") from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
