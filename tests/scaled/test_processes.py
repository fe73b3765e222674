"""Scaled mode with real processes on one PostgreSQL and one Redis: several API processes and
workers behind no load balancer at all (the tests spread requests over them by hand).

What must hold across processes: one answer wins among concurrent ones; a run executing in
one process streams to a client of another and replays from a third; a worker killed with
kill -9 has its run finished by another from its last checkpoint, without re-running what was
done; SIGTERM drains; losing Redis cuts live streams only; processes starting together on an
empty database migrate it once.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from langgraph_sdk import get_client

from tests.backends import POSTGRES, Placement
from tests.markers import Markers
from tests.polling import eventually, eventually_sync
from tests.serverproc import TEST_GRAPHS_CONFIG, ServerProcess, WorkerProcess
from tests.storage import factories as f
from tests.tcpproxy import TcpProxy
from waypost.storage import open_storage

pytestmark = pytest.mark.slow

# Short leases so a killed worker's runs are taken over quickly; the test still allows
# several times that.
LEASE = ["--lease-seconds", "3"]
AGENT = "fe096781-5601-53d2-b2f6-0d3403f7e9ca"  # the system assistant of the graph "agent"


@pytest.fixture
def place(tmp_path: Path) -> Iterator[Placement]:
    if reason := POSTGRES.unavailable():
        pytest.skip(reason)
    with POSTGRES.place(tmp_path) as placement:
        yield placement


class Cluster:
    """The processes of one test, stopped (by PID) when it ends."""

    def __init__(self, place: Placement, folder: Path) -> None:
        self.place = place
        self.folder = folder
        self.processes: list[ServerProcess | WorkerProcess] = []

    def _args(self, *extra: str) -> list[str]:
        return [*self.place.args, "--log-format", "json", *extra]

    def api(self, *extra: str, start: bool = True) -> ServerProcess:
        proc = ServerProcess(
            config=TEST_GRAPHS_CONFIG,
            database_url=self.place.database_url,
            extra_args=self._args(*extra),
            extra_env={"WAYPOST_LOG_LEVEL": "debug"},
            log_path=self.folder / f"p{len(self.processes)}.log",
        )
        self.processes.append(proc)
        return proc.start() if start else proc

    def worker(self, *extra: str) -> WorkerProcess:
        proc = WorkerProcess(
            config=TEST_GRAPHS_CONFIG,
            database_url=self.place.database_url,
            extra_args=self._args(*extra),
            extra_env={"WAYPOST_LOG_LEVEL": "debug"},
            log_path=self.folder / f"p{len(self.processes)}.log",
        )
        self.processes.append(proc)
        return proc.start()

    def holder(self, run_id: str) -> ServerProcess | WorkerProcess:
        """The process whose worker claimed the run last (its JSON log says so)."""
        last: tuple[float, ServerProcess | WorkerProcess] | None = None
        for proc in self.processes:
            for entry in _log_entries(proc):
                if entry.get("run_id") == run_id and entry["message"].endswith("claimed"):
                    when = entry["time"]
                    if last is None or when > last[0]:
                        last = (when, proc)
        assert last is not None, f"nobody claimed {run_id}"
        return last[1]

    def stop(self) -> None:
        for proc in self.processes:
            proc.stop()


def _log_entries(proc: ServerProcess | WorkerProcess) -> list[dict[str, Any]]:
    text = proc.log_path.read_text(errors="replace") if proc.log_path and proc.log_path.exists() else ""
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def cluster(place: Placement, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(place, tmp_path)
    try:
        yield c
    finally:
        c.stop()


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}"
    return resp.json()


def test_processes_starting_together_on_an_empty_database_migrate_it_once(cluster: Cluster) -> None:
    procs = [cluster.api(start=False) for _ in range(3)]
    for proc in procs:  # all launched before any is ready
        assert proc.log_path is not None
        proc.proc = subprocess.Popen(
            proc.argv,
            env=proc.env,
            stdout=proc.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    for proc in procs:
        proc.wait_ready()
        assert _ok(httpx.get(f"{proc.url}/ok", params={"check_db": 1})) == {"ok": True}
    with psycopg.connect(cluster.place.database_url) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM waypost_migrations ORDER BY name")]
    assert names and len(names) == len(set(names)), names
    thread = _ok(httpx.post(f"{procs[0].url}/threads", json={}))
    assert _ok(httpx.get(f"{procs[2].url}/threads/{thread['thread_id']}"))["thread_id"] == thread["thread_id"]


async def test_twenty_answers_over_three_processes_one_wins(cluster: Cluster, tmp_path: Path) -> None:
    apis = [cluster.api(), cluster.api("--no-worker"), cluster.api("--no-worker")]
    ledger = tmp_path / "ledger"
    async with httpx.AsyncClient(timeout=60) as http:
        tid = (await http.post(f"{apis[0].url}/threads", json={})).json()["thread_id"]
        body = {"assistant_id": "ledger", "input": {"some_text": "x", "ledger": str(ledger)}}
        first = _ok(await http.post(f"{apis[1].url}/threads/{tid}/runs/wait", json=body))
        (intr,) = first["__interrupt__"]

        async def answer(i: int) -> int:
            url = f"{apis[i % 3].url}/threads/{tid}/runs/wait"
            resp = await http.post(url, json={"assistant_id": "ledger", "command": {"resume": f"answer {i}"}})
            return resp.status_code

        statuses = await asyncio.gather(*(answer(i) for i in range(20)))
    assert sorted(statuses) == [200] + [409] * 19, statuses
    assert len(ledger.read_text().splitlines()) == 1  # applied once
    assert intr["id"]


async def test_a_run_in_a_worker_streams_to_another_process_and_replays_from_a_third(
    cluster: Cluster, markers: Markers
) -> None:
    first, third = cluster.api("--no-worker"), cluster.api("--no-worker")
    cluster.worker()
    a, c = get_client(url=first.url, api_key=None), get_client(url=third.url, api_key=None)
    try:
        thread = await a.threads.create()
        tid = thread["thread_id"]
        seen: list[Any] = []
        run_id = None
        async for part in a.runs.stream(
            tid,
            "steps",
            input={"some_text": "x"},
            stream_mode=["values", "updates"],
            stream_resumable=True,
            config=markers.config(hold=["two"]),
        ):
            seen.append(part)
            if part.event == "metadata":
                run_id = part.data["run_id"]
            if part.event == "updates" and "one" in part.data:
                break  # leave mid-run, after node one's update
        assert run_id is not None
        await markers.wait("two")
        markers.release("two")
        rest = [p async for p in c.runs.join_stream(tid, run_id, last_event_id="0")]
        events = [p.event for p in rest]
        assert "values" in events and events.count("updates") >= 2, events
        final = [p.data for p in rest if p.event == "values"][-1]
        assert final["trail"] == ["one", "two"] and final["__interrupt__"]
        assert (await c.runs.get(tid, run_id))["status"] == "success"
    finally:
        await a.aclose()
        await c.aclose()


def test_a_killed_workers_run_is_finished_by_another_from_its_last_checkpoint(
    cluster: Cluster, markers: Markers
) -> None:
    api = cluster.api("--no-worker")
    cluster.worker(*LEASE)
    cluster.worker(*LEASE)
    with httpx.Client(base_url=api.url, timeout=60) as http:
        tid = _ok(http.post("/threads", json={}))["thread_id"]
        run = _ok(
            http.post(
                f"/threads/{tid}/runs",
                json={
                    "assistant_id": "steps",
                    "input": {"some_text": "x"},
                    "config": markers.config(hold=["two"]),
                    "stream_resumable": True,
                },
            )
        )
        markers.wait_sync("two")
        victim = cluster.holder(run["run_id"])
        victim.kill9()
        killed_at = time.monotonic()
        markers.release("two")  # the next attempt passes `two` at once
        output = _ok(http.get(f"/threads/{tid}/runs/{run['run_id']}/join"))
        took = time.monotonic() - killed_at
        assert output["trail"] == ["one", "two"], output
        assert cluster.holder(run["run_id"]) is not victim
        assert took < 10, f"takeover took {took:.1f}s"
        history = _ok(http.post(f"/threads/{tid}/history", json={"limit": 50}))
        after_one = [h for h in history if h["values"].get("trail") == ["one"]]
        assert len(after_one) == 1 and after_one[0]["metadata"]["run_attempt"] == 1, "node one ran again"
        assert max(h["metadata"].get("run_attempt", 0) for h in history) == 2
        # Its stream, replayed from the start: each attempt opens with its metadata event.
        replay = http.get(f"/threads/{tid}/runs/{run['run_id']}/stream", headers={"Last-Event-ID": "0"})
        metadata = [json.loads(line[len("data: ") :]) for line in _event_data(replay.text, "metadata")]
        assert metadata == [{"run_id": run["run_id"], "attempt": 1}, {"run_id": run["run_id"], "attempt": 2}]


def _event_data(sse: str, event: str) -> list[str]:
    """The data lines of the events named `event` in an SSE body."""
    out = []
    for block in sse.replace("\r\n", "\n").split("\n\n"):
        lines = block.split("\n")
        if f"event: {event}" in lines:
            out += [line for line in lines if line.startswith("data: ")]
    return out


def test_sigterm_lets_a_running_run_finish_within_the_grace(cluster: Cluster, markers: Markers) -> None:
    api = cluster.api("--no-worker")
    worker = cluster.worker("--drain-seconds", "20")
    with httpx.Client(base_url=api.url, timeout=60) as http:
        tid = _ok(http.post("/threads", json={}))["thread_id"]
        run = _ok(
            http.post(
                f"/threads/{tid}/runs",
                json={"assistant_id": "steps", "input": {"some_text": "x"}, "config": markers.config(hold=["two"])},
            )
        )
        markers.wait_sync("two")
        assert worker.proc is not None
        worker.proc.terminate()
        eventually_sync(
            lambda: any(e["message"].startswith("draining") for e in _log_entries(worker)) or worker.proc.poll(),
            bool,
            what="the worker starting to drain",
        )
        assert worker.proc.poll() is None, "the worker left without waiting for its run"
        markers.release("two")
        assert worker.proc.wait(timeout=20) in (0, -15)
        got = _ok(http.get(f"/threads/{tid}/runs/{run['run_id']}"))
        assert got["status"] == "success", got


def test_sigterm_without_grace_hands_the_run_to_another_worker_at_once(cluster: Cluster, markers: Markers) -> None:
    api = cluster.api("--no-worker")
    cluster.worker("--drain-seconds", "0", "--lease-seconds", "60")
    with httpx.Client(base_url=api.url, timeout=60) as http:
        tid = _ok(http.post("/threads", json={}))["thread_id"]
        run = _ok(
            http.post(
                f"/threads/{tid}/runs",
                json={"assistant_id": "steps", "input": {"some_text": "x"}, "config": markers.config(hold=["two"])},
            )
        )
        markers.wait_sync("two")
        first = cluster.holder(run["run_id"])
        cluster.worker("--lease-seconds", "60")
        markers.release("two")
        first.stop()  # handed back: the other worker needs no lease to lapse (60 s here)
        output = _ok(http.get(f"/threads/{tid}/runs/{run['run_id']}/join"))
        assert output["trail"] == ["one", "two"]
        assert cluster.holder(run["run_id"]) is not first


async def test_losing_redis_ends_live_streams_only(cluster: Cluster, markers: Markers) -> None:
    redis_url = os.environ["WAYPOST_TEST_REDIS_URL"]
    target = urlsplit(redis_url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379).open()
    try:
        proxied = redis_url.replace(target.netloc, f"127.0.0.1:{proxy.port}", 1)
        args = [a if a != redis_url else proxied for a in cluster.place.args]
        cluster.place = Placement(cluster.place.database_url, args)
        api = cluster.api()
        sdk = get_client(url=api.url, api_key=None)
        try:
            tid = (await sdk.threads.create())["thread_id"]
            events: list[str] = []
            stream = sdk.runs.stream(tid, "steps", input={"some_text": "x"}, config=markers.config(hold=["two"]))
            async for part in stream:
                events.append(part.event)
                if part.event == "metadata":
                    run_id = part.data["run_id"]
                    await markers.wait("two")
                    proxy.cut()
                    markers.release("two")
            assert events[-1] == "error", events
            # the run and its interrupt are intact, read from storage
            output = await sdk.runs.join(tid, run_id)
            assert output["trail"] == ["one", "two"] and output["__interrupt__"]
            done = await sdk.runs.wait(tid, "steps", command={"resume": "still answerable"})
            assert done["some_text"] == "still answerable"

            async def ok() -> int:
                return (await sdk.http.client.get("/ok", params={"check_db": 1})).status_code

            assert await eventually(ok, lambda s: s == 503, what="/ok?check_db naming the broker down") == 503
        finally:
            await sdk.aclose()
    finally:
        proxy.close()


def test_a_cancel_reaches_the_worker_in_another_process_at_once(cluster: Cluster, markers: Markers) -> None:
    """The cancel is stored, and the holder is told through Redis: with a 60 s lease its
    heartbeat would only see it after 20 s."""
    api = cluster.api("--no-worker")
    cluster.worker("--lease-seconds", "60")
    with httpx.Client(base_url=api.url, timeout=60) as http:
        tid = _ok(http.post("/threads", json={}))["thread_id"]
        run = _ok(
            http.post(
                f"/threads/{tid}/runs",
                json={"assistant_id": "steps", "input": {"some_text": "x"}, "config": markers.config(hold=["two"])},
            )
        )
        markers.wait_sync("two")
        asked = time.monotonic()
        assert http.post(f"/threads/{tid}/runs/{run['run_id']}/cancel").status_code == 202
        eventually_sync(
            lambda: _ok(http.get(f"/threads/{tid}/runs/{run['run_id']}"))["status"],
            lambda s: s == "interrupted",
            within=10,
            what="the run interrupted",
        )
        assert time.monotonic() - asked < 10
        assert _ok(http.get(f"/threads/{tid}"))["status"] == "idle"


def test_deadlines_fire_once_with_two_processes(cluster: Cluster) -> None:
    """Twenty interrupts whose deadlines pass at the same moment, seen by two processes'
    schedulers: each is answered by its deadline once (one run each, one log entry each)."""
    a, b = cluster.api(), cluster.api()
    due = time.time() + 2.0
    deadline = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(due)) + f".{int(due % 1 * 1e6):06d}+00:00"
    threads = []
    with httpx.Client(base_url=a.url, timeout=30) as ca, httpx.Client(base_url=b.url, timeout=30) as cb:
        for n in range(20):
            c = (ca, cb)[n % 2]
            tid = _ok(c.post("/threads", json={}))["thread_id"]
            _ok(c.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": str(n)}}))
            (item,) = _ok(c.get("/interrupts", params={"thread_id": tid}))["interrupts"]
            plan = {"deadline": deadline, "on_deadline": {"action": "resume", "value": f"default {n}"}}
            _ok(c.patch(f"/interrupts/{item['interrupt_id']}", json=plan))
            threads.append((tid, item["interrupt_id"], n))

        def answered() -> int:
            return sum(_ok(ca.get(f"/interrupts/{iid}"))["status"] == "answered" for _, iid, _ in threads)

        eventually_sync(answered, lambda k: k == 20, within=20, what="every deadline answering")
        for tid, iid, n in threads:
            runs = _ok(cb.get(f"/threads/{tid}/runs", params={"limit": 10}))
            assert len(runs) == 2, runs  # the one that asked, and the deadline's answer
            eventually_sync(
                lambda tid=tid: _ok(ca.get(f"/threads/{tid}"))["values"],
                lambda v, n=n: v == {"some_text": f"default {n}"},
                within=20,
                what="the default answer applied",
            )
            history = _ok(ca.get(f"/interrupts/{iid}/history"))["entries"]
            fired = [(e["event"], e["outcome"]) for e in history if e["identity"] == "system:deadline"]
            assert fired == [("answer", "applied"), ("deadline", "resumed")], history


async def test_a_run_queued_without_a_notice_is_still_claimed(cluster: Cluster) -> None:
    """A lost notice (here: a run written straight into storage, long due, no NOTIFY) delays
    a run by the workers' fallback poll, never forever."""
    cluster.worker()
    api = cluster.api("--no-worker")
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        tid = _ok(await http.post("/threads", json={}))["thread_id"]
        # A delayed run first: the scheduler wakes the worker for it, and from then on looks
        # only at runs due after it, so what follows is found by the poll alone.
        body = {"assistant_id": "agent", "input": {"some_text": "delayed"}, "after_seconds": 1}
        delayed = _ok(await http.post(f"/threads/{tid}/runs", json=body))
        _ok(await http.get(f"/threads/{tid}/runs/{delayed['run_id']}/join"))
        run = f.run(
            tid,
            assistant_id=AGENT,
            available_at=f.ts(-3600),
            kwargs={"input": {"some_text": "unannounced"}, "stream_mode": ["values"], "config": {}, "context": {}},
        )
        async with open_storage(cluster.place.database_url) as storage:
            async with storage.transaction() as tx:
                await tx.insert_run(run)

        async def status() -> str:
            return _ok(await http.get(f"/threads/{tid}/runs/{run.run_id}"))["status"]

        await eventually(status, lambda s: s == "success", within=15, what="the unannounced run done")
        joined = _ok(await http.get(f"/threads/{tid}/runs/{run.run_id}/join"))
        assert joined["__interrupt__"][0]["value"] == {"text_to_revise": "unannounced"}
