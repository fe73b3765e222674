"""`slow`: sleeps (default 3 s, or `delay` from the input) before interrupting."""

import asyncio
from typing import NotRequired, TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    some_text: str
    delay: NotRequired[float]


async def slow_node(state: State) -> dict:
    await asyncio.sleep(state.get("delay", 3.0))
    value = interrupt({"text_to_revise": state["some_text"]})
    return {"some_text": value}


_builder = StateGraph(State)
_builder.add_node("slow_node", slow_node)
_builder.add_edge(START, "slow_node")

graph = _builder.compile()
