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


async def test_a_notification_pending_when_the_server_is_killed_is_delivered_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "waypost.sqlite"
    port = free_port()
    down = Receiver(port=port)  # nothing listens on `port` yet: every attempt fails
    config = write_config(tmp_path, down)
    server = _server(db, config, WAYPOST_WEBHOOK_SECRET=SECRET).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
            tid = (await c.post("/threads", json={})).json()["thread_id"]
            await c.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}})
            (item,) = (await c.get("/interrupts", params={"thread_id": tid})).json()["interrupts"]
            run = (await c.post(f"/interrupts/{item['interrupt_id']}/answer", json={"value": "y"})).json()
            assert run["run_id"]
    finally:
        server.kill9()
    up = Receiver()
    listener = await asyncio.start_server(up.handle, "127.0.0.1", port)
    up.port = port
    again = _server(db, config, WAYPOST_WEBHOOK_SECRET=SECRET).start()
    try:
        answered = await eventually(
            lambda: up.to("/flaky"),
            lambda reqs: any(item["interrupt_id"] in q["body"].decode() for q in reqs),
            within=20,
            what="the answered notification after the restart",
        )
        (request,) = [q for q in answered if item["interrupt_id"] in q["body"].decode()][:1]
        assert signing.verify(SECRET, request["headers"]["x-waypost-signature"], request["body"])
        body = json.loads(request["body"])
        assert body["event"] == "interrupt.answered" and body["interrupt"]["answered_by_run"] == run["run_id"]
    finally:
        again.stop()
        listener.close()
        await listener.wait_closed()
