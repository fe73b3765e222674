"""Graphs for the scaled section's correctness checks, observable from outside the server.

Each node that matters appends one line to a marks file whose path is in the state: the time,
the PID of the process that ran it, and what happened. The bench reads that file to count how
many times an answer was applied (a node's effects, not just the state the last writer left),
and which process ran a node and when (the takeover).

- once: one node that waits for an answer, then applies it (a mark, and the answer appended to a
  list in state).
- slow: `before` (quick), then `slow`, which sleeps `sleep_s` seconds (the window in which the
  bench kills its process), then `ask`, which waits for an answer.
"""

import asyncio
import operator
import os
import time
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


def mark(path: str, what: str, detail: str = "") -> None:
    # One short write in append mode: lines from several processes never interleave.
    with open(path, "a") as f:
        f.write(f"{time.time():.6f} {os.getpid()} {what} {detail}\n")


class OnceState(TypedDict, total=False):
    marks: str
    answers: Annotated[list[str], operator.add]


def apply_answer(state: OnceState) -> dict:
    answer = interrupt({"question": "apply?"})
    mark(state["marks"], "applied", str(answer))
    return {"answers": [answer]}


once_builder = StateGraph(OnceState)
once_builder.add_node("apply_answer", apply_answer)
once_builder.add_edge(START, "apply_answer")
once_builder.add_edge("apply_answer", END)
once = once_builder.compile()


class SlowState(TypedDict, total=False):
    marks: str
    sleep_s: float
    steps: Annotated[list[str], operator.add]


def before(state: SlowState) -> dict:
    mark(state["marks"], "before")
    return {"steps": ["before"]}


async def slow_node(state: SlowState) -> dict:
    mark(state["marks"], "slow-start")
    await asyncio.sleep(state.get("sleep_s", 4.0))
    mark(state["marks"], "slow-end")
    return {"steps": ["slow"]}


def ask(state: SlowState) -> dict:
    answer = interrupt({"question": "continue?"})
    return {"steps": [f"answer {answer}"]}


slow_builder = StateGraph(SlowState)
slow_builder.add_node("before", before)
slow_builder.add_node("slow", slow_node)
slow_builder.add_node("ask", ask)
slow_builder.add_edge(START, "before")
slow_builder.add_edge("before", "slow")
slow_builder.add_edge("slow", "ask")
slow_builder.add_edge("ask", END)
slow = slow_builder.compile()
