"""`slow_answer`: interrupts at once; once answered, works for `delay` seconds before finishing."""

import asyncio
from typing import NotRequired, TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    some_text: str
    delay: NotRequired[float]


async def review(state: State) -> dict:
    value = interrupt({"text_to_revise": state["some_text"]})
    await asyncio.sleep(state.get("delay", 3.0))
    return {"some_text": value}


_builder = StateGraph(State)
_builder.add_node("review", review)
_builder.add_edge(START, "review")

graph = _builder.compile()
