"""`double`: one node that interrupts twice before it can finish."""

from typing import TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    some_text: str


def human_node(state: State) -> dict:
    a = interrupt({"question": "first", "text": state["some_text"]})
    b = interrupt({"question": "second", "first_answer": a})
    return {"some_text": f"{a}|{b}"}


_builder = StateGraph(State)
_builder.add_node("human_node", human_node)
_builder.add_edge(START, "human_node")

graph = _builder.compile()
