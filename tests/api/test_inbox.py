"""Interrupts as a resource: /interrupts lists, reads, answers and re-plans them; /audit and
/interrupts/{id}/history say who decided what. Every refusal is checked to change nothing.

The server is shared by the API suite, so each test marks its threads with metadata of its
own and lists through that filter.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from tests.api.support import assert_error, assert_unchanged, snapshot
from tests.polling import eventually

ITEM_KEYS = {
    "interrupt_id",
    "thread_id",
    "run_id",
    "graph_id",
    "assistant_id",
    "value",
    "response_schema",
    "ns",
    "created_at",
    "deadline",
    "on_deadline",
    "remind_before",
    "assignees",
    "status",
    "answered_at",
    "answered_by",
    "answered_by_run",
    "expired_at",
}


def _case() -> dict[str, str]:
    return {"case": uuid.uuid4().hex}


async def _ask(http: httpx.AsyncClient, graph: str, case: dict[str, str], text: str = "draft") -> dict[str, Any]:
    """A thread (marked with `case`) stopped at its graph's interrupt; the inbox's item for it."""
    tid = (await http.post("/threads", json={"metadata": case})).json()["thread_id"]
    stopped = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": graph, "input": {"some_text": text}})
    assert stopped.status_code == 200 and "__interrupt__" in stopped.json(), stopped.text
    listed = await http.get("/interrupts", params={"thread_id": tid})
    (item,) = listed.json()["interrupts"]
    return item


async def _list(http: httpx.AsyncClient, case: dict[str, str], **params: Any) -> dict[str, Any]:
    resp = await http.get("/interrupts", params={"metadata": orjson.dumps(case).decode(), **params})
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_lists_pending_interrupts_across_threads_newest_first(http: httpx.AsyncClient) -> None:
    case = _case()
    first = await _ask(http, "agent", case, "one")
    second = await _ask(http, "schema", case, "two")
    body = await _list(http, case)
    assert [i["interrupt_id"] for i in body["interrupts"]] == [second["interrupt_id"], first["interrupt_id"]]
    assert (body["total"], body["total_exact"], body["limit"], body["offset"]) == (2, True, 20, 0)
    item = body["interrupts"][1]
    assert set(item) == ITEM_KEYS
    assert item["value"] == {"text_to_revise": "one"} and item["graph_id"] == "agent" and item["status"] == "pending"
    assert item["assignees"] == [] and item["deadline"] is None and item["answered_by"] is None
    run = (await http.get(f"/threads/{item['thread_id']}/runs/{item['run_id']}")).json()
    assert run["status"] == "success"  # the run that raised it
    assert body["interrupts"][0]["response_schema"]["required"] == ["approved"]
    page = await http.get("/interrupts", params={"metadata": orjson.dumps(case).decode(), "limit": 1})
    assert [i["interrupt_id"] for i in page.json()["interrupts"]] == [second["interrupt_id"]]
    assert (page.headers["x-pagination-total"], page.headers["x-pagination-next"]) == ("2", "1")
    assert "x-pagination-total-exact" not in page.headers
    only_schema = await _list(http, case, graph_id="schema")
    assert [i["interrupt_id"] for i in only_schema["interrupts"]] == [second["interrupt_id"]]
    oldest = await _list(http, case, sort_order="asc", limit=1)
    assert oldest["interrupts"][0]["interrupt_id"] == first["interrupt_id"]
    one = await http.get(f"/interrupts/{first['interrupt_id']}")
    assert one.status_code == 200 and one.json() == item


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"status": "waiting"}, "status"),
        ({"metadata": "{not json"}, "metadata"),
        ({"metadata": "[1, 2]"}, "metadata"),
        ({"deadline_before": "tomorrow"}, "deadline_before"),
        ({"created_after": "2026-01-01T00:00:00"}, "created_after"),
        # In range as written, out of range once in UTC: a 422, not a crash.
        ({"created_after": "0001-01-01T00:00:00+01:00"}, "created_after"),
        ({"deadline_before": "9999-12-31T23:59:59-01:00"}, "deadline_before"),
        ({"sort_by": "value"}, "sort_by"),
        # NUL cannot be stored in PostgreSQL's text: refused as input on every backend.
        ({"assignee": "ann\x00"}, "assignee"),
        ({"graph_id": "agent\x00"}, "graph_id"),
        ({"assistant_id": "\x00"}, "assistant_id"),
        ({"metadata": '{"team": "ops\\u0000"}'}, "metadata"),
        ({"limit": 0}, "limit"),
        ({"thread_id": "not-a-uuid"}, "thread_id"),
    ],
)
async def test_bad_list_parameters_are_422(http: httpx.AsyncClient, params: dict[str, Any], says: str) -> None:
    assert says in assert_error(await http.get("/interrupts", params=params), 422)


async def test_unknown_and_malformed_ids(http: httpx.AsyncClient) -> None:
    assert_error(await http.get(f"/interrupts/{uuid.uuid4().hex}"), 404)
    assert_error(await http.get("/interrupts/bad%20id"), 422)
    assert_error(await http.post(f"/interrupts/{uuid.uuid4().hex}/answer", json={"value": 1}), 404)
    assert_error(await http.patch(f"/interrupts/{uuid.uuid4().hex}", json={"assignees": []}), 404)
    assert_error(await http.get(f"/interrupts/{uuid.uuid4().hex}/history"), 404)


async def test_answer_through_the_inbox_resumes_the_graph_once(http: httpx.AsyncClient) -> None:
    case = _case()
    item = await _ask(http, "agent", case)
    answered = await http.post(
        f"/interrupts/{item['interrupt_id']}/answer",
        json={"value": "revised", "comment": "looks right"},
        headers={"x-request-id": "inbox-answer-1"},
    )
    assert answered.status_code == 200, answered.text
    run = answered.json()
    assert run["thread_id"] == item["thread_id"] and run["status"] == "pending"
    result = await http.get(f"/threads/{item['thread_id']}/runs/{run['run_id']}/join")
    assert result.json() == {"some_text": "revised"}
    done = (await http.get(f"/interrupts/{item['interrupt_id']}")).json()
    assert (done["status"], done["answered_by_run"], done["answered_by"]) == ("answered", run["run_id"], "anonymous")
    assert (await _list(http, case))["total"] == 0
    assert [i["interrupt_id"] for i in (await _list(http, case, status="answered"))["interrupts"]] == [
        item["interrupt_id"]
    ]
    before = await snapshot(http, item["thread_id"])
    again = await http.post(f"/interrupts/{item['interrupt_id']}/answer", json={"value": "twice"})
    assert "already answered" in assert_error(again, 409)
    resume = await http.post(
        f"/threads/{item['thread_id']}/runs", json={"assistant_id": "agent", "command": {"resume": "thrice"}}
    )
    assert "already answered" in assert_error(resume, 409)
    assert_unchanged(before, await snapshot(http, item["thread_id"]))
    history = (await http.get(f"/interrupts/{item['interrupt_id']}/history")).json()
    entries = [(e["event"], e["outcome"], e["detail"].get("via")) for e in history["entries"]]
    assert entries == [("answer", "applied", "inbox"), ("answer", "refused", "inbox"), ("answer", "refused", "runs")]
    applied = history["entries"][0]
    assert applied["detail"]["value"] == "revised" and applied["detail"]["comment"] == "looks right"
    assert (applied["identity"], applied["request_id"], applied["client"]) == (
        "anonymous",
        "inbox-answer-1",
        "127.0.0.1",
    )
    assert applied["run_id"] == run["run_id"]
    assert history["entries"][1]["reason"].startswith(f"interrupt {item['interrupt_id']} already answered")


async def test_an_invalid_answer_is_422_and_changes_nothing(http: httpx.AsyncClient) -> None:
    item = await _ask(http, "schema", _case())
    url = f"/interrupts/{item['interrupt_id']}/answer"
    before = await snapshot(http, item["thread_id"])
    assert "response_schema" in assert_error(await http.post(url, json={"value": {"approved": "yes"}}), 422)
    assert "value" in assert_error(await http.post(url, json={"comment": "no value"}), 422)
    assert "vlaue" in assert_error(await http.post(url, json={"vlaue": {"approved": True}}), 422)
    assert_error(await http.post(url, content=b"[1]"), 422)
    assert_unchanged(before, await snapshot(http, item["thread_id"]))
    assert (await http.get(f"/interrupts/{item['interrupt_id']}")).json()["status"] == "pending"
    refused = (await http.get("/audit", params={"thread_id": item["thread_id"], "event": "answer"})).json()["entries"]
    assert [e["outcome"] for e in refused] == ["refused"] and "response_schema" in refused[0]["reason"]
    ok = await http.post(url, json={"value": {"approved": True, "note": "fine"}})
    assert ok.status_code == 200, ok.text


async def test_answers_through_the_inbox_and_runs_race_and_one_wins(http: httpx.AsyncClient) -> None:
    item = await _ask(http, "agent", _case())
    tid, iid = item["thread_id"], item["interrupt_id"]

    async def via_inbox(n: int) -> httpx.Response:
        return await http.post(f"/interrupts/{iid}/answer", json={"value": f"inbox {n}"})

    async def via_runs(n: int) -> httpx.Response:
        return await http.post(
            f"/threads/{tid}/runs", json={"assistant_id": "agent", "command": {"resume": {iid: f"runs {n}"}}}
        )

    results = await asyncio.gather(*(f(n) for n in range(10) for f in (via_inbox, via_runs)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [409] * 19, [r.text for r in results if r.status_code != 409]
    (winner,) = [r.json() for r in results if r.status_code == 200]
    final = await http.get(f"/threads/{tid}/runs/{winner['run_id']}/join")
    assert final.json()["some_text"] in {f"{how} {n}" for how in ("inbox", "runs") for n in range(10)}
    audit = (await http.get("/audit", params={"thread_id": tid, "event": "answer", "limit": 50})).json()["entries"]
    assert sorted(e["outcome"] for e in audit) == ["applied"] + ["refused"] * 19


def _soon(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def test_patch_sets_assignees_and_deadline_and_logs_the_change(http: httpx.AsyncClient) -> None:
    case = _case()
    item = await _ask(http, "agent", case)
    url = f"/interrupts/{item['interrupt_id']}"
    due = _soon(3600)
    patched = await http.patch(url, json={"assignees": ["ann", "bob"], "deadline": due, "remind_before": "PT10M"})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["assignees"] == ["ann", "bob"] and body["remind_before"] == 600.0
    assert datetime.fromisoformat(body["deadline"]) == datetime.fromisoformat(due)
    assert [i["interrupt_id"] for i in (await _list(http, case, assignee="ann"))["interrupts"]] == [
        item["interrupt_id"]
    ]
    assert (await _list(http, case, assignee="carol"))["total"] == 0
    assert (await _list(http, case, deadline_before=_soon(7200)))["total"] == 1
    assert (await _list(http, case, deadline_before=_soon(60)))["total"] == 0
    only_assignees = await http.patch(url, json={"assignees": ["carol"]})
    assert only_assignees.json()["deadline"] == body["deadline"]  # keys not given stay
    cleared = await http.patch(url, json={"deadline": None})
    assert cleared.json()["deadline"] is None and cleared.json()["assignees"] == ["carol"]
    history = (await http.get(f"{url}/history")).json()["entries"]
    assert [e["event"] for e in history] == ["plan", "plan", "plan"]
    assert history[1]["detail"]["before"]["assignees"] == ["ann", "bob"]
    assert history[1]["detail"]["after"]["assignees"] == ["carol"]


async def test_concurrent_patches_each_keep_their_keys(http: httpx.AsyncClient) -> None:
    """PATCHes that land on one plan at once: each applies its own keys to the plan as the
    others left it (a change is conditional on the version read, and re-applied when it moved),
    so none is lost and each is logged once."""
    item = await _ask(http, "agent", _case())
    url = f"/interrupts/{item['interrupt_id']}"
    due = _soon(3600)
    bodies = [
        {"assignees": ["ann"]},
        {"deadline": due},
        {"remind_before": "PT1M"},
        {"deadline": due, "on_deadline": None},
    ]
    results = await asyncio.gather(*(http.patch(url, json=b) for b in bodies))
    assert [r.status_code for r in results] == [200] * len(bodies), [r.text for r in results]
    final = (await http.get(url)).json()
    assert final["assignees"] == ["ann"] and final["remind_before"] == 60.0
    assert datetime.fromisoformat(final["deadline"]) == datetime.fromisoformat(due)
    history = (await http.get(f"{url}/history")).json()["entries"]
    assert [e["event"] for e in history] == ["plan"] * len(bodies)
    assert sorted(orjson.dumps(e["detail"]["request"]) for e in history) == sorted(orjson.dumps(b) for b in bodies)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"deadline": "tomorrow"}, "deadline"),
        ({"deadline": "2026-01-01T00:00:00"}, "deadline"),
        ({"on_deadline": {"action": "expire"}}, "needs a deadline"),
        ({"deadline": "PT1H", "on_deadline": {"action": "explode"}}, "action"),
        ({"deadline": "PT1H", "on_deadline": {"action": "resume"}}, "value"),
        ({"deadline": "PT1H", "on_deadline": {"action": "escalate", "assignees": "lead"}}, "assignees"),
        ({"deadline": "PT1H", "on_deadline": {"action": "expire", "extra": 1}}, "extra"),
        ({"assignees": [1, 2]}, "assignees"),
        ({"assignees": ["ann\x00"]}, "assignees"),
        ({"deadline": "PT1H", "on_deadline": {"action": "escalate", "assignees": ["lead\x00"]}}, "assignees"),
        ({"remind_before": "soon"}, "remind_before"),
        ({"deadline": True}, "deadline"),
        ({"deadline": "PT1H", "remind_before": True}, "remind_before"),
        ({"deadline": "0001-01-01T00:00:00+01:00"}, "deadline"),
        ({"deadline": "9999-12-31T23:59:59-01:00"}, "deadline"),
        ({"deadline": "P9999999999D"}, "deadline"),
        ({"deadline": "PT1H", "remind_before": "P9999999999D"}, "remind_before"),
        (
            {"deadline": "PT1H", "on_deadline": {"action": "escalate", "assignees": [], "deadline": "P9999999999D"}},
            "deadline",
        ),
        ({"owner": "ann"}, "owner"),
    ],
)
async def test_bad_plans_are_422_and_change_nothing(http: httpx.AsyncClient, body: dict[str, Any], says: str) -> None:
    item = await _ask(http, "agent", _case())
    url = f"/interrupts/{item['interrupt_id']}"
    assert says in assert_error(await http.patch(url, json=body), 422)
    assert (await http.get(url)).json() == item
    assert (await http.get(f"{url}/history")).json()["entries"] == []


async def test_a_plan_cannot_change_once_answered(http: httpx.AsyncClient) -> None:
    item = await _ask(http, "agent", _case())
    url = f"/interrupts/{item['interrupt_id']}"
    run = (await http.post(f"{url}/answer", json={"value": "done"})).json()
    await http.get(f"/threads/{item['thread_id']}/runs/{run['run_id']}/join")
    assert "answered" in assert_error(await http.patch(url, json={"assignees": ["ann"]}), 409)


async def test_a_deadline_that_expires_the_interrupt(http: httpx.AsyncClient) -> None:
    item = await _ask(http, "agent", _case())
    url = f"/interrupts/{item['interrupt_id']}"
    patched = await http.patch(url, json={"deadline": _soon(0.5), "on_deadline": {"action": "expire"}})
    assert patched.status_code == 200, patched.text
    expired = await eventually(
        lambda: http.get(url), lambda r: r.json()["status"] == "expired", within=10, what="the deadline expiring it"
    )
    assert expired.json()["expired_at"] is not None
    thread = (await http.get(f"/threads/{item['thread_id']}")).json()
    assert thread["status"] == "idle" and thread["interrupts"] == {}
    before = await snapshot(http, item["thread_id"])
    late = await http.post(f"{url}/answer", json={"value": "too late"})
    assert "expired" in assert_error(late, 409)
    assert_unchanged(before, await snapshot(http, item["thread_id"]))
    history = (await http.get(f"{url}/history")).json()["entries"]
    assert [(e["event"], e["outcome"], e["identity"]) for e in history] == [
        ("plan", "changed", "anonymous"),
        ("deadline", "expired", "system:deadline"),
        ("answer", "refused", "anonymous"),
    ]


async def test_a_deadline_that_answers_with_a_default(http: httpx.AsyncClient) -> None:
    item = await _ask(http, "schema", _case())
    url = f"/interrupts/{item['interrupt_id']}"
    plan = {"deadline": _soon(0.5), "on_deadline": {"action": "resume", "value": {"approved": False}}}
    assert (await http.patch(url, json=plan)).status_code == 200
    answered = await eventually(
        lambda: http.get(url), lambda r: r.json()["status"] == "answered", within=10, what="the deadline answering"
    )
    assert answered.json()["answered_by"] == "system:deadline"
    run_id = answered.json()["answered_by_run"]
    result = await http.get(f"/threads/{item['thread_id']}/runs/{run_id}/join")
    assert result.json() == {"some_text": "draft approved=False"}
    history = (await http.get(f"{url}/history")).json()["entries"]
    assert [(e["event"], e["outcome"]) for e in history] == [
        ("plan", "changed"),
        ("answer", "applied"),
        ("deadline", "resumed"),
    ]
    assert history[1]["detail"]["via"] == "deadline" and history[2]["run_id"] == run_id


async def test_a_deadline_whose_default_answer_is_refused_leaves_it_pending(http: httpx.AsyncClient) -> None:
    item = await _ask(http, "schema", _case())
    url = f"/interrupts/{item['interrupt_id']}"
    plan = {"deadline": _soon(0.3), "on_deadline": {"action": "resume", "value": {"approved": "maybe"}}}
    assert (await http.patch(url, json=plan)).status_code == 200
    history = await eventually(
        lambda: http.get(f"{url}/history"),
        lambda r: any(e["event"] == "deadline" for e in r.json()["entries"]),
        within=10,
        what="the deadline firing",
    )
    (fired,) = [e for e in history.json()["entries"] if e["event"] == "deadline"]
    assert fired["outcome"] == "refused" and "response_schema" in fired["reason"]
    assert (await http.get(url)).json()["status"] == "pending"


async def test_a_deadline_that_escalates_then_expires(http: httpx.AsyncClient) -> None:
    case = _case()
    item = await _ask(http, "agent", case)
    url = f"/interrupts/{item['interrupt_id']}"
    plan = {
        "assignees": ["ann"],
        "deadline": _soon(0.3),
        "on_deadline": {
            "action": "escalate",
            "assignees": ["lead"],
            "deadline": 0.6,
            "on_deadline": {"action": "expire"},
        },
    }
    assert (await http.patch(url, json=plan)).status_code == 200
    escalated = await eventually(
        lambda: http.get(url), lambda r: r.json()["assignees"] == ["lead"], within=10, what="the escalation"
    )
    assert escalated.json()["on_deadline"] == {"action": "expire"}
    await eventually(lambda: http.get(url), lambda r: r.json()["status"] == "expired", within=10, what="expiry")
    history = (await http.get(f"{url}/history")).json()["entries"]
    assert [(e["event"], e["outcome"]) for e in history] == [
        ("plan", "changed"),
        ("deadline", "escalated"),
        ("deadline", "expired"),
    ]
    assert history[1]["detail"]["assignees_before"] == ["ann"]


async def test_a_deadline_at_the_start_of_time_with_a_reminder_lead_still_fires(http: httpx.AsyncClient) -> None:
    # Its reminder would be before year 1: there is none, and the deadline (long past) fires
    # at once, its escalation's deadline too, instead of failing on every scheduler tick.
    item = await _ask(http, "agent", _case())
    url = f"/interrupts/{item['interrupt_id']}"
    plan = {"deadline": "0001-01-01T00:00:00Z", "remind_before": 86400, "on_deadline": {"action": "expire"}}
    assert (await http.patch(url, json=plan)).status_code == 200
    await eventually(lambda: http.get(url), lambda r: r.json()["status"] == "expired", within=10, what="expiry")
    item = await _ask(http, "agent", _case())
    url = f"/interrupts/{item['interrupt_id']}"
    plan = {
        "deadline": _soon(0.3),
        "remind_before": 3600,
        "on_deadline": {
            "action": "escalate",
            "assignees": ["lead"],
            "deadline": "0001-01-01T00:30:00Z",
            "on_deadline": {"action": "expire"},
        },
    }
    assert (await http.patch(url, json=plan)).status_code == 200
    await eventually(lambda: http.get(url), lambda r: r.json()["status"] == "expired", within=10, what="expiry")
    history = (await http.get(f"{url}/history")).json()["entries"]
    assert [(e["event"], e["outcome"]) for e in history] == [
        ("plan", "changed"),
        ("deadline", "escalated"),
        ("deadline", "expired"),
    ]


async def test_audit_filters_and_exports_json_lines(http: httpx.AsyncClient) -> None:
    item = await _ask(http, "agent", _case())
    tid = item["thread_id"]
    run = (await http.post(f"/interrupts/{item['interrupt_id']}/answer", json={"value": "ok"})).json()
    await http.get(f"/threads/{tid}/runs/{run['run_id']}/join")
    await http.post(f"/interrupts/{item['interrupt_id']}/answer", json={"value": "again"})
    newest = (await http.get("/audit", params={"thread_id": tid})).json()["entries"]
    assert [e["outcome"] for e in newest] == ["refused", "applied"]
    oldest = (await http.get("/audit", params={"thread_id": tid, "sort_order": "asc", "limit": 1})).json()
    assert [e["outcome"] for e in oldest["entries"]] == ["applied"]
    assert (await http.get("/audit", params={"thread_id": tid, "identity": "someone"})).json()["entries"] == []
    since = newest[0]["at"]
    assert [
        e["outcome"] for e in (await http.get("/audit", params={"thread_id": tid, "since": since})).json()["entries"]
    ] == ["refused"]
    export = await http.get("/audit", params={"thread_id": tid, "format": "jsonl"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    lines = [orjson.loads(line) for line in export.content.splitlines()]
    assert [e["outcome"] for e in lines] == ["applied", "refused"]
    assert_error(await http.get("/audit", params={"format": "xml"}), 422)
    assert_error(await http.get("/audit", params={"since": "yesterday"}), 422)
    assert_error(await http.get("/audit", params={"until": "0001-01-01T00:00:00+01:00"}), 422)
    for key in ("identity", "event", "interrupt_id"):
        assert key in assert_error(await http.get("/audit", params={key: "x\x00"}), 422)
    assert_error(await http.get("/audit", params={"since": "9999-12-31T23:59:59-14:00"}), 422)
    for method in ("delete", "put", "patch", "post"):
        assert (await http.request(method, "/audit")).status_code == 405
