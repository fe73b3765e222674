"""`echo`: answers with the request headers the server passed into the run's config."""

from typing import TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph


class State(TypedDict, total=False):
    seen: dict


def echo(state: State, config: RunnableConfig) -> dict:
    configurable = config["configurable"]
    return {"seen": {k: v for k, v in configurable.items() if k.startswith("x-") or k == "authorization"}}


_builder = StateGraph(State)
_builder.add_node("echo", echo)
_builder.add_edge(START, "echo")
graph = _builder.compile()
