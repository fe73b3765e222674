"""`followup`: the seed's human node, then one more node after it."""

from typing import TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    some_text: str


def human_node(state: State) -> dict:
    value = interrupt({"text_to_revise": state["some_text"]})
    return {"some_text": value}


def after(state: State) -> dict:
    return {"some_text": state["some_text"] + " [after]"}


_builder = StateGraph(State)
_builder.add_node("human_node", human_node)
_builder.add_node("after", after)
_builder.add_edge(START, "human_node")
_builder.add_edge("human_node", "after")

graph = _builder.compile()
