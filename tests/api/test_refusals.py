"""Bad answers and bad requests are refused up front and change nothing.

Each refusal is checked against a before/after snapshot of the thread row, its state and
its run list: same run count, same checkpoint, same status, byte for byte.
"""

from __future__ import annotations

import uuid

import httpx
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import Command

from tests.api.support import UNKNOWN_THREAD, assert_error, assert_unchanged, snapshot
from tests.markers import Markers


async def new_thread(http: httpx.AsyncClient) -> str:
    r = await http.post("/threads", json={})
    assert r.status_code == 200, r.text
    return r.json()["thread_id"]


async def wait_run(http: httpx.AsyncClient, tid: str, body: dict) -> httpx.Response:
    return await http.post(f"/threads/{tid}/runs/wait", json=body)


async def interrupted(http: httpx.AsyncClient, graph: str, text: str = "t") -> tuple[str, dict]:
    tid = await new_thread(http)
    r = await wait_run(http, tid, {"assistant_id": graph, "input": {"some_text": text}})
    assert r.status_code == 200, r.text
    assert r.json()["__interrupt__"], r.json()
    return tid, r.json()


# --- resume refusals -----------------------------------------------------------------------


async def test_resume_on_fresh_thread_is_409(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    before = await snapshot(http, tid)
    r = await wait_run(http, tid, {"assistant_id": "agent", "command": {"resume": "Edited text"}})
    detail = assert_error(r, 409)
    assert "no pending interrupt" in detail
    after = await snapshot(http, tid)
    assert_unchanged(before, after)
    assert after["thread"]["status"] == "idle" and after["runs"] == []


async def test_resume_on_fresh_thread_is_409_through_sdk(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    try:
        await client.runs.wait(thread["thread_id"], "agent", command=Command(resume="x"))
    except httpx.HTTPStatusError as exc:
        assert exc.response.status_code == 409
    else:
        raise AssertionError("resume on a fresh thread was accepted")
    assert await client.runs.list(thread["thread_id"]) == []


async def test_resume_after_answer_is_409_already_answered(http: httpx.AsyncClient) -> None:
    tid, first = await interrupted(http, "agent")
    interrupt_id = first["__interrupt__"][0]["id"]
    r = await wait_run(http, tid, {"assistant_id": "agent", "command": {"resume": "E1"}})
    assert r.status_code == 200 and r.json() == {"some_text": "E1"}

    before = await snapshot(http, tid)
    for resume in ("E2", {interrupt_id: "E2"}):
        r = await wait_run(http, tid, {"assistant_id": "agent", "command": {"resume": resume}})
        detail = assert_error(r, 409)
        assert detail == f"interrupt {interrupt_id} already answered"
    after = await snapshot(http, tid)
    assert_unchanged(before, after)
    assert after["thread"]["values"] == {"some_text": "E1"} and len(after["runs"]) == 2


async def test_scalar_resume_with_two_pending_is_409_naming_both(http: httpx.AsyncClient) -> None:
    tid, first = await interrupted(http, "parallel", "p")
    ids = [i["id"] for i in first["__interrupt__"]]
    assert len(ids) == 2
    before = await snapshot(http, tid)
    r = await wait_run(http, tid, {"assistant_id": "parallel", "command": {"resume": "x"}})
    detail = assert_error(r, 409)
    for interrupt_id in ids:
        assert interrupt_id in detail
    after = await snapshot(http, tid)
    assert_unchanged(before, after)
    assert after["thread"]["status"] == "interrupted" and len(after["runs"]) == 1


async def test_resume_map_with_unknown_id_is_409(http: httpx.AsyncClient) -> None:
    tid, first = await interrupted(http, "agent")
    unknown = uuid.uuid4().hex
    before = await snapshot(http, tid)
    r = await wait_run(http, tid, {"assistant_id": "agent", "command": {"resume": {unknown: "x"}}})
    detail = assert_error(r, 409)
    assert unknown in detail
    # A map that names the pending one AND an unknown one is refused as a whole.
    known = first["__interrupt__"][0]["id"]
    r = await wait_run(http, tid, {"assistant_id": "agent", "command": {"resume": {known: "x", unknown: "y"}}})
    assert unknown in assert_error(r, 409)
    assert_unchanged(before, await snapshot(http, tid))
    # The real interrupt is still answerable.
    r = await wait_run(http, tid, {"assistant_id": "agent", "command": {"resume": {known: "fine"}}})
    assert r.status_code == 200 and r.json() == {"some_text": "fine"}


async def test_resume_violating_response_schema_is_422_then_valid_works(http: httpx.AsyncClient) -> None:
    tid, first = await interrupted(http, "schema", "draft")
    [item] = first["__interrupt__"]
    before = await snapshot(http, tid)
    r = await wait_run(http, tid, {"assistant_id": "schema", "command": {"resume": {"approved": "yes"}}})
    detail = assert_error(r, 422)
    assert item["id"] in detail
    assert "'yes' is not of type 'boolean'" in detail
    assert "approved" in detail
    # Missing the required key, extra key, and a map form of the same violation.
    for bad in ({"note": "n"}, {"approved": True, "extra": 1}, "yes"):
        r = await wait_run(http, tid, {"assistant_id": "schema", "command": {"resume": bad}})
        assert_error(r, 422)
    r = await wait_run(http, tid, {"assistant_id": "schema", "command": {"resume": {item["id"]: {"approved": 1}}}})
    assert "is not of type 'boolean'" in assert_error(r, 422)
    assert_unchanged(before, await snapshot(http, tid))

    r = await wait_run(http, tid, {"assistant_id": "schema", "command": {"resume": {"approved": True}}})
    assert r.status_code == 200, r.text
    assert r.json() == {"some_text": "draft approved=True"}
    thread = (await http.get(f"/threads/{tid}")).json()
    assert thread["status"] == "idle" and thread["interrupts"] == {}


async def test_partial_map_on_parallel_then_the_other(http: httpx.AsyncClient) -> None:
    tid, first = await interrupted(http, "parallel", "p")
    by_branch = {i["value"]["branch"]: i for i in first["__interrupt__"]}
    left, right = by_branch["left"], by_branch["right"]

    r = await wait_run(http, tid, {"assistant_id": "parallel", "command": {"resume": {left["id"]: "L"}}})
    assert r.status_code == 200, r.text
    partial = r.json()
    assert partial["some_text"] == "p"
    assert "answers" in partial
    assert partial["__interrupt__"] == [right]
    thread = (await http.get(f"/threads/{tid}")).json()
    assert thread["status"] == "interrupted"
    assert [i["id"] for items in thread["interrupts"].values() for i in items] == [right["id"]]

    # The answered one can't be answered again; the other one can.
    r = await wait_run(http, tid, {"assistant_id": "parallel", "command": {"resume": {left["id"]: "L2"}}})
    assert assert_error(r, 409) == f"interrupt {left['id']} already answered"

    r = await wait_run(http, tid, {"assistant_id": "parallel", "command": {"resume": {right["id"]: "R"}}})
    assert r.status_code == 200, r.text
    done = r.json()
    assert "__interrupt__" not in done
    assert done["some_text"] == "p"
    assert sorted(done["answers"]) == ["left:L", "right:R"]
    thread = (await http.get(f"/threads/{tid}")).json()
    assert thread["status"] == "idle" and thread["interrupts"] == {}


# --- malformed and unknown ------------------------------------------------------------------


async def test_malformed_json_is_422(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    before = await snapshot(http, tid)
    for path in ("/threads", f"/threads/{tid}/runs/wait", f"/threads/{tid}/runs", "/threads/search"):
        r = await http.post(path, content=b'{"assistant_id": "agent", ', headers={"content-type": "application/json"})
        assert_error(r, 422)
    r = await http.post("/threads", content=b"", headers={"content-type": "application/json"})
    assert_error(r, 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_wrong_field_types_are_422(http: httpx.AsyncClient) -> None:
    count = (await http.post("/threads/count", json={})).json()
    assert_error(await http.post("/threads", json={"metadata": 5}), 422)
    assert_error(await http.post("/threads/search", json={"limit": "x"}), 422)
    assert_error(await http.post("/threads/search", json={"status": "sleeping"}), 422)
    assert_error(await http.post("/assistants/search", json={"offset": "x"}), 422)
    assert (await http.post("/threads/count", json={})).json() == count

    tid = await new_thread(http)
    before = await snapshot(http, tid)
    for body in (
        {"assistant_id": "agent", "input": {"some_text": "x"}, "metadata": 5},
        {"assistant_id": "agent", "input": {"some_text": "x"}, "multitask_strategy": "sideways"},
        {"assistant_id": "agent", "command": "resume please"},
        {"assistant_id": 7, "input": {"some_text": "x"}},
    ):
        assert_error(await wait_run(http, tid, body), 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_unknown_thread_is_404(http: httpx.AsyncClient) -> None:
    r = await wait_run(http, UNKNOWN_THREAD, {"assistant_id": "agent", "input": {"some_text": "x"}})
    assert_error(r, 404)
    r = await http.post(f"/threads/{UNKNOWN_THREAD}/runs", json={"assistant_id": "agent", "input": {"some_text": "x"}})
    assert_error(r, 404)
    assert_error(await http.get(f"/threads/{UNKNOWN_THREAD}"), 404)
    assert_error(await http.get(f"/threads/{UNKNOWN_THREAD}/state"), 404)
    assert_error(await http.get(f"/threads/{UNKNOWN_THREAD}/runs"), 404)
    # The failed run attempt did not create the thread.
    assert_error(await http.get(f"/threads/{UNKNOWN_THREAD}"), 404)


async def test_unknown_and_missing_assistant(http: httpx.AsyncClient) -> None:
    tid = await new_thread(http)
    before = await snapshot(http, tid)
    r = await wait_run(http, tid, {"assistant_id": "nope", "input": {"some_text": "x"}})
    assert r.status_code in (404, 422)
    assert "nope" in assert_error(r, r.status_code)
    r = await wait_run(http, tid, {"assistant_id": str(uuid.uuid4()), "input": {"some_text": "x"}})
    assert_error(r, 404)
    r = await wait_run(http, tid, {"input": {"some_text": "x"}})
    assert "assistant_id" in assert_error(r, 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_reject_while_running_is_409_and_adds_no_run(http: httpx.AsyncClient, markers: Markers) -> None:
    tid = await new_thread(http)
    # the run stays inside its node until released, however long the refusals below take
    body = {
        "assistant_id": "slow",
        "input": {"some_text": "x", "delay": 0},
        "config": markers.config(hold=["slow_node"]),
    }
    r = await http.post(f"/threads/{tid}/runs", json=body)
    assert r.status_code == 200, r.text
    run_id = r.json()["run_id"]
    await markers.wait("slow_node")
    runs_before = (await http.get(f"/threads/{tid}/runs")).json()
    assert (await http.get(f"/threads/{tid}")).json()["status"] == "busy"

    for path in (f"/threads/{tid}/runs/wait", f"/threads/{tid}/runs"):
        r = await http.post(
            path, json={"assistant_id": "slow", "input": {"some_text": "y", "delay": 0}, "multitask_strategy": "reject"}
        )
        detail = assert_error(r, 409)
        assert "already running" in detail

    runs_after = (await http.get(f"/threads/{tid}/runs")).json()
    assert [x["run_id"] for x in runs_after] == [x["run_id"] for x in runs_before] == [run_id]
    assert (await http.get(f"/threads/{tid}")).json()["status"] == "busy"

    # The running run is unaffected and ends in its interrupt.
    markers.release("slow_node")
    joined = await http.get(f"/threads/{tid}/runs/{run_id}/join")
    assert joined.status_code == 200
    assert joined.json()["some_text"] == "x" and len(joined.json()["__interrupt__"]) == 1
    assert (await http.get(f"/threads/{tid}")).json()["status"] == "interrupted"
