"""No way into another user's threads: the resource-owner auth module from the LangGraph
docs, unchanged, and two users. On every route that names a thread, run or assistant the
owner succeeds and the other user gets 404, exactly as for something that does not exist,
and a before/after snapshot (seen by the owner) proves nothing changed; above all, the other
user's answer never reaches the owner's interrupt."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from tests.api.support import assert_error, assert_unchanged, flatten_interrupts, snapshot
from tests.auth.conftest import bearer
from tests.serverproc import ServerProcess

NIL = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def anon(auth_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=30) as c:
        yield c


async def _ok(resp: httpx.Response | Any) -> Any:
    resp = await resp if not isinstance(resp, httpx.Response) else resp
    assert resp.status_code == 200, f"{resp.request.method} {resp.request.url}: {resp.status_code} {resp.text}"
    return resp.json()


async def _waiting_thread(client: httpx.AsyncClient) -> dict[str, str]:
    """A thread of `client`'s with a finished run and a pending interrupt; its ids."""
    thread = await _ok(client.post("/threads", json={}))
    tid = thread["thread_id"]
    body = {"assistant_id": "agent", "input": {"some_text": "x"}}
    result = await _ok(client.post(f"/threads/{tid}/runs/wait", json=body))
    (run,) = await _ok(client.get(f"/threads/{tid}/runs"))
    state = await _ok(client.get(f"/threads/{tid}/state"))
    return {
        "tid": tid,
        "rid": run["run_id"],
        "cid": state["checkpoint"]["checkpoint_id"],
        "iid": result["__interrupt__"][0]["id"],
    }


def _thread_routes(ids: dict[str, str]) -> list[tuple[str, str, Any]]:
    tid, rid, cid, iid = ids["tid"], ids["rid"], ids["cid"], ids["iid"]
    run = {"assistant_id": "agent", "input": {"some_text": "theirs"}}
    return [
        ("GET", f"/threads/{tid}", None),
        ("PATCH", f"/threads/{tid}", {"metadata": {"owner": "user2"}}),
        ("DELETE", f"/threads/{tid}", None),
        ("POST", f"/threads/{tid}/copy", None),
        ("GET", f"/threads/{tid}/state", None),
        ("GET", f"/threads/{tid}/state/{cid}", None),
        ("POST", f"/threads/{tid}/state/checkpoint", {"checkpoint": {"checkpoint_id": cid}}),
        ("POST", f"/threads/{tid}/state", {"values": {"some_text": "overwritten"}}),
        ("POST", f"/threads/{tid}/history", {"limit": 5}),
        ("GET", f"/threads/{tid}/history", None),
        ("GET", f"/threads/{tid}/stream", None),
        ("POST", f"/threads/{tid}/runs", run),
        ("POST", f"/threads/{tid}/runs/wait", run),
        ("POST", f"/threads/{tid}/runs/stream", run),
        ("POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "command": {"resume": "hijacked"}}),
        ("POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "command": {"resume": {iid: "hijacked"}}}),
        ("POST", f"/threads/{tid}/runs/wait", {**run, "if_not_exists": "create"}),
        ("GET", f"/threads/{tid}/runs", None),
        ("GET", f"/threads/{tid}/runs/{rid}", None),
        ("GET", f"/threads/{tid}/runs/{rid}/join", None),
        ("GET", f"/threads/{tid}/runs/{rid}/stream", None),
        ("POST", f"/threads/{tid}/runs/{rid}/cancel", None),
        ("DELETE", f"/threads/{tid}/runs/{rid}", None),
        ("POST", "/runs/cancel", {"thread_id": tid, "run_ids": [rid]}),
    ]


async def test_another_user_gets_404_on_every_thread_route_and_changes_nothing(
    owner: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    ids = await _waiting_thread(owner)
    before = await snapshot(owner, ids["tid"])
    for method, path, body in _thread_routes(ids):
        resp = await other.request(method, path, json=body)
        assert resp.status_code == 404, f"{method} {path}: {resp.status_code} {resp.text}"
        assert set(resp.json()) == {"detail"}
        assert_unchanged(before, await snapshot(owner, ids["tid"]))
    # and the owner's interrupt is still theirs to answer
    done = await _ok(
        owner.post(f"/threads/{ids['tid']}/runs/wait", json={"assistant_id": "agent", "command": {"resume": "mine"}})
    )
    assert done == {"some_text": "mine"}


async def test_the_owner_succeeds_on_the_same_routes(owner: httpx.AsyncClient) -> None:
    ids = await _waiting_thread(owner)
    tid, rid = ids["tid"], ids["rid"]
    for method, path, body in _thread_routes(ids):
        # Removing, cancelling and answering end what the other routes read (done below);
        # streams are read by the streaming tests.
        destructive = method == "DELETE" or path.endswith("/cancel") or (body or {}).get("command")
        if destructive or path.endswith("/stream"):
            continue
        resp = await owner.request(method, path, json=body)
        assert resp.status_code in (200, 202), f"{method} {path}: {resp.status_code} {resp.text}"
    assert (await owner.delete(f"/threads/{tid}/runs/{rid}")).status_code == 204
    assert (await owner.delete(f"/threads/{tid}")).status_code == 204


async def test_searches_and_counts_see_only_the_callers_threads(
    owner: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    mine = (await _waiting_thread(owner))["tid"]
    theirs = (await _waiting_thread(other))["tid"]
    seen_by_owner = [t["thread_id"] for t in await _ok(owner.post("/threads/search", json={"limit": 1000}))]
    seen_by_other = [t["thread_id"] for t in await _ok(other.post("/threads/search", json={"limit": 1000}))]
    assert mine in seen_by_owner and theirs not in seen_by_owner
    assert theirs in seen_by_other and mine not in seen_by_other
    own_count = await _ok(owner.post("/threads/count", json={}))
    assert own_count == len(seen_by_owner)
    # asking for the other's owner value explicitly finds nothing either
    spoof = await _ok(other.post("/threads/search", json={"metadata": {"owner": "user1"}, "limit": 1000}))
    assert spoof == []
    # the interrupts a user sees are theirs only
    interrupted = await _ok(other.post("/threads/search", json={"status": "interrupted", "limit": 1000}))
    assert all(t["metadata"]["owner"] == "user2" for t in interrupted)


async def test_a_created_thread_is_stamped_with_its_owner(owner: httpx.AsyncClient) -> None:
    thread = await _ok(owner.post("/threads", json={"metadata": {"owner": "someone-else", "topic": "x"}}))
    assert thread["metadata"] == {"owner": "user1", "topic": "x"}
    copy = await _ok(owner.post(f"/threads/{thread['thread_id']}/copy"))
    assert copy["metadata"]["owner"] == "user1"


async def test_stateless_runs_are_stamped_like_created_threads(
    owner: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    run = await _ok(
        owner.post("/runs", json={"assistant_id": "agent", "input": {"some_text": "s"}, "on_completion": "keep"})
    )
    thread = await _ok(owner.get(f"/threads/{run['thread_id']}"))
    assert thread["metadata"]["owner"] == "user1"
    assert (await other.get(f"/threads/{run['thread_id']}")).status_code == 404


async def test_assistants_are_private_to_their_creator(owner: httpx.AsyncClient, other: httpx.AsyncClient) -> None:
    a = await _ok(owner.post("/assistants", json={"graph_id": "agent", "name": "mine"}))
    aid = a["assistant_id"]
    assert a["metadata"]["owner"] == "user1"
    before = await _ok(owner.get(f"/assistants/{aid}"))
    for method, path, body in [
        ("GET", f"/assistants/{aid}", None),
        ("PATCH", f"/assistants/{aid}", {"name": "stolen"}),
        ("DELETE", f"/assistants/{aid}", None),
        ("POST", f"/assistants/{aid}/versions", {}),
        ("POST", f"/assistants/{aid}/latest", {"version": 1}),
        ("GET", f"/assistants/{aid}/graph", None),
        ("GET", f"/assistants/{aid}/schemas", None),
        ("GET", f"/assistants/{aid}/subgraphs", None),
    ]:
        resp = await other.request(method, path, json=body)
        assert resp.status_code == 404, f"{method} {path}: {resp.status_code} {resp.text}"
    assert await _ok(owner.get(f"/assistants/{aid}")) == before
    found = await _ok(other.post("/assistants/search", json={"limit": 1000}))
    assert aid not in [x["assistant_id"] for x in found]
    assert aid in [x["assistant_id"] for x in await _ok(owner.post("/assistants/search", json={"limit": 1000}))]


async def test_unknown_and_foreign_threads_answer_alike(owner: httpx.AsyncClient, other: httpx.AsyncClient) -> None:
    tid = (await _waiting_thread(owner))["tid"]
    foreign = await other.get(f"/threads/{tid}")
    missing = await other.get(f"/threads/{NIL}")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"].replace(tid, "?") == missing.json()["detail"].replace(NIL, "?")


async def test_no_credentials_or_a_bad_token_is_401_everywhere_but_ok(
    auth_server: ServerProcess, anon: httpx.AsyncClient, owner: httpx.AsyncClient
) -> None:
    ids = await _waiting_thread(owner)
    routes = [
        *_thread_routes(ids),
        ("POST", "/threads", {}),
        ("POST", "/threads/search", {}),
        ("POST", "/threads/count", {}),
        ("POST", "/assistants", {"graph_id": "agent"}),
        ("POST", "/assistants/search", {}),
        ("POST", "/runs/wait", {"assistant_id": "agent", "input": {"some_text": "x"}}),
        ("GET", "/info", None),
        ("GET", "/openapi.json", None),
    ]
    async with httpx.AsyncClient(base_url=auth_server.url, headers={"Authorization": "Bearer forged"}) as forged:
        for method, path, body in routes:
            for client in (anon, forged):
                resp = await client.request(method, path, json=body)
                assert resp.status_code == 401, f"{method} {path}: {resp.status_code} {resp.text}"
                assert set(resp.json()) == {"detail"}
    assert (await anon.get("/ok")).json() == {"ok": True}
    assert (await owner.get(f"/threads/{ids['tid']}")).status_code == 200  # nothing was changed by them


async def test_the_graph_sees_who_asked_and_the_answer_records_it(auth_server: ServerProcess) -> None:
    sdk = get_client(url=auth_server.url, api_key=None, headers=bearer("user1"))
    try:
        thread = await sdk.threads.create()
        first = await sdk.runs.wait(thread["thread_id"], "whoami", input={})
        assert first["identity"] == "user1"
        assert first["permissions"] == ["threads:write"]
        assert first["display_name"] == "Alice"
        done = await sdk.runs.wait(thread["thread_id"], "whoami", command={"resume": "yes"})
        assert done["answer"] == "yes"
        # a client cannot claim another identity through its config
        spoof = await sdk.runs.wait(
            thread["thread_id"],
            "whoami",
            input={},
            config={"configurable": {"langgraph_auth_user_id": "user2", "langgraph_auth_permissions": ["admin"]}},
        )
        assert spoof["identity"] == "user1" and spoof["permissions"] == ["threads:write"]
        run = (await sdk.runs.list(thread["thread_id"]))[0]
        assert "auth_user" not in run["kwargs"]
    finally:
        await sdk.aclose()


async def test_an_answer_from_another_user_never_reaches_the_interrupt(
    owner: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    ids = await _waiting_thread(owner)
    for body in (
        {"assistant_id": "agent", "command": {"resume": "hijacked"}},
        {"assistant_id": "agent", "command": {"resume": {ids["iid"]: "hijacked"}}},
    ):
        assert_error(await other.post(f"/threads/{ids['tid']}/runs", json=body), 404)
    thread = await _ok(owner.get(f"/threads/{ids['tid']}"))
    assert [i["id"] for i in flatten_interrupts(thread)] == [ids["iid"]]
    assert thread["status"] == "interrupted"
