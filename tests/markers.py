"""The test side of tests/graphs/markers.py: ask a run to mark the points its graph reaches
(holding it at some), wait for a mark, and let a held run go on."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.graphs.markers import FOLDER_KEY, GO_SUFFIX, HOLD_KEY
from tests.polling import eventually, eventually_sync

# Reaching a point includes starting the run: a fresh server's first run imports langgraph's
# machinery, and the machine is shared, so this is generous; a passing test never waits it out.
WITHIN_S = 15.0


@dataclass(frozen=True)
class Markers:
    """One folder of marks, for the runs of one test (a point reached twice needs two)."""

    folder: Path
    held: set[str] = field(default_factory=set, init=False)  # every point a run was told to hold at

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)

    def config(self, *, hold: Iterable[str] = ()) -> dict[str, Any]:
        """The run `config` that makes the graph mark its points here, and wait at `hold`."""
        self.held.update(hold)
        return {"configurable": {FOLDER_KEY: str(self.folder), HOLD_KEY: list(hold)}}

    def seen(self, point: str) -> bool:
        return (self.folder / point).exists()

    async def wait(self, point: str, *, explain: Callable[[], str] | None = None) -> None:
        """Wait until a run reached `point`; `explain` (a server's log) says why not, if not."""

        async def seen() -> bool:
            return self.seen(point)

        await eventually(seen, bool, within=WITHIN_S, what=f"the run reaching {point!r}", explain=explain)

    def wait_sync(self, point: str, *, explain: Callable[[], str] | None = None) -> None:
        """`wait` for sync tests."""
        eventually_sync(
            lambda: self.seen(point), bool, within=WITHIN_S, what=f"the run reaching {point!r}", explain=explain
        )

    def go_file(self, point: str) -> Path:
        """The file whose existence lets a run held at `point` go on."""
        return self.folder / (point + GO_SUFFIX)

    def release(self, point: str) -> None:
        """Let a run held at `point` go on (and any later run that reaches it: no hold there)."""
        self.go_file(point).touch()

    def release_all(self) -> None:
        """Let every held run go on: a test that failed before its release leaves none behind
        occupying a worker of the shared server."""
        for point in self.held:
            self.release(point)
