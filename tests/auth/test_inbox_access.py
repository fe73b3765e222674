"""The inbox under authentication: interrupts follow the threads they wait on. Another user
sees none of the owner's interrupts in a list, gets 404 on every route that names one
(read, answer, plan, history) with nothing changed, finds none of the owner's entries in
the audit log, and the owner's answer is recorded under the owner's identity."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.support import assert_unchanged, snapshot
from tests.auth.test_ownership import _ok, _waiting_thread


async def _seen(client: httpx.AsyncClient, **params: Any) -> set[str]:
    body = await _ok(client.get("/interrupts", params={"limit": 1000, **params}))
    return {i["interrupt_id"] for i in body["interrupts"]}


async def test_lists_show_only_the_callers_interrupts(owner: httpx.AsyncClient, other: httpx.AsyncClient) -> None:
    mine = await _waiting_thread(owner)
    theirs = await _waiting_thread(other)
    assert mine["iid"] in await _seen(owner) and theirs["iid"] not in await _seen(owner)
    assert theirs["iid"] in await _seen(other) and mine["iid"] not in await _seen(other)
    # naming the thread does not get round it
    assert await _seen(other, thread_id=mine["tid"]) == set()
    assert (await _ok(other.get("/interrupts", params={"thread_id": mine["tid"]})))["total"] == 0


async def test_another_user_gets_404_on_every_interrupt_route_and_changes_nothing(
    owner: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    ids = await _waiting_thread(owner)
    iid, tid = ids["iid"], ids["tid"]
    before = await snapshot(owner, tid)
    before_item = await _ok(owner.get(f"/interrupts/{iid}"))
    routes: list[tuple[str, str, Any]] = [
        ("GET", f"/interrupts/{iid}", None),
        ("GET", f"/interrupts/{iid}/history", None),
        ("PATCH", f"/interrupts/{iid}", {"assignees": ["user2"]}),
        ("POST", f"/interrupts/{iid}/answer", {"value": "hijacked"}),
        ("POST", f"/interrupts/{iid}/answer?thread_id={tid}", {"value": "hijacked"}),
    ]
    for method, path, body in routes:
        resp = await other.request(method, path, json=body)
        assert resp.status_code == 404, f"{method} {path}: {resp.status_code} {resp.text}"
        assert set(resp.json()) == {"detail"}
        assert_unchanged(before, await snapshot(owner, tid))
        assert await _ok(owner.get(f"/interrupts/{iid}")) == before_item
    # the owner answers it, and the log says who did
    run = await _ok(owner.post(f"/interrupts/{iid}/answer", json={"value": "mine", "comment": "ok"}))
    assert run["thread_id"] == tid
    await _ok(owner.get(f"/threads/{tid}/runs/{run['run_id']}/join"))
    answered = await _ok(owner.get(f"/interrupts/{iid}"))
    assert (answered["status"], answered["answered_by"]) == ("answered", "user1")


async def test_the_audit_log_shows_another_user_nothing_of_the_owners(
    owner: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    ids = await _waiting_thread(owner)
    await _ok(owner.patch(f"/interrupts/{ids['iid']}", json={"assignees": ["alice"]}))
    own = await _ok(owner.get("/audit", params={"thread_id": ids["tid"]}))
    assert [e["event"] for e in own["entries"]] == ["plan"]
    assert own["entries"][0]["identity"] == "user1"
    theirs = await _ok(other.get("/audit", params={"thread_id": ids["tid"]}))
    assert theirs["entries"] == []
    export = await other.get("/audit", params={"format": "jsonl"})
    assert export.status_code == 200
    assert ids["tid"] not in export.text
