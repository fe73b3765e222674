"""Graphs from langgraph.json, and the system assistant each one gets.

`graphs` maps a name to "./file.py:attr" (or "package.module:attr"). Paths resolve relative
to the config file's folder, whatever the working directory. `attr` may be a compiled graph,
a StateGraph builder (compiled here), or a factory taking a RunnableConfig (called per run).
Graphs are compiled by the user without a checkpointer; Waypost attaches its own.
"""

from __future__ import annotations

import inspect
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from waypost.config import ServerConfig
from waypost.errors import ConfigError, InvalidInput
from waypost.imports import load_object

# The namespace the official server derives system assistant ids from (API-CONTRACT §1).
ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")


def system_assistant_id(graph_id: str) -> str:
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, graph_id))


Factory = Callable[[RunnableConfig], "Pregel | StateGraph | Awaitable[Pregel | StateGraph]"]


@dataclass
class GraphSpec:
    graph_id: str
    graph: Pregel | None  # None when built per run by `factory`
    factory: Factory | None
    description: str | None = None

    async def build(self, config: RunnableConfig, checkpointer: BaseCheckpointSaver[Any] | None) -> Pregel:
        """The graph to run, with Waypost's checkpointer attached."""
        if self.graph is not None:
            base = self.graph
        else:
            assert self.factory is not None
            made = self.factory(config)
            if inspect.isawaitable(made):
                made = await made
            base = _compiled(self.graph_id, made)
        if checkpointer is None:
            return base
        return base.copy(update={"checkpointer": checkpointer})


def _compiled(graph_id: str, obj: Any) -> Pregel:
    if isinstance(obj, Pregel):
        return obj
    if isinstance(obj, StateGraph):
        return obj.compile()
    raise ConfigError(f"graph {graph_id!r} is a {type(obj).__name__}, not a graph, builder or factory")


@dataclass
class GraphRegistry:
    specs: dict[str, GraphSpec]
    checkpointer: BaseCheckpointSaver[Any] | None = None

    def attach(self, checkpointer: BaseCheckpointSaver[Any]) -> None:
        """Give every static graph Waypost's checkpointer once, so runs don't copy graphs."""
        self.checkpointer = checkpointer
        for spec in self.specs.values():
            if spec.graph is not None:
                spec.graph = spec.graph.copy(update={"checkpointer": checkpointer})

    def get(self, graph_id: str) -> GraphSpec:
        spec = self.specs.get(graph_id)
        if spec is None:
            raise InvalidInput(f"Graph {graph_id!r} not found. Registered graphs: {', '.join(self.specs)}")
        return spec

    async def graph(self, graph_id: str, config: RunnableConfig | None = None) -> Pregel:
        spec = self.get(graph_id)
        if spec.graph is not None:
            return spec.graph
        return await spec.build(config or {}, self.checkpointer)


def _apply_env(config: ServerConfig) -> None:
    env = config.env
    if isinstance(env, str):  # a .env file path
        env_path = (config.base / env).resolve()
        if not env_path.is_file():
            raise ConfigError(f"env file not found: {env_path}")
        pairs: dict[str, str] = {}
        for line in env_path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.removeprefix("export ").partition("=")
                pairs[key.strip()] = value.strip().strip("'\"")
        env = pairs
    for key, value in (env or {}).items():
        os.environ.setdefault(str(key), str(value))  # the real environment wins


def prepare_imports(config: ServerConfig) -> None:
    """Local dependency folders on the import path and the config's env applied, before any
    of the config's modules (graphs, auth, app) is imported."""
    for dep in config.dependencies:
        if dep.startswith((".", "/")):
            dep_path = str((config.base / dep).resolve())
            if dep_path not in sys.path:
                sys.path.insert(0, dep_path)
    _apply_env(config)


def load_graphs(config: ServerConfig) -> GraphRegistry:
    prepare_imports(config)
    specs: dict[str, GraphSpec] = {}
    for graph_id, entry in config.graphs.items():
        ref, description = entry, None
        if isinstance(entry, dict):
            ref, description = entry.get("path"), entry.get("description")
        if not isinstance(ref, str):
            raise ConfigError(f'graph {graph_id!r}: expected a "./file.py:attr" string')
        obj = load_object(ref, config.base, f"graph {graph_id!r}", f"waypost_graphs.{graph_id}")
        if isinstance(obj, (Pregel, StateGraph)):
            specs[graph_id] = GraphSpec(graph_id, _compiled(graph_id, obj), None, description)
        elif callable(obj):
            specs[graph_id] = GraphSpec(graph_id, None, obj, description)
        else:
            raise ConfigError(f"graph {graph_id!r} is a {type(obj).__name__}, not a graph, builder or factory")
    return GraphRegistry(specs)
