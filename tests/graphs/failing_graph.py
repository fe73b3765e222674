"""`failing`: the only node raises."""

from typing import TypedDict

from langgraph.graph import START, StateGraph


class State(TypedDict):
    some_text: str


def boom(state: State) -> dict:
    raise ValueError("boom")


_builder = StateGraph(State)
_builder.add_node("boom", boom)
_builder.add_edge(START, "boom")

graph = _builder.compile()
