"""The inbox section's graph (bench/inbox.py): one node that asks a person and waits.

`review` stops at an interrupt. When the answer comes, langgraph runs the node again from its
first line, so the time taken there is the moment the resumed node started; the node puts it
in the state (`resumed_at`, time.time(), the same clock the bench reads on this machine), where
the bench finds it once the run has ended. Then `done` ends the run.
"""

import time
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict, total=False):
    subject: str
    answer: Any
    resumed_at: float


def review(state: State) -> dict:
    started = time.time()
    answer = interrupt({"question": "approve?", "subject": state.get("subject", "")})
    return {"answer": answer, "resumed_at": started}


def done(state: State) -> dict:
    return {}


builder = StateGraph(State)
builder.add_node("review", review)
builder.add_node("done", done)
builder.add_edge(START, "review")
builder.add_edge("review", "done")
builder.add_edge("done", END)
graph = builder.compile()
