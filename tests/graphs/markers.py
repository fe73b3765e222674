"""Markers: how a test graph tells the test driving it where its run is.

A test that must know "the node is running now" cannot see inside the server, and sleeping
until it probably is makes the test slow when the machine is idle and wrong when it is busy.
So the graph says it: a run whose config carries `configurable["markers"]`, a folder, gets
the empty file `<folder>/<point>` created when one of its nodes calls `reached(config, point)`.
If `configurable["hold"]` also lists that point, the node then waits there until the test
creates `<folder>/<point>.go`, so "still inside the node" lasts exactly as long as the test
needs instead of as long as a sleep. Without these keys `reached` does nothing: the graphs
behave as they do for every other test.

The config, not the state, carries the folder so that the values the tests assert on stay the
same. The server imports this module as `tests.graphs.markers` (langgraph.json lists the
repository root as a dependency), the tests do the same (tests/markers.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from langchain_core.runnables import RunnableConfig

FOLDER_KEY = "markers"
HOLD_KEY = "hold"
GO_SUFFIX = ".go"
# How often a held node looks for its go-ahead: short next to any test's deadline, long
# enough not to load the machine.
HOLD_POLL_S = 0.02


async def reached(config: RunnableConfig, point: str) -> None:
    """Mark `point` as reached and, if the test holds the run there, wait for its go-ahead."""
    go = _mark(config, point)
    # The go-ahead is a file the test's process creates: no asyncio.Event reaches across
    # processes, so the held node polls (cancellable, as a cut-off or cancelled run must be).
    while go is not None and not go.exists():  # noqa: ASYNC110
        await asyncio.sleep(HOLD_POLL_S)


def _mark(config: RunnableConfig, point: str) -> Path | None:
    """Create the mark if the run asked for marks; return the go-ahead file if it holds here."""
    configurable = config.get("configurable") or {}
    folder = configurable.get(FOLDER_KEY)
    if not folder:
        return None
    Path(folder, point).touch()
    return Path(folder, point + GO_SUFFIX) if point in (configurable.get(HOLD_KEY) or ()) else None
