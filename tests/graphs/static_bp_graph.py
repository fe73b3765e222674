"""`static_bp`: a static breakpoint (interrupt_before) instead of interrupt()."""

from typing import TypedDict

from langgraph.graph import START, StateGraph


class State(TypedDict):
    some_text: str


def node(state: State) -> dict:
    return {"some_text": state["some_text"] + " (processed)"}


_builder = StateGraph(State)
_builder.add_node("node", node)
_builder.add_edge(START, "node")

graph = _builder.compile(interrupt_before=["node"])
