"""langgraph.json, read once at start into a typed ServerConfig.

The format is the official one (the `langgraph_cli.schemas` module of the langgraph-cli
package defines it). Every key there is either supported, refused with one clear line, or
reported at start as not implemented: never silently ignored. A key that would weaken what
the user believes (encryption, a custom checkpointer, thread TTLs) is refused; one whose
absence only means a feature is missing (the store, UI bundles) is reported.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from waypost.errors import ConfigError
from waypost.inbox_config import InboxConfig, read_inbox_config

# Keys for building container images: meaningless when Waypost runs in the current Python.
BUILD_KEYS = (
    "python_version",
    "node_version",
    "api_version",
    "base_image",
    "image_distro",
    "pip_config_file",
    "pip_installer",
    "source",
    "dockerfile_lines",
    "keep_pkg_tools",
)
HTTP_ROUTE_GROUPS = ("assistants", "threads", "runs")
# Route groups Waypost does not serve, so disabling them changes nothing.
HTTP_ABSENT_GROUPS = ("store", "mcp", "a2a", "ui")
DEFAULT_WEBHOOK_ENV_PREFIX = "LG_WEBHOOK_"
_ENV_TEMPLATE = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class CorsPolicy:
    allow_origins: tuple[str, ...] = ("*",)
    allow_origin_regex: str | None = None
    allow_methods: tuple[str, ...] = ("*",)
    allow_headers: tuple[str, ...] = ("*",)
    allow_credentials: bool = False
    expose_headers: tuple[str, ...] = ()
    max_age: int = 600


@dataclass(frozen=True)
class AuthSection:
    path: str
    openapi: dict[str, Any] | None = None


@dataclass(frozen=True)
class HttpSection:
    app: str | None = None
    cors: CorsPolicy = field(default_factory=CorsPolicy)
    disabled: frozenset[str] = frozenset()  # route groups removed: assistants, threads, runs, meta
    disable_webhooks: bool = False
    # A custom app's routes go through authentication unless this is explicitly false.
    custom_route_auth: bool = True
    configurable_headers: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (includes, excludes)


@dataclass(frozen=True)
class WebhookPolicy:
    # A `webhooks.url` section was given: then private and local addresses are refused too
    # unless allowed_domains names hosts explicitly.
    policed: bool = False
    require_https: bool = False
    allowed_domains: tuple[str, ...] = ()
    allowed_ports: tuple[int, ...] = ()
    max_url_length: int | None = None
    disable_loopback: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerConfig:
    path: Path
    graphs: dict[str, Any]
    dependencies: tuple[str, ...] = ()
    env: dict[str, str] | str | None = None
    auth: AuthSection | None = None
    http: HttpSection = field(default_factory=HttpSection)
    webhooks: WebhookPolicy = field(default_factory=WebhookPolicy)
    # The `waypost` section: interrupt plans (assignees, deadlines) and notifications.
    inbox: InboxConfig = field(default_factory=InboxConfig)
    # What is accepted but not implemented, to report at start.
    notes: tuple[str, ...] = ()

    @property
    def base(self) -> Path:
        return self.path.parent


def load_config(path: Path) -> ServerConfig:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("graphs"), dict) or not raw["graphs"]:
        raise ConfigError(f'{path}: expected an object with a non-empty "graphs" map')
    return _Reader(path, raw).read()


class _Reader:
    def __init__(self, path: Path, raw: dict[str, Any]) -> None:
        self.path = path
        self.raw = raw
        self.notes: list[str] = []

    def refuse(self, key: str, why: str) -> ConfigError:
        return ConfigError(f"{self.path.name}: {key}: {why}")

    def section(self, key: str) -> dict[str, Any]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.refuse(key, "expected an object")
        return value

    def read(self) -> ServerConfig:
        raw = self.raw
        known = {"graphs", "env", "dependencies", "auth", "http", "webhooks", "store", "checkpointer"}
        known |= {"encryption", "priority", "ui", "$schema", "waypost", *BUILD_KEYS}
        build = [k for k in BUILD_KEYS if k in raw]
        if build:
            self.notes.append(f"ignored: {', '.join(build)} (build settings for container images)")
        for key in sorted(set(raw) - known):
            self.notes.append(f"ignored: unknown key {key!r}")
        if raw.get("encryption"):
            raise self.refuse("encryption", "custom at-rest encryption is not supported; nothing would be encrypted")
        if raw.get("priority"):
            self.notes.append("not supported yet: priority (runs are taken in the order they were created)")
        if raw.get("ui"):
            self.notes.append("not supported: ui (Waypost serves no UI bundles)")
        if self.section("store"):
            self.notes.append("not supported yet: store (no /store routes; graphs get no store)")
        self.checkpointer()
        return ServerConfig(
            path=self.path,
            graphs=raw["graphs"],
            dependencies=tuple(self.dependencies()),
            env=raw.get("env"),
            auth=self.auth(),
            http=self.http(),
            webhooks=self.webhooks(),
            inbox=read_inbox_config(
                raw.get("waypost"), raw["graphs"], lambda message: ConfigError(f"{self.path.name}: {message}")
            ),
            notes=tuple(self.notes),
        )

    def dependencies(self) -> list[str]:
        deps = self.raw.get("dependencies") or []
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise self.refuse("dependencies", "expected a list of strings")
        packages = [d for d in deps if not d.startswith((".", "/"))]
        if packages:
            self.notes.append(
                f"dependencies {', '.join(packages)}: not installed by Waypost (install them in its environment); "
                "local folders are put on the import path"
            )
        return deps

    def checkpointer(self) -> None:
        section = self.section("checkpointer")
        if section.get("path"):
            raise self.refuse("checkpointer.path", "Waypost attaches langgraph's own checkpointer to every graph")
        if section.get("ttl"):
            raise self.refuse("checkpointer.ttl", "thread time-to-live is not supported yet")
        if section.get("serde"):
            self.notes.append("not supported yet: checkpointer.serde (langgraph's default serializer is used)")

    def auth(self) -> AuthSection | None:
        section = self.section("auth")
        if not section:
            return None
        path = section.get("path")
        if not isinstance(path, str) or ":" not in path:
            raise self.refuse("auth.path", 'expected "./file.py:auth" naming a langgraph_sdk.Auth object')
        if section.get("cache"):
            self.notes.append("not supported yet: auth.cache (the authenticate handler runs on every request)")
        openapi = section.get("openapi")
        if openapi is not None and not isinstance(openapi, dict):
            raise self.refuse("auth.openapi", "expected an object")
        return AuthSection(path=path, openapi=openapi)

    def http(self) -> HttpSection:
        section = self.section("http")
        if not section:
            return HttpSection()
        disabled = {g for g in (*HTTP_ROUTE_GROUPS, "meta") if section.get(f"disable_{g}")}
        for key in ("mount_prefix",):
            if section.get(key):
                raise self.refuse(f"http.{key}", "not supported yet: routes are served at the root")
        for key in ("logging_headers", "middleware_order"):
            if section.get(key):
                self.notes.append(f"not supported yet: http.{key}")
        app = section.get("app")
        if app is not None and (not isinstance(app, str) or ":" not in app):
            raise self.refuse("http.app", 'expected "./file.py:app" naming a Starlette or FastAPI app')
        custom_auth = section.get("enable_custom_route_auth")
        headers = section.get("configurable_headers")
        configurable = None
        if headers:
            configurable = (tuple(headers.get("includes") or ()), tuple(headers.get("excludes") or ()))
        return HttpSection(
            app=app,
            cors=self.cors(section.get("cors")),
            disabled=frozenset(disabled),
            disable_webhooks=bool(section.get("disable_webhooks")),
            custom_route_auth=custom_auth is not False,
            configurable_headers=configurable,
        )

    def cors(self, raw: Any) -> CorsPolicy:
        if raw is None:
            return CorsPolicy()
        if not isinstance(raw, dict):
            raise self.refuse("http.cors", "expected an object")

        def strings(key: str, default: tuple[str, ...]) -> tuple[str, ...]:
            value = raw.get(key)
            if value is None:
                return default
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise self.refuse(f"http.cors.{key}", "expected a list of strings")
            return tuple(value)

        regex = raw.get("allow_origin_regex")
        if regex is not None:
            try:
                re.compile(regex)
            except re.error as exc:
                raise self.refuse("http.cors.allow_origin_regex", f"not a regular expression: {exc}") from None
        origins = strings("allow_origins", () if regex else ("*",))
        credentials = bool(raw.get("allow_credentials", False))
        if credentials and "*" in origins:
            raise self.refuse("http.cors", "allow_credentials needs explicit allow_origins, not '*'")
        return CorsPolicy(
            allow_origins=origins,
            allow_origin_regex=regex,
            allow_methods=strings("allow_methods", ("*",)),
            allow_headers=strings("allow_headers", ("*",)),
            allow_credentials=credentials,
            expose_headers=strings("expose_headers", ()),
            max_age=int(raw.get("max_age", 600)),
        )

    def webhooks(self) -> WebhookPolicy:
        section = self.section("webhooks")
        if not section:
            return WebhookPolicy()
        url = section.get("url") or {}
        if not isinstance(url, dict):
            raise self.refuse("webhooks.url", "expected an object")
        prefix = section.get("env_prefix") or DEFAULT_WEBHOOK_ENV_PREFIX
        headers = {}
        for name, template in (section.get("headers") or {}).items():
            headers[str(name)] = self.resolve_env(f"webhooks.headers.{name}", str(template), prefix)
        ports = url.get("allowed_ports") or []
        if not all(isinstance(p, int) for p in ports):
            raise self.refuse("webhooks.url.allowed_ports", "expected a list of port numbers")
        return WebhookPolicy(
            policed="url" in section,
            require_https=bool(url.get("require_https")),
            allowed_domains=tuple(str(d).lower() for d in url.get("allowed_domains") or ()),
            allowed_ports=tuple(ports),
            max_url_length=url.get("max_url_length"),
            disable_loopback=bool(url.get("disable_loopback")),
            headers=headers,
        )

    def resolve_env(self, key: str, template: str, prefix: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if not name.startswith(prefix):
                raise self.refuse(key, f"${{{{ env.{name} }}}}: only variables starting with {prefix} may be used")
            if name not in os.environ:
                raise self.refuse(key, f"${{{{ env.{name} }}}}: {name} is not set")
            return os.environ[name]

        return _ENV_TEMPLATE.sub(value, template)
