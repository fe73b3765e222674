"""`builder`: the config points at an UNcompiled StateGraph; the server compiles it."""

from typing import TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    some_text: str


def human_node(state: State) -> dict:
    value = interrupt({"text_to_revise": state["some_text"]})
    return {"some_text": value}


builder = StateGraph(State)
builder.add_node("human_node", human_node)
builder.add_edge(START, "human_node")
