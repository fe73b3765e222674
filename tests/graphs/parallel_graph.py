"""`parallel`: two branches from START, each interrupting in the same step."""

import operator
from typing import Annotated, TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    some_text: str
    answers: Annotated[list[str], operator.add]


def _branch(name: str):
    def node(state: State) -> dict:
        value = interrupt({"branch": name, "text": state["some_text"]})
        return {"answers": [f"{name}:{value}"]}

    node.__name__ = name
    return node


_builder = StateGraph(State)
_builder.add_node("left", _branch("left"))
_builder.add_node("right", _branch("right"))
_builder.add_edge(START, "left")
_builder.add_edge(START, "right")

graph = _builder.compile()
