"""`subgraph`: the interrupt happens inside a compiled child graph used as a node."""

from typing import TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    some_text: str


def inner_human(state: State) -> dict:
    value = interrupt({"where": "inner", "text": state["some_text"]})
    return {"some_text": value}


_inner = StateGraph(State)
_inner.add_node("inner_human", inner_human)
_inner.add_edge(START, "inner_human")
inner_graph = _inner.compile()

_parent = StateGraph(State)
_parent.add_node("sub", inner_graph)
_parent.add_edge(START, "sub")

graph = _parent.compile()
