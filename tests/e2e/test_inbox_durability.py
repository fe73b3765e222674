"""What the inbox promises across process deaths, on one SQLite file: a deadline set before a
stop fires after the restart, and a notification whose receiver was down when the server was
killed is delivered by the next server."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from tests.api.test_notifications import SECRET, write_config
from tests.polling import eventually, eventually_sync
from tests.receivers import Receiver
from tests.serverproc import TEST_GRAPHS_CONFIG, ServerProcess, free_port
from waypost import signing

pytestmark = pytest.mark.slow


def _iso_in(seconds: float) -> str:
    t = time.time() + seconds
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}+00:00"


def _server(db: Path, config: Path = TEST_GRAPHS_CONFIG, **env: str) -> ServerProcess:
    return ServerProcess(config=config, database_url=f"sqlite:///{db}", log_path=db.with_suffix(".log"), extra_env=env)


def test_a_deadline_set_before_a_stop_fires_after_the_restart(tmp_path: Path) -> None:
    db = tmp_path / "waypost.sqlite"
    server = _server(db).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            tid = c.post("/threads", json={}).json()["thread_id"]
            c.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}})
            (item,) = c.get("/interrupts", params={"thread_id": tid}).json()["interrupts"]
            plan = {"deadline": _iso_in(3), "on_deadline": {"action": "expire"}}
            assert c.patch(f"/interrupts/{item['interrupt_id']}", json=plan).status_code == 200
    finally:
        server.stop()
    time.sleep(3.5)  # the deadline passes while no server runs
    again = _server(db).start()
    try:
        with httpx.Client(base_url=again.url, timeout=30) as c:
            started = time.monotonic()
            eventually_sync(
                lambda: c.get(f"/interrupts/{item['interrupt_id']}").json()["status"],
                lambda s: s == "expired",
                within=10,
                what="the missed deadline firing after the restart",
            )
            assert time.monotonic() - started < 2.0  # within about a second of starting
            assert c.get(f"/threads/{tid}").json()["status"] == "idle"
    finally:
        again.stop()


async def test_a_notification_being_sent_when_the_server_is_killed_is_delivered_after_restart(
    tmp_path: Path,
) -> None:
    """The crash lands mid-attempt: the receiver took the connection and has not answered when
    the server is killed. The notification was written in the answer's transaction, so the
    next server has it; the attempt the dead server held is over, so it goes out at once."""
    db = tmp_path / "waypost.sqlite"
    port = free_port()
    config = write_config(tmp_path, Receiver(port=port))
    attempts: list[bytearray] = []

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received = bytearray()
        attempts.append(received)
        while chunk := await reader.read(65536):  # the request arrives; no answer ever goes back
            received += chunk

    hanging = await asyncio.start_server(hang, "127.0.0.1", port)
    server = _server(db, config, WAYPOST_WEBHOOK_SECRET=SECRET).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            tid = (await c.post("/threads", json={})).json()["thread_id"]
            await c.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}})
            (item,) = (await c.get("/interrupts", params={"thread_id": tid})).json()["interrupts"]
            run = (await c.post(f"/interrupts/{item['interrupt_id']}/answer", json={"value": "y"})).json()
            assert run["run_id"]
        await eventually(
            lambda: _sent(attempts, "/flaky", item["interrupt_id"]),
            bool,
            within=10,
            what="the answered notification's first attempt, hanging",
        )
    finally:
        server.kill9()
        hanging.close()
        await hanging.wait_closed()
    up = Receiver()
    listener = await asyncio.start_server(up.handle, "127.0.0.1", port)
    up.port = port
    again = _server(db, config, WAYPOST_WEBHOOK_SECRET=SECRET).start()
    try:
        answered = await eventually(
            lambda: up.to("/flaky"),
            lambda reqs: any(item["interrupt_id"] in q["body"].decode() for q in reqs),
            within=10,
            what="the answered notification after the restart",
        )
        (request,) = [q for q in answered if item["interrupt_id"] in q["body"].decode()][:1]
        assert signing.verify(SECRET, request["headers"]["x-waypost-signature"], request["body"])
        assert request["headers"]["x-waypost-attempt"] == "2"  # the killed server's was the first
        body = json.loads(request["body"])
        assert body["event"] == "interrupt.answered" and body["interrupt"]["answered_by_run"] == run["run_id"]
    finally:
        again.stop()
        listener.close()
        await listener.wait_closed()


async def _sent(attempts: list[bytearray], path: str, interrupt_id: str) -> bool:
    return any(a.startswith(f"POST {path} ".encode()) and interrupt_id.encode() in a for a in attempts)
