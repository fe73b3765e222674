"""`steps`: one -> two -> three; `three` interrupts.

Used to crash the server (kill -9) while a node is in flight: `two` marks itself as it starts
(tests/graphs/markers.py), and a test can hold it there until the server is gone.
"""

import operator
from typing import Annotated, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.types import interrupt
from tests.graphs.markers import reached


class State(TypedDict):
    some_text: str
    trail: Annotated[list[str], operator.add]


def one(state: State) -> dict:
    return {"trail": ["one"]}


async def two(state: State, config: RunnableConfig) -> dict:
    await reached(config, "two")
    return {"trail": ["two"]}


def three(state: State) -> dict:
    value = interrupt({"trail": state["trail"]})
    return {"some_text": value, "trail": ["three"]}


_builder = StateGraph(State)
_builder.add_node("one", one)
_builder.add_node("two", two)
_builder.add_node("three", three)
_builder.add_edge(START, "one")
_builder.add_edge("one", "two")
_builder.add_edge("two", "three")

graph = _builder.compile()
