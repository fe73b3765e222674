"""`ledger`: asks for an answer, writes it to a ledger file (a side effect the tests can
count), then takes `delay` seconds; a second node `after` takes `after_delay` seconds.

The ledger line is also the tests' signal that an answer reached the node: they wait for it
instead of sleeping, then cancel the run inside `review` (answer not yet consumed: the node
never finished) or inside `after` (answer consumed).
"""

import asyncio
from pathlib import Path
from typing import NotRequired, TypedDict

from langgraph.graph import START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    some_text: str
    ledger: NotRequired[str]
    delay: NotRequired[float]
    after_delay: NotRequired[float]


def _record(path: str, answer: object) -> None:
    with Path(path).open("a") as ledger:
        ledger.write(f"{answer}\n")


async def review(state: State) -> dict:
    answer = interrupt({"text_to_revise": state["some_text"]})
    if state.get("ledger"):
        _record(state["ledger"], answer)
    await asyncio.sleep(state.get("delay", 0))
    return {"some_text": answer}


async def after(state: State) -> dict:
    await asyncio.sleep(state.get("after_delay", 0))
    return {}


_builder = StateGraph(State)
_builder.add_node("review", review)
_builder.add_node("after", after)
_builder.add_edge(START, "review")
_builder.add_edge("review", "after")

graph = _builder.compile()
