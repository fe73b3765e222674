"""Who may answer an interrupt and with what: the answer belongs to its interrupt's graph,
null is an answer like any other, and a thread is `interrupted` only when a person is
awaited."""

from __future__ import annotations

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.api.support import assert_error, assert_unchanged, flatten_interrupts, snapshot
from tests.polling import eventually
from tests.stream.helpers import wait_status


async def test_an_answer_through_another_graphs_assistant_is_refused(http: httpx.AsyncClient) -> None:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    first = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}})
    (intr,) = first.json()["__interrupt__"]
    before = await snapshot(http, tid)
    for body in (
        {"assistant_id": "followup", "command": {"resume": "wrong graph"}},
        {"assistant_id": "followup", "command": {"resume": {intr["id"]: "wrong graph"}}},
    ):
        detail = assert_error(await http.post(f"/threads/{tid}/runs/wait", json=body), 409)
        assert "agent" in detail and intr["id"] in detail, detail
        assert_unchanged(before, await snapshot(http, tid))
    ok = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": "right"}})
    assert ok.status_code == 200 and ok.json() == {"some_text": "right"}


async def test_an_answer_through_another_assistant_of_the_same_graph_is_accepted(client: LangGraphClient) -> None:
    other = await client.assistants.create("agent", name="second agent")
    thread = await client.threads.create()
    first = await client.runs.wait(thread["thread_id"], "agent", input={"some_text": "x"})
    assert first["__interrupt__"]
    done = await client.runs.wait(thread["thread_id"], other["assistant_id"], command={"resume": "fine"})
    assert done == {"some_text": "fine"}


async def test_null_is_a_valid_answer(http: httpx.AsyncClient) -> None:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": "x"}})
    resp = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": None}})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"some_text": None}
    thread = (await http.get(f"/threads/{tid}")).json()
    assert (thread["status"], thread["interrupts"], thread["values"]) == ("idle", {}, {"some_text": None})


async def test_null_against_a_response_schema_that_forbids_it_is_422(http: httpx.AsyncClient) -> None:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "schema", "input": {"some_text": "x"}})
    before = await snapshot(http, tid)
    resp = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "schema", "command": {"resume": None}})
    assert "response_schema" in assert_error(resp, 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_null_on_a_thread_with_nothing_pending_is_409(http: httpx.AsyncClient) -> None:
    tid = (await http.post("/threads", json={})).json()["thread_id"]
    before = await snapshot(http, tid)
    resp = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "command": {"resume": None}})
    assert_error(resp, 409)
    assert_unchanged(before, await snapshot(http, tid))


async def test_a_run_cancelled_mid_node_leaves_the_thread_idle(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    run = await client.runs.create(tid, "slow", input={"some_text": "x", "delay": 60})
    await wait_status(client, tid, run["run_id"], "running")
    await client.runs.cancel(tid, run["run_id"])
    await wait_status(client, tid, run["run_id"], "interrupted", within=10)
    thread = await eventually(
        lambda: client.threads.get(tid), lambda t: t["status"] != "busy", what="thread no longer busy"
    )
    assert thread["status"] == "idle", thread
    assert thread["interrupts"] == {}
    waiting = await client.threads.search(status="interrupted", limit=1000)
    assert tid not in [t["thread_id"] for t in waiting]


async def test_a_static_breakpoint_rests_interrupted(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "static_bp", input={"some_text": "bp"})
    thread = await client.threads.get(tid)
    assert (thread["status"], thread["interrupts"]) == ("interrupted", {})
    waiting = await client.threads.search(status="interrupted", limit=1000)
    assert tid in [t["thread_id"] for t in waiting]
    # a queued run cancelled before it starts leaves the breakpoint as it was
    queued = await client.runs.create(tid, "static_bp", after_seconds=3600)
    await client.runs.cancel(tid, queued["run_id"])
    assert (await client.threads.get(tid))["status"] == "interrupted"
    assert await client.runs.wait(tid, "static_bp") == {"some_text": "bp (processed)"}
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_an_interrupted_thread_lists_only_what_waits(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    await client.runs.wait(tid, "agent", input={"some_text": "x"})
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted" and len(flatten_interrupts(thread)) == 1
    await client.runs.wait(tid, "agent", command={"resume": "y"})
    thread = await client.threads.get(tid)
    assert (thread["status"], thread["interrupts"]) == ("idle", {})
