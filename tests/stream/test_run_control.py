"""Run control: cancel (single, with wait, rollback, bulk, on client disconnect), the four
multitask strategies with two concurrent runs on one thread (PEER-BEHAVIOR §4.10, §4.11),
after_seconds and /runs/batch."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import ConflictError

from tests.stream.helpers import INFLIGHT, raw_events, run_gone, wait_in_node, wait_status

LONG = {"some_text": "long", "delay": 10}


async def _not_busy(client: LangGraphClient, thread_id: str) -> dict:
    thread = await client.threads.get(thread_id)
    assert thread["status"] in ("idle", "interrupted"), thread
    return thread


async def test_cancel_running_node_with_wait(client: LangGraphClient, thread_id: str) -> None:
    run = await client.runs.create(thread_id, "slow", input=LONG)
    rid = run["run_id"]
    await wait_in_node(client, thread_id, rid)

    started = time.monotonic()
    await client.runs.cancel(thread_id, rid, wait=True)
    elapsed = time.monotonic() - started
    assert elapsed < 1.0, f"cancel(wait=True) took {elapsed:.2f}s"

    assert (await client.runs.get(thread_id, rid))["status"] == "interrupted"
    thread = await _not_busy(client, thread_id)
    # the sleeping node never got to its interrupt()
    assert not thread["interrupts"], thread
    # the thread takes new work at once
    result = await client.runs.wait(thread_id, "agent", input={"some_text": "after cancel"})
    assert result["__interrupt__"][0]["value"] == {"text_to_revise": "after cancel"}


async def test_cancel_without_wait_is_202(http: httpx.AsyncClient, client: LangGraphClient, thread_id: str) -> None:
    rid = (await client.runs.create(thread_id, "slow", input=LONG))["run_id"]
    await wait_in_node(client, thread_id, rid)
    resp = await http.post(f"/threads/{thread_id}/runs/{rid}/cancel")
    assert resp.status_code == 202, resp.text
    await wait_status(client, thread_id, rid, "interrupted", within=1.0)
    await _not_busy(client, thread_id)
    # a finished run can't be cancelled again
    again = await http.post(f"/threads/{thread_id}/runs/{rid}/cancel")
    assert again.status_code == 404, again.text


async def test_cancel_with_rollback_deletes_the_run(
    http: httpx.AsyncClient, client: LangGraphClient, thread_id: str
) -> None:
    rid = (await client.runs.create(thread_id, "slow", input=LONG))["run_id"]
    await wait_in_node(client, thread_id, rid)
    await client.runs.cancel(thread_id, rid, wait=True, action="rollback")
    await run_gone(http, thread_id, rid, within=1.0)
    await _not_busy(client, thread_id)


async def test_on_disconnect_cancel(http: httpx.AsyncClient, client: LangGraphClient, thread_id: str) -> None:
    body = {"assistant_id": "slow", "input": LONG, "on_disconnect": "cancel"}
    async with http.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as resp:
        assert resp.status_code == 200
        events = raw_events(resp)
        first = await anext(events)
        assert first.event == "metadata"
        rid = first.data["run_id"]
        await wait_in_node(client, thread_id, rid)
        await events.aclose()
    # the client is gone: the run must stop
    await wait_status(client, thread_id, rid, "interrupted", within=5.0)
    await _not_busy(client, thread_id)


async def test_on_disconnect_continue_is_the_default(
    http: httpx.AsyncClient, client: LangGraphClient, thread_id: str
) -> None:
    body = {"assistant_id": "slow", "input": {"some_text": "goes on", "delay": 0.5}}
    async with http.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as resp:
        events = raw_events(resp)
        first = await anext(events)
        await events.aclose()
    rid = first.data["run_id"]
    run = await wait_status(client, thread_id, rid, ("success", "error", "interrupted"), within=5.0)
    assert run["status"] == "success", run
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "interrupted" and thread["values"]["some_text"] == "goes on", thread


async def test_bulk_cancel(http: httpx.AsyncClient, client: LangGraphClient, thread_id: str) -> None:
    running = (await client.runs.create(thread_id, "slow", input=LONG))["run_id"]
    await wait_in_node(client, thread_id, running)
    queued = (await client.runs.create(thread_id, "slow", input=LONG, multitask_strategy="enqueue"))["run_id"]
    assert (await client.runs.get(thread_id, queued))["status"] == "pending"

    resp = await http.post("/runs/cancel", json={"thread_id": thread_id, "run_ids": [running, queued]})
    assert resp.status_code == 204, resp.text
    assert resp.content == b""
    for rid in (running, queued):
        await wait_status(client, thread_id, rid, "interrupted", within=2.0)
    await _not_busy(client, thread_id)


# ---- multitask strategies: the first run is `slow` (3 s), the second arrives meanwhile ----

FIRST = {"some_text": "first", "delay": 3}
SECOND = {"some_text": "second"}


async def _first_running(client: LangGraphClient, thread_id: str) -> str:
    rid = (await client.runs.create(thread_id, "slow", input=FIRST))["run_id"]
    await wait_in_node(client, thread_id, rid)
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "busy", thread
    return rid


async def test_multitask_reject(http: httpx.AsyncClient, client: LangGraphClient, thread_id: str) -> None:
    first = await _first_running(client, thread_id)
    with pytest.raises(ConflictError):
        await client.runs.create(thread_id, "agent", input=SECOND, multitask_strategy="reject")
    resp = await http.post(
        f"/threads/{thread_id}/runs/stream",
        json={"assistant_id": "agent", "input": SECOND, "multitask_strategy": "reject"},
    )
    assert resp.status_code == 409, resp.text
    assert "already running" in resp.json()["detail"]
    assert len(await client.runs.list(thread_id)) == 1
    assert (await client.runs.get(thread_id, first))["status"] == "running"
    await client.runs.cancel(thread_id, first, wait=True)


async def test_multitask_enqueue(client: LangGraphClient, thread_id: str) -> None:
    first = await _first_running(client, thread_id)
    second = (await client.runs.create(thread_id, "agent", input=SECOND, multitask_strategy="enqueue"))["run_id"]
    assert (await client.runs.get(thread_id, second))["status"] == "pending"

    done: dict[str, float] = {}

    async def join(rid: str) -> dict:
        result = await client.runs.join(thread_id, rid)
        done[rid] = time.monotonic()
        return result

    first_result, second_result = await asyncio.wait_for(asyncio.gather(join(first), join(second)), 15)
    assert first_result["__interrupt__"][0]["value"] == {"text_to_revise": "first"}
    assert second_result["some_text"] == "second"
    assert second_result["__interrupt__"][0]["value"] == {"text_to_revise": "second"}
    assert done[second] >= done[first]
    runs = {r["run_id"]: r for r in await client.runs.list(thread_id)}
    assert runs[first]["status"] == runs[second]["status"] == "success"
    assert runs[second]["updated_at"] > runs[first]["updated_at"]


async def test_multitask_interrupt(client: LangGraphClient, thread_id: str) -> None:
    first = await _first_running(client, thread_id)
    started = time.monotonic()
    second = (await client.runs.create(thread_id, "agent", input=SECOND, multitask_strategy="interrupt"))["run_id"]
    result = await asyncio.wait_for(client.runs.join(thread_id, second), 10)
    assert time.monotonic() - started < 2.0, "the second run waited for the first instead of interrupting it"
    assert result["some_text"] == "second" and result["__interrupt__"][0]["value"] == {"text_to_revise": "second"}
    assert (await client.runs.get(thread_id, first))["status"] == "interrupted"
    assert (await client.runs.get(thread_id, second))["status"] == "success"
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "interrupted" and thread["values"]["some_text"] == "second", thread


async def test_multitask_rollback(http: httpx.AsyncClient, client: LangGraphClient, thread_id: str) -> None:
    first = await _first_running(client, thread_id)
    started = time.monotonic()
    second = (await client.runs.create(thread_id, "agent", input=SECOND, multitask_strategy="rollback"))["run_id"]
    result = await asyncio.wait_for(client.runs.join(thread_id, second), 10)
    assert time.monotonic() - started < 2.0, "the second run waited for the first instead of rolling it back"
    assert result["some_text"] == "second"
    await run_gone(http, thread_id, first, within=2.0)
    assert (await client.runs.get(thread_id, second))["status"] == "success"
    assert [r["run_id"] for r in await client.runs.list(thread_id)] == [second]
    # the first run's checkpoints went with it: no trace of "first" in the history
    history = await client.threads.get_history(thread_id, limit=50)
    assert all(h["values"].get("some_text") != "first" for h in history if h["values"]), history


# ---- after_seconds and batch ----


async def test_after_seconds_delays_the_start(client: LangGraphClient, thread_id: str) -> None:
    created = time.monotonic()
    rid = (await client.runs.create(thread_id, "agent", input={"some_text": "later"}, after_seconds=1))["run_id"]
    # A run queued after it, on a thread of its own, runs to its end. The worker takes runs in
    # queue order, so it has passed over the delayed one by then: pending now means held back.
    control = (await client.threads.create())["thread_id"]
    await client.runs.wait(control, "agent", input={"some_text": "control"})
    assert (await client.runs.get(thread_id, rid))["status"] == "pending"
    result = await asyncio.wait_for(client.runs.join(thread_id, rid), 10)
    elapsed = time.monotonic() - created
    assert 0.9 <= elapsed < 3.0, f"run finished {elapsed:.2f}s after creation"
    assert result["__interrupt__"][0]["value"] == {"text_to_revise": "later"}
    assert (await client.runs.get(thread_id, rid))["status"] == "success"


async def test_batch_creates_stateless_runs(http: httpx.AsyncClient, client: LangGraphClient) -> None:
    body = [{"assistant_id": "agent", "input": {"some_text": f"batch {i}"}, "on_completion": "keep"} for i in range(3)]
    resp = await http.post("/runs/batch", json=body)
    assert resp.status_code == 200, resp.text
    runs = resp.json()
    assert isinstance(runs, list) and len(runs) == 3, runs
    assert len({r["run_id"] for r in runs}) == 3
    assert len({r["thread_id"] for r in runs}) == 3
    for r in runs:
        assert r["status"] in (*INFLIGHT, "success"), r
    for i, r in enumerate(runs):
        done = await wait_status(client, r["thread_id"], r["run_id"], "success", within=5.0)
        assert done["kwargs"]["input"] == {"some_text": f"batch {i}"}
        state = await client.threads.get_state(r["thread_id"])
        assert state["values"] == {"some_text": f"batch {i}"}


async def test_batch_rejects_a_non_array(http: httpx.AsyncClient) -> None:
    resp = await http.post("/runs/batch", json={"assistant_id": "agent"})
    assert resp.status_code == 422, resp.text


async def test_polling_a_starting_run_never_stalls_the_server(http: httpx.AsyncClient) -> None:
    """Clients poll GET /runs/{id} while runs start (the SDKs do it after every stream). A poll
    that lands while the run writes its first checkpoint must not stall the server."""
    slowest = 0.0
    for i in range(30):
        tid = (await http.post("/threads", json={})).json()["thread_id"]
        resp = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "input": {"some_text": str(i)}})
        assert resp.status_code == 200, resp.text
        rid = resp.json()["run_id"]
        while True:
            started = time.monotonic()
            poll = await http.get(f"/threads/{tid}/runs/{rid}")
            took = time.monotonic() - started
            slowest = max(slowest, took)
            assert poll.status_code == 200, f"poll {i}: {poll.status_code} {poll.text} after {took:.2f}s"
            assert took < 2.0, f"poll {i} took {took:.2f}s"
            if poll.json()["status"] not in INFLIGHT:
                break
        assert poll.json()["status"] == "success"


async def test_rollback_gives_back_the_answer_of_the_run_it_stops(
    http: httpx.AsyncClient, client: LangGraphClient, thread_id: str
) -> None:
    """A resume run is rolled back while it works: its answer is undone, so the same
    interrupt can be answered again, and only the second answer reaches the state."""
    first = await client.runs.wait(thread_id, "slow_answer", input={"some_text": "draft", "delay": 3})
    interrupt_id = first["__interrupt__"][0]["id"]
    answering = await client.runs.create(thread_id, "slow_answer", command={"resume": "first answer"})
    await wait_status(client, thread_id, answering["run_id"], "running")
    # without a rollback the interrupt is taken
    taken = await http.post(
        f"/threads/{thread_id}/runs",
        json={"assistant_id": "slow_answer", "command": {"resume": "x"}, "multitask_strategy": "interrupt"},
    )
    assert taken.status_code == 409 and "already answered" in taken.json()["detail"]
    result = await client.runs.wait(
        thread_id, "slow_answer", command={"resume": {interrupt_id: "second answer"}}, multitask_strategy="rollback"
    )
    assert result == {"some_text": "second answer", "delay": 3}
    await run_gone(http, thread_id, answering["run_id"])
    assert (await client.threads.get(thread_id))["values"]["some_text"] == "second answer"
