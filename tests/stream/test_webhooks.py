"""Webhooks: a real HTTP receiver on a local port gets the finished run, with a retry after
a failed delivery; a dead receiver changes nothing else."""

from __future__ import annotations

import asyncio
import json

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.polling import eventually, stays
from tests.receivers import Receiver
from tests.serverproc import free_port
from tests.stream.helpers import wait_status
from waypost.worker.delivery import RETRY_AFTER_S


async def _requests(r: Receiver, n: int, within: float = 10.0) -> list[dict]:
    return await eventually(r.received, lambda reqs: len(reqs) >= n, within=within, what=f"{n} webhook POSTs")


async def test_webhook_is_retried_after_a_failure(receiver: Receiver, client: LangGraphClient, thread_id: str) -> None:
    run = await client.runs.create(thread_id, "agent", input={"some_text": "hooked"}, webhook=receiver.url())
    first, second = (await _requests(receiver, 2))[:2]

    for req in (first, second):
        assert req["method"] == "POST" and req["path"] == "/hook", req
        assert req["headers"].get("content-type", "").startswith("application/json"), req["headers"]
    payload = json.loads(second["body"])
    assert payload["run_id"] == run["run_id"]
    assert payload["thread_id"] == thread_id
    assert payload["status"] == "success"
    assert payload["values"]["some_text"] == "hooked"
    (item,) = payload["values"]["__interrupt__"]
    assert item["value"] == {"text_to_revise": "hooked"}
    for key in ("run_started_at", "run_ended_at", "webhook_sent_at", "assistant_id", "created_at", "kwargs"):
        assert key in payload, (key, payload)
    assert payload["kwargs"]["webhook"] == receiver.url()
    # the retry carries the same run
    retried = json.loads(first["body"])
    assert {k: v for k, v in retried.items() if k != "webhook_sent_at"} == {
        k: v for k, v in payload.items() if k != "webhook_sent_at"
    }

    # one delivery, attempted twice: the receiver can tell a retry by its delivery id
    assert first["headers"]["x-waypost-delivery"] == second["headers"]["x-waypost-delivery"]
    assert (first["headers"]["x-waypost-attempt"], second["headers"]["x-waypost-attempt"]) == ("1", "2")
    assert first["headers"]["x-waypost-event"] == "run.ended"
    # delivered: no further attempts. Nothing announces that the sender is done, so watch for
    # the third attempt a sender that ignored the 200 would make, RETRY_AFTER_S[1] after the
    # second (give it half a second more to arrive).
    await stays(
        receiver.received,
        lambda reqs: len(reqs) == 2,
        during=RETRY_AFTER_S[1] + 0.5,
        what="two webhook POSTs and no third",
    )
    assert (await client.runs.get(thread_id, run["run_id"]))["status"] == "success"


async def test_a_redirect_is_not_a_delivery(receiver: Receiver, client: LangGraphClient, thread_id: str) -> None:
    """A webhook is delivered by a 2xx only. A 3xx is not followed (the URL policy checked the
    address the run gave, not where a redirect points) and the delivery is tried again."""
    receiver.failure = b"302 Found\r\nLocation: " + receiver.url("/elsewhere").encode()
    await client.runs.create(thread_id, "agent", input={"some_text": "moved"}, webhook=receiver.url("/moved"))
    first, second = (await _requests(receiver, 2))[:2]
    assert (first["path"], second["path"]) == ("/moved", "/moved")  # the redirect was not followed
    assert (first["headers"]["x-waypost-attempt"], second["headers"]["x-waypost-attempt"]) == ("1", "2")


async def test_webhook_for_a_failed_run(receiver: Receiver, client: LangGraphClient, thread_id: str) -> None:
    receiver.failures = 0
    run = await client.runs.create(thread_id, "failing", input={"some_text": "x"}, webhook=receiver.url("/failed"))
    (req,) = (await _requests(receiver, 1))[:1]
    payload = json.loads(req["body"])
    assert req["path"] == "/failed"
    assert payload["run_id"] == run["run_id"] and payload["status"] == "error", payload
    assert payload["error"] == {"error": "ValueError", "message": "boom"}, payload


async def test_webhook_to_a_dead_port_changes_nothing(
    http: httpx.AsyncClient, client: LangGraphClient, thread_id: str
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"
    run = await client.runs.create(thread_id, "agent", input={"some_text": "no one listens"}, webhook=dead)
    result = await asyncio.wait_for(client.runs.join(thread_id, run["run_id"]), 10)
    assert result["some_text"] == "no one listens"
    assert result["__interrupt__"][0]["value"] == {"text_to_revise": "no one listens"}
    await wait_status(client, thread_id, run["run_id"], "success")
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "interrupted", thread
    # the server is fine and the thread takes the answer
    assert (await http.get("/ok")).status_code == 200
    resumed = await client.runs.wait(thread_id, "agent", command={"resume": "answered"})
    assert resumed == {"some_text": "answered"}


async def test_webhook_must_be_a_url(http: httpx.AsyncClient, thread_id: str) -> None:
    resp = await http.post(
        f"/threads/{thread_id}/runs",
        json={"assistant_id": "agent", "input": {"some_text": "x"}, "webhook": "nope"},
    )
    assert resp.status_code == 422, resp.text
