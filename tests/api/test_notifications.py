"""Plans and notifications from langgraph.json's `waypost` section: an interrupt starts with
its node's assignees and deadline; receivers get signed notifications (JSON or Slack) when a
thread stops, when a deadline nears, and when it is answered, retried from the outbox until
delivered, every attempt in the audit log."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backends import Backend
from tests.polling import eventually
from tests.receivers import Receiver, receiving
from tests.serverproc import ROOT, ServerProcess
from waypost import signing

SECRET = "test-signing-secret-" + uuid.uuid4().hex


def write_config(folder: Path, receiver: Receiver) -> Path:
    """tests/graphs' `agent` and `schema`, planned and watched by `receiver`."""
    config = {
        "dependencies": [str(ROOT)],
        "graphs": {
            "agent": str(ROOT / "examples/seed/graph.py:graph"),
            "schema": str(ROOT / "tests/graphs/schema_graph.py:graph"),
        },
        "waypost": {
            "interrupts": {
                # The reminder is due one second after the interrupt is raised.
                "agent": {"human_node": {"assignees": ["ops"], "deadline": "PT1H", "remind_before": 3599}},
                "schema": {"*": {"assignees": ["reviewers"]}},
            },
            "notifications": [
                {"url": receiver.url("/json")},
                {"url": receiver.url("/flaky"), "events": ["interrupt.answered"]},
                {
                    "url": receiver.url("/slack"),
                    "format": "slack",
                    "events": ["interrupt.pending"],
                    "graphs": ["schema"],
                },
            ],
        },
    }
    path = folder / "langgraph.json"
    path.write_text(json.dumps(config))
    return path


@dataclass
class Planned:
    server: ServerProcess
    receiver: Receiver


@pytest.fixture(scope="module")
async def planned(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> AsyncIterator[Planned]:
    if reason := backend.unavailable():
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp(f"planned-{backend.name}")
    async with receiving() as receiver:
        receiver.failing_paths["/flaky"] = 2  # fails twice, then takes it
        with backend.place(folder) as place:
            server = ServerProcess(
                config=write_config(folder, receiver),
                database_url=place.database_url,
                extra_args=[*place.args, "--public-url", "https://inbox.example.com/"],
                extra_env={"WAYPOST_WEBHOOK_SECRET": SECRET},
                log_path=folder / "waypost.log",
            ).start()
            try:
                yield Planned(server, receiver)
            finally:
                server.stop()


async def _ask(http: httpx.AsyncClient, graph: str) -> dict[str, Any]:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    stopped = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": graph, "input": {"some_text": "x"}})
    assert "__interrupt__" in stopped.json(), stopped.text
    (item,) = (await http.get("/interrupts", params={"thread_id": tid})).json()["interrupts"]
    return item


async def _events(r: Receiver, path: str, interrupt_id: str, n: int = 1, within: float = 10.0) -> list[dict]:
    def about(reqs: list[dict]) -> list[dict]:
        return [q for q in reqs if interrupt_id in q["body"].decode()]

    found = await eventually(
        lambda: r.to(path), lambda reqs: len(about(reqs)) >= n, within=within, what=f"{n} POST(s) to {path}"
    )
    return about(found)


def _verified(request: dict) -> dict[str, Any]:
    header = request["headers"]["x-waypost-signature"]
    assert signing.verify(SECRET, header, request["body"]), header
    assert not signing.verify("another secret", header, request["body"])
    assert not signing.verify(SECRET, header, request["body"] + b" ")
    return json.loads(request["body"])


async def test_an_interrupt_starts_with_its_nodes_plan_and_its_receivers_are_told(planned: Planned) -> None:
    async with httpx.AsyncClient(base_url=planned.server.url) as http:
        item = await _ask(http, "agent")
    assert item["assignees"] == ["ops"] and item["remind_before"] == 3599
    due = datetime.fromisoformat(item["deadline"]) - datetime.fromisoformat(item["created_at"])
    assert due == timedelta(hours=1)
    (pending,) = [
        r
        for r in await _events(planned.receiver, "/json", item["interrupt_id"])
        if r["headers"]["x-waypost-event"] == "interrupt.pending"
    ]
    body = _verified(pending)
    assert body["event"] == "interrupt.pending" and body["interrupt"]["interrupt_id"] == item["interrupt_id"]
    assert body["interrupt"]["assignees"] == ["ops"] and body["summary"] == '{"text_to_revise":"x"}'
    link = f"https://inbox.example.com/inbox#/interrupts/{item['thread_id']}/{item['interrupt_id']}"
    assert body["inbox_url"] == link
    assert uuid.UUID(pending["headers"]["x-waypost-delivery"]) and pending["headers"]["x-waypost-attempt"] == "1"
    # remind_before 3599 s of a 1 h deadline: the reminder is due a second in.
    reminders = await _events(planned.receiver, "/json", item["interrupt_id"], n=2)
    assert [r["headers"]["x-waypost-event"] for r in reminders] == ["interrupt.pending", "interrupt.reminder"]
    assert not await planned.receiver.to("/slack") or all(
        item["interrupt_id"] not in r["body"].decode() for r in await planned.receiver.to("/slack")
    )  # the Slack receiver watches the schema graph only


async def test_a_slack_receiver_gets_the_question_and_a_link(planned: Planned) -> None:
    async with httpx.AsyncClient(base_url=planned.server.url) as http:
        item = await _ask(http, "schema")
    assert item["assignees"] == ["reviewers"] and item["deadline"] is None
    (message,) = await _events(planned.receiver, "/slack", item["interrupt_id"])
    body = _verified(message)
    assert body["text"].startswith('Waiting for an answer: {"draft":"x"}')
    link = f"https://inbox.example.com/inbox#/interrupts/{item['thread_id']}/{item['interrupt_id']}"
    assert body["blocks"][2]["elements"][0]["url"] == link and f"<{link}|" in body["text"]
    assert "for reviewers" in body["blocks"][1]["elements"][0]["text"]


async def test_a_failing_receiver_gets_one_delivery_retried_until_it_takes_it(planned: Planned) -> None:
    async with httpx.AsyncClient(base_url=planned.server.url) as http:
        item = await _ask(http, "agent")
        run = (await http.post(f"/interrupts/{item['interrupt_id']}/answer", json={"value": "done"})).json()
        attempts = await _events(planned.receiver, "/flaky", item["interrupt_id"], n=3)
        assert len({r["headers"]["x-waypost-delivery"] for r in attempts}) == 1
        assert [r["headers"]["x-waypost-attempt"] for r in attempts] == ["1", "2", "3"]
        bodies = [_verified(r) for r in attempts]
        assert bodies[0] == bodies[2]  # the same notification each time
        assert bodies[0]["event"] == "interrupt.answered" and bodies[0]["detail"] == {"answered_by": "anonymous"}
        assert bodies[0]["interrupt"]["answered_by_run"] == run["run_id"]

        async def log() -> list[dict]:
            params = {"interrupt_id": item["interrupt_id"], "event": "notification", "sort_order": "asc"}
            entries = (await http.get("/audit", params=params)).json()["entries"]
            return [e for e in entries if e["detail"]["url"].endswith("/flaky")]

        entries = await eventually(log, lambda es: len(es) == 3, within=10, what="three attempts logged")
    assert [(e["outcome"], e["detail"]["attempt"]) for e in entries] == [
        ("retrying", 1),
        ("retrying", 2),
        ("delivered", 3),
    ]
    assert entries[0]["reason"] == "HTTP 500" and entries[2]["reason"] is None
    assert {e["identity"] for e in entries} == {"system:notifications"}
