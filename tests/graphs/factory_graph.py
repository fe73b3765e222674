"""`factory`: the config points at a function that builds the graph per run."""

from typing import TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph


class State(TypedDict):
    some_text: str


def node(state: State) -> dict:
    return {"some_text": state["some_text"] + " (factory)"}


def make_graph(config: RunnableConfig):
    builder = StateGraph(State)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    return builder.compile()
