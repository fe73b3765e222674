"""Durability across process deaths: real `waypost serve` processes on one SQLite file.

A server is killed (SIGKILL, no cleanup) or stopped (SIGTERM) while a thread waits for a
human or while a run is inside a node; a new server on the same database file must carry
on as if nothing happened: the waiting thread still waits with the same interrupt, and a
cut-off run is taken up again by itself, from its last checkpoint, without repeating the
nodes that already finished.

Timing: nothing here sleeps. A run to be cut off is held inside its node: the graph marks
the node as reached and waits there for the test's go-ahead (tests/graphs/markers.py), so
"mid-node" is a fact when the server dies, however slow the machine. The test lets the node
go before the next server starts, which then takes the run up and runs it to its end; the
test blocks on /join for that end, or polls with a deadline (tests/polling.py).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.markers import Markers
from tests.polling import eventually_sync
from tests.serverproc import TEST_GRAPHS_CONFIG, ServerProcess

pytestmark = pytest.mark.slow

INFLIGHT = ("pending", "running")
RECOVERY_DEADLINE_S = 30.0


@contextmanager
def serving(db: Path, *extra_args: str) -> Iterator[tuple[ServerProcess, httpx.Client]]:
    """A server on `db` and a client for it; always stopped on the way out (a no-op after kill9)."""
    server = ServerProcess(
        config=TEST_GRAPHS_CONFIG,
        database_url=f"sqlite:///{db}",
        log_path=db.with_suffix(".log"),
        extra_args=list(extra_args),
    )
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=30.0) as client:
            yield server, client
    finally:
        server.stop()


def ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
    return resp.json() if resp.content else None


def new_thread(client: httpx.Client) -> str:
    return ok(client.post("/threads", json={}))["thread_id"]


def start_run(client: httpx.Client, thread_id: str, **body: Any) -> dict[str, Any]:
    """Create a background run on the thread; the run as created."""
    return ok(client.post(f"/threads/{thread_id}/runs", json=body))


def wait_run(client: httpx.Client, thread_id: str, **body: Any) -> Any:
    """Run on the thread to the run's end; its output."""
    return ok(client.post(f"/threads/{thread_id}/runs/wait", json=body))


def interrupt_ids(thread: dict[str, Any]) -> list[str]:
    return [item["id"] for items in thread["interrupts"].values() for item in items]


def runs_of(client: httpx.Client, thread_id: str) -> list[dict[str, Any]]:
    return ok(client.get(f"/threads/{thread_id}/runs", params={"limit": 100}))


def join(client: httpx.Client, server: ServerProcess, thread_id: str, run_id: str) -> Any:
    """Block on /join until the run ends (the server wakes us; no polling); return its output."""
    try:
        resp = client.get(f"/threads/{thread_id}/runs/{run_id}/join", timeout=RECOVERY_DEADLINE_S)
    except httpx.TimeoutException:
        pytest.fail(f"run {run_id} did not finish within {RECOVERY_DEADLINE_S}s\nserver log:\n{server.log_tail()}")
    return ok(resp)


def settle(client: httpx.Client, server: ServerProcess, thread_id: str) -> list[dict[str, Any]]:
    """Wait until no run of the thread is pending or running; return its runs."""
    return eventually_sync(
        lambda: runs_of(client, thread_id),
        lambda runs: bool(runs) and all(r["status"] not in INFLIGHT for r in runs),
        within=RECOVERY_DEADLINE_S,
        what=f"the runs of thread {thread_id} to finish",
        explain=server.log_tail,
    )


def worker_had_its_chance(client: httpx.Client) -> None:
    """Run a short run on a thread of its own to its end. The worker takes pending runs in the
    order they were queued, so once this later one is done it has passed over every run queued
    before it: one of those still pending was held back on purpose, not just not reached yet."""
    wait_run(client, new_thread(client), assistant_id="agent", input={"some_text": "control"})


def test_waiting_thread_survives_kill9(tmp_path: Path) -> None:
    db = tmp_path / "waypost.sqlite"
    with serving(db) as (server, client):
        thread_id = new_thread(client)
        first = wait_run(client, thread_id, assistant_id="agent", input={"some_text": "original text"})
        assert first["some_text"] == "original text"
        (intr,) = first["__interrupt__"]
        assert intr["value"] == {"text_to_revise": "original text"}
        before = ok(client.get(f"/threads/{thread_id}"))
        assert before["status"] == "interrupted"
        assert interrupt_ids(before) == [intr["id"]]
        server.kill9()
        assert server.proc is not None and server.proc.returncode == -9

    with serving(db) as (server, client):
        after = ok(client.get(f"/threads/{thread_id}"))
        assert after["status"] == "interrupted", after
        assert interrupt_ids(after) == [intr["id"]]
        assert after["interrupts"] == before["interrupts"]
        assert after["values"] == {"some_text": "original text"}
        state = ok(client.get(f"/threads/{thread_id}/state"))
        assert state["next"] == ["human_node"]
        assert [i["id"] for i in state["interrupts"]] == [intr["id"]]
        assert [r["status"] for r in runs_of(client, thread_id)] == ["success"]

        resumed = wait_run(client, thread_id, assistant_id="agent", command={"resume": "Edited text"})
        assert resumed == {"some_text": "Edited text"}
        final = ok(client.get(f"/threads/{thread_id}"))
        assert final["status"] == "idle", final
        assert final["values"] == {"some_text": "Edited text"}
        assert final["interrupts"] == {}
        assert [r["status"] for r in settle(client, server, thread_id)] == ["success", "success"]

        # the answer was applied once: answering again is refused
        again = client.post(
            f"/threads/{thread_id}/runs/wait", json={"assistant_id": "agent", "command": {"resume": "twice"}}
        )
        assert again.status_code == 409, again.text


def _start_steps_run_and_cut_it(
    db: Path, markers: Markers, cut: Callable[[ServerProcess], None], *server_args: str
) -> tuple[str, str]:
    """Start `steps` held inside its node `two`, wait until `one` is checkpointed, then cut the
    server off with `cut`. Returns (thread_id, run_id)."""
    with serving(db, *server_args) as (server, client):
        thread_id = new_thread(client)
        run = start_run(
            client, thread_id, assistant_id="steps", input={"some_text": "x"}, config=markers.config(hold=["two"])
        )
        run_id = run["run_id"]
        assert run["status"] == "pending"
        markers.wait_sync("two", explain=server.log_tail)
        # `one` is done, but its checkpoint is written beside `two` (durability "async")
        eventually_sync(
            lambda: ok(client.get(f"/threads/{thread_id}/state")),
            lambda state: state["values"].get("trail") == ["one"] and state["next"] == ["two"],
            what="node one to be checkpointed",
            explain=server.log_tail,
        )
        # still mid-run: `two` waits for the go-ahead it only gets after the cut
        assert ok(client.get(f"/threads/{thread_id}/runs/{run_id}"))["status"] == "running"
        assert ok(client.get(f"/threads/{thread_id}"))["status"] == "busy"
        cut(server)
        assert server.proc is not None and server.proc.poll() is not None
    # the next server runs `two` again (the run's second attempt): let it through then
    markers.release("two")
    return thread_id, run_id


def _assert_resumed_without_client_action(db: Path, thread_id: str, run_id: str) -> None:
    with serving(db) as (server, client):
        # nobody asks: the server takes the run up by itself
        output = join(client, server, thread_id, run_id)
        assert output["trail"] == ["one", "two"], output
        assert [i["value"] for i in output["__interrupt__"]] == [{"trail": ["one", "two"]}]
        runs = settle(client, server, thread_id)
        assert [(r["run_id"], r["status"]) for r in runs] == [(run_id, "success")], runs

        thread = ok(client.get(f"/threads/{thread_id}"))
        assert thread["status"] == "interrupted", thread
        assert thread["values"]["trail"] == ["one", "two"], "node one ran again or two was lost"
        (items,) = thread["interrupts"].values()
        (intr,) = items
        assert intr["value"] == {"trail": ["one", "two"]}
        assert intr["ns"][0].startswith("three:")
        state = ok(client.get(f"/threads/{thread_id}/state"))
        assert state["next"] == ["three"]

        # the checkpoints after the restart carry the run's second attempt
        history = ok(client.post(f"/threads/{thread_id}/history", json={"limit": 50}))
        mine = [h["metadata"] for h in history if (h["metadata"] or {}).get("run_id") == run_id]
        assert mine, history
        attempts = [m.get("run_attempt") for m in mine]
        assert 1 in attempts and 2 in attempts, attempts
        assert max(attempts) == 2, attempts
        # `one` ran exactly once: one checkpoint has trail ["one"], written by attempt 1
        after_one = [h for h in history if h["values"].get("trail") == ["one"]]
        assert len(after_one) == 1 and after_one[0]["metadata"]["run_attempt"] == 1, after_one

        # the thread is fully usable: answering the interrupt runs `three`
        done = wait_run(client, thread_id, assistant_id="steps", command={"resume": "answer"})
        assert done["trail"] == ["one", "two", "three"] and done["some_text"] == "answer"
        assert ok(client.get(f"/threads/{thread_id}"))["status"] == "idle"
        assert all(r["status"] == "success" for r in settle(client, server, thread_id))


def test_run_cut_mid_node_by_kill9_is_resumed_on_next_start(tmp_path: Path, markers: Markers) -> None:
    db = tmp_path / "waypost.sqlite"
    thread_id, run_id = _start_steps_run_and_cut_it(db, markers, lambda s: s.kill9())
    _assert_resumed_without_client_action(db, thread_id, run_id)


def test_run_cut_mid_node_by_graceful_stop_is_resumed_on_next_start(tmp_path: Path, markers: Markers) -> None:
    """With no drain grace, SIGTERM stops the running run at once and hands it back to the
    queue; the next start continues it from its last checkpoint."""
    db = tmp_path / "waypost.sqlite"

    def sigterm(server: ServerProcess) -> None:
        t0 = time.monotonic()
        server.stop()
        # uvicorn re-raises the captured SIGTERM after its graceful shutdown, so -15 is a clean
        # exit too; -9 would mean stop() gave up waiting and killed it
        assert server.proc is not None and server.proc.returncode in (0, -signal.SIGTERM), server.log_tail()
        # (the run is held until after the stop, so a stop that waited for it would never end)
        assert time.monotonic() - t0 < 10, "graceful stop waited for the run instead of stopping"

    thread_id, run_id = _start_steps_run_and_cut_it(db, markers, sigterm, "--drain-seconds", "0")
    _assert_resumed_without_client_action(db, thread_id, run_id)


def test_queued_delayed_run_survives_kill9(tmp_path: Path) -> None:
    """A run accepted but not started yet (after_seconds) is not lost by a crash."""
    db = tmp_path / "waypost.sqlite"
    with serving(db) as (server, client):
        thread_id = new_thread(client)
        run = start_run(client, thread_id, assistant_id="agent", input={"some_text": "later"}, after_seconds=2)
        assert ok(client.get(f"/threads/{thread_id}/runs/{run['run_id']}"))["status"] == "pending"
        server.kill9()

    with serving(db) as (server, client):
        output = join(client, server, thread_id, run["run_id"])
        assert [i["value"] for i in output["__interrupt__"]] == [{"text_to_revise": "later"}]
        runs = settle(client, server, thread_id)
        assert [(r["run_id"], r["status"]) for r in runs] == [(run["run_id"], "success")]
        thread = ok(client.get(f"/threads/{thread_id}"))
        assert thread["status"] == "interrupted"
        assert thread["values"] == {"some_text": "later"}
        (items,) = thread["interrupts"].values()
        assert [i["value"] for i in items] == [{"text_to_revise": "later"}]


def test_resume_run_cut_mid_node_is_finished_with_its_answer(tmp_path: Path, markers: Markers) -> None:
    """The answer is claimed when the resume run is created; a crash in the middle of that run
    must neither lose the answer nor apply it twice."""
    db = tmp_path / "waypost.sqlite"
    with serving(db) as (server, client):
        thread_id = new_thread(client)
        # `slow` enters its node and then interrupts; resuming re-enters the node, where the
        # resume run is held before it reaches the answer
        first = wait_run(client, thread_id, assistant_id="slow", input={"some_text": "draft", "delay": 0})
        (intr,) = first["__interrupt__"]
        assert ok(client.get(f"/threads/{thread_id}"))["status"] == "interrupted"
        (first_run,) = runs_of(client, thread_id)
        first_run_id = first_run["run_id"]
        run = start_run(
            client,
            thread_id,
            assistant_id="slow",
            command={"resume": "final"},
            config=markers.config(hold=["slow_node"]),
        )
        markers.wait_sync("slow_node", explain=server.log_tail)
        assert ok(client.get(f"/threads/{thread_id}/runs/{run['run_id']}"))["status"] == "running"
        server.kill9()
    markers.release("slow_node")  # for the run's second attempt, on the next server

    with serving(db) as (server, client):
        assert join(client, server, thread_id, run["run_id"]) == {"some_text": "final", "delay": 0}
        runs = settle(client, server, thread_id)
        assert [r["run_id"] for r in runs] == [run["run_id"], first_run_id], runs  # newest first
        assert all(r["status"] == "success" for r in runs), runs
        thread = ok(client.get(f"/threads/{thread_id}"))
        assert thread["status"] == "idle", thread
        assert thread["values"]["some_text"] == "final"
        assert thread["interrupts"] == {}
        again = client.post(
            f"/threads/{thread_id}/runs/wait",
            json={"assistant_id": "slow", "command": {"resume": {intr["id"]: "twice"}}},
        )
        assert again.status_code == 409, again.text


def test_run_queued_behind_a_cut_off_run_waits_for_it(tmp_path: Path, markers: Markers) -> None:
    db = tmp_path / "waypost.sqlite"
    with serving(db) as (server, client):
        thread_id = new_thread(client)
        first = start_run(
            client, thread_id, assistant_id="steps", input={"some_text": "a"}, config=markers.config(hold=["two"])
        )
        markers.wait_sync("two", explain=server.log_tail)  # the first run is inside `two`, held
        second = start_run(
            client, thread_id, assistant_id="steps", input={"some_text": "b"}, multitask_strategy="enqueue"
        )
        worker_had_its_chance(client)
        statuses = {r["run_id"]: r["status"] for r in runs_of(client, thread_id)}
        assert statuses == {first["run_id"]: "running", second["run_id"]: "pending"}
        server.kill9()
    markers.release("two")  # for the first run's second attempt, on the next server

    with serving(db) as (server, client):
        join(client, server, thread_id, first["run_id"])
        join(client, server, thread_id, second["run_id"])
        runs = settle(client, server, thread_id)
        assert [(r["run_id"], r["status"]) for r in runs] == [
            (second["run_id"], "success"),
            (first["run_id"], "success"),
        ], runs
        history = ok(client.post(f"/threads/{thread_id}/history", json={"limit": 100}))
        owners = [h["metadata"]["run_id"] for h in history]  # newest first
        # every checkpoint of the second run is newer than every checkpoint of the first
        assert owners == sorted(owners, key=lambda rid: rid != second["run_id"]), owners
        assert {h["metadata"]["run_attempt"] for h in history if h["metadata"]["run_id"] == second["run_id"]} == {1}
        thread = ok(client.get(f"/threads/{thread_id}"))
        assert thread["status"] == "interrupted", thread
        assert thread["values"]["some_text"] == "b"
