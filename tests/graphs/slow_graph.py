"""`slow`: sleeps (default 3 s, or `delay` from the input) before interrupting.

It marks `slow_node` as it enters the node (tests/graphs/markers.py), and a test can hold it
there: "the run is inside the node" is then a fact the test waits for, not a guess."""

import asyncio
from typing import NotRequired, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import START, StateGraph
from langgraph.types import interrupt
from tests.graphs.markers import reached


class State(TypedDict):
    some_text: str
    delay: NotRequired[float]


async def slow_node(state: State, config: RunnableConfig) -> dict:
    await reached(config, "slow_node")
    await asyncio.sleep(state.get("delay", 3.0))
    value = interrupt({"text_to_revise": state["some_text"]})
    return {"some_text": value}


_builder = StateGraph(State)
_builder.add_node("slow_node", slow_node)
_builder.add_edge(START, "slow_node")

graph = _builder.compile()
