"""Bad input never gets a 500: it gets {"detail": "..."} with a 4xx, and changes nothing.

Every request here goes to a real `waypost serve`. The forms the SDKs send (booleans as
true/false/1/0, lists as repeated keys, JSON array strings or comma lists, `stream_mode=`
empty) keep working; values outside the documented bounds are refused by the framework.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import AGENT_ASSISTANT_ID, assert_error, assert_unchanged, snapshot
from tests.serverproc import ServerProcess
from tests.storage import factories
from waypost.errors import StorageError
from waypost.storage import open_storage
from waypost.storage.sqlite.store import SqliteStorage

MAX_BODY_BYTES = 10 * 1024 * 1024
ODD_KEYS = ['own"er', "a.b", "$", "$.x", "back\\slash", "ünïcødé", "[0]", "it's", "*", "", " ", "a\"b'c\\d.e$f"]


def deep(levels: int) -> Any:
    """An object nested `levels` deep: deep(1) == {}."""
    value: Any = {}
    for _ in range(levels - 1):
        value = {"x": value}
    return value


async def new_thread(http: httpx.AsyncClient, metadata: dict[str, Any] | None = None) -> str:
    r = await http.post("/threads", json={"metadata": metadata or {}})
    assert r.status_code == 200, r.text
    return r.json()["thread_id"]


async def interrupted_thread(http: httpx.AsyncClient, text: str = "t") -> tuple[str, str]:
    """A thread that ran `agent` once: it has checkpoints and a run. Returns (thread, run)."""
    tid = await new_thread(http)
    r = await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "agent", "input": {"some_text": text}})
    assert r.status_code == 200, r.text
    run_id = r.headers["content-location"].rsplit("/", 1)[1]
    return tid, run_id


async def thread_count(http: httpx.AsyncClient) -> int:
    r = await http.post("/threads/count", json={})
    assert r.status_code == 200, r.text
    return int(r.json())


# --- 1. query and path parameters are typed ------------------------------------------------


async def test_numbers_that_used_to_crash_are_422(http: httpx.AsyncClient) -> None:
    tid, _ = await interrupted_thread(http)
    before = await snapshot(http, tid)
    for path in (
        f"/threads/{tid}/history?limit=abc",
        f"/threads/{tid}/runs?limit=99999999999999999999",
        f"/threads/{tid}/runs?offset=99999999999999999999",
        f"/threads/{tid}/runs?offset={2**63}",
        f"/threads/{tid}/runs?limit=1.5",
        f"/threads/{tid}/runs?offset=-1",
    ):
        assert_error(await http.get(path), 422)
    for after_seconds in (1e308, -1, 366 * 24 * 3600, "soon"):
        r = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "after_seconds": after_seconds})
        assert "after_seconds" in assert_error(r, 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_malformed_query_values_are_422(http: httpx.AsyncClient) -> None:
    tid, run_id = await interrupted_thread(http)
    before = await snapshot(http, tid)
    run = f"/threads/{tid}/runs/{run_id}"
    for path in (
        f"/threads/{tid}/state?subgraphs=perhaps",
        f"/threads/{tid}/state?select=nonsense",
        f"/threads/{tid}/state?select=%5B%22values%22",  # a JSON list that never closes
        f"{run}/join?cancel_on_disconnect=maybe",
        f"{run}/stream?stream_mode=sideways",
        f"{run}/stream?stream_mode=%5B%22values%22%2C%22nope%22%5D",
        f"{run}/stream?stream_mode=%5B1%2C2%5D",
        f"/threads/{tid}/stream?stream_mode=values",
        f"/assistants/{AGENT_ASSISTANT_ID}/graph?xray=0",
        f"/assistants/{AGENT_ASSISTANT_ID}/graph?xray=-3",
        f"/assistants/{AGENT_ASSISTANT_ID}/graph?xray=lots",
        f"/assistants/{AGENT_ASSISTANT_ID}/subgraphs?recurse=2",
        "/ok?check_db=sure",
    ):
        assert_error(await http.get(path), 422)
    for path in (f"{run}/cancel?action=sideways", f"{run}/cancel?wait=later", "/runs/cancel?action=sideways"):
        assert_error(await http.post(path, json={"status": "pending"}), 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_bad_ids_in_paths_are_422(http: httpx.AsyncClient) -> None:
    tid, run_id = await interrupted_thread(http)
    for path in (
        "/threads/not-a-uuid",
        "/threads/not-a-uuid/state",
        "/threads/not-a-uuid/runs",
        f"/threads/{tid}/runs/not-a-uuid",
        "/assistants/agent",
        "/assistants/not-a-uuid/graph",
    ):
        assert_error(await http.get(path), 422)
    assert_error(await http.post("/assistants/not-a-uuid/versions", json={}), 422)
    assert_error(await http.post("/threads", json={"thread_id": "nope"}), 422)
    assert_error(await http.post("/threads/search", json={"ids": ["nope"]}), 422)
    assert_error(await http.post("/runs/cancel", json={"thread_id": tid, "run_ids": ["nope"]}), 422)
    assert (await http.get(f"/threads/{tid}/runs/{run_id}")).status_code == 200


async def test_every_form_the_sdks_send_still_works(http: httpx.AsyncClient) -> None:
    tid, run_id = await interrupted_thread(http, "forms")
    for flag in ("true", "false", "True", "1", "0", ""):
        r = await http.get(f"/threads/{tid}/state", params={"subgraphs": flag})
        assert r.status_code == 200, (flag, r.text)
    for select in (
        [("select", "values"), ("select", "next")],  # repeated keys (Python, JS 1.x)
        [("select", '["values","next"]')],  # one JSON array string (JS 2.x)
        [("select", "values,next")],  # one comma list
    ):
        r = await http.get(f"/threads/{tid}/state", params=select)
        assert r.status_code == 200, (select, r.text)
        assert set(r.json()) == {"values", "next"}, r.json()
    r = await http.get(f"/threads/{tid}/state", params={"select": "values.some_text"})
    assert r.json() == {"values": {"some_text": "forms"}}
    run = f"/threads/{tid}/runs/{run_id}"
    for params in ({"stream_mode": ""}, {"stream_mode": "values", "cancel_on_disconnect": "0"}, {}):
        r = await http.get(f"{run}/stream", params=params)
        assert r.status_code == 200, (params, r.text)
    for params in ({"stream_mode": ["values", "updates"]}, {"stream_mode": '["values","updates"]'}):
        r = await http.get(f"{run}/stream", params=params)
        assert r.status_code == 200, (params, r.text)
    r = await http.get(f"{run}/join", params={"cancel_on_disconnect": "false"})
    assert r.status_code == 200 and r.json()["some_text"] == "forms"
    r = await http.get(f"/threads/{tid}/history", params={"limit": 1})
    assert r.status_code == 200 and len(r.json()) == 1
    r = await http.get(f"/threads/{tid}/runs", params={"limit": 1000, "offset": 0, "status": "success"})
    assert r.status_code == 200 and [x["run_id"] for x in r.json()] == [run_id]
    for xray in ("true", "false", "1", "2"):
        r = await http.get(f"/assistants/{AGENT_ASSISTANT_ID}/graph", params={"xray": xray})
        assert r.status_code == 200, (xray, r.text)
    assert (await http.get("/ok", params={"check_db": "1"})).json() == {"ok": True}
    r = await http.post(f"{run}/cancel", params={"wait": "0", "action": "interrupt"})
    assert_error(r, 404)  # the run is done: nothing to cancel, but the parameters were fine


# --- 2. metadata and values filters take any key --------------------------------------------


@pytest.mark.parametrize("key", ODD_KEYS)
async def test_thread_metadata_filter_with_odd_key(http: httpx.AsyncClient, key: str) -> None:
    case = uuid.uuid4().hex
    mine = await new_thread(http, {"case": case, key: "yes"})
    plain = await new_thread(http, {"case": case, "owner": "yes", "other": key})

    async def found(metadata: dict[str, Any]) -> list[str]:
        r = await http.post("/threads/search", json={"metadata": {"case": case, **metadata}, "limit": 100})
        assert r.status_code == 200, r.text
        count = await http.post("/threads/count", json={"metadata": {"case": case, **metadata}})
        assert count.json() == int(r.headers["x-pagination-total"]) == len(r.json())
        return [t["thread_id"] for t in r.json()]

    assert await found({key: "yes"}) == [mine]
    assert await found({key: "no"}) == []
    assert await found({key: None}) == []
    assert sorted(await found({})) == sorted([mine, plain])


async def test_thread_values_filter_with_odd_keys(http: httpx.AsyncClient) -> None:
    text = uuid.uuid4().hex
    tid, _ = await interrupted_thread(http, text)
    r = await http.post("/threads/search", json={"values": {"some_text": text}})
    assert [t["thread_id"] for t in r.json()] == [tid]
    for key in ODD_KEYS:
        r = await http.post("/threads/count", json={"values": {"some_text": text, key: text}})
        assert r.json() == 0, key
    # A filter value must match in type too: "1" is not 1, true is not 1, a missing key is not null.
    r = await http.post("/threads/count", json={"values": {"some_text": text, "absent": None}})
    assert r.json() == 0


async def test_filter_values_compare_as_json(http: httpx.AsyncClient) -> None:
    case = uuid.uuid4().hex
    meta = {"case": case, "n": 1, "t": True, "s": "1", "z": None, "o": {"b": [1, {"y": 2, "x": 1}], "a": "é"}}
    tid = await new_thread(http, meta)

    async def count(**extra: Any) -> int:
        r = await http.post("/threads/count", json={"metadata": {"case": case, **extra}})
        assert r.status_code == 200, r.text
        return int(r.json())

    assert await count(n=1, t=True, s="1", z=None) == 1
    assert await count(o={"a": "é", "b": [1, {"x": 1, "y": 2}]}) == 1  # key order does not matter
    assert await count(n=True) == await count(t=1) == await count(s=1) == await count(n="1") == 0
    assert await count(n=1.5) == await count(o={"a": "é"}) == await count(missing=None) == 0
    assert (await http.get(f"/threads/{tid}")).json()["metadata"] == meta


async def test_assistant_filters_with_odd_keys(http: httpx.AsyncClient) -> None:
    case = uuid.uuid4().hex
    made = {}
    for key in ODD_KEYS:
        r = await http.post("/assistants", json={"graph_id": "agent", "metadata": {"case": case, key: "yes"}})
        assert r.status_code == 200, r.text
        made[key] = r.json()["assistant_id"]
    for key, aid in made.items():
        body = {"metadata": {"case": case, key: "yes"}}
        r = await http.post("/assistants/search", json={**body, "limit": 100})
        assert [a["assistant_id"] for a in r.json()] == [aid], key
        assert (await http.post("/assistants/count", json=body)).json() == 1
        versions = await http.post(f"/assistants/{aid}/versions", json=body)
        assert [v["version"] for v in versions.json()] == [1]
        versions = await http.post(f"/assistants/{aid}/versions", json={"metadata": {key: "no"}})
        assert versions.json() == []
    r = await http.post("/assistants/count", json={"metadata": {"case": case, 'own"er': "no"}})
    assert r.json() == 0


async def test_nul_in_filter_keys_is_422(http: httpx.AsyncClient) -> None:
    for path, body in (
        ("/threads/search", {"metadata": {"a\u0000b": 1}}),
        ("/threads/count", {"values": {"\u0000": 1}}),
        ("/assistants/search", {"metadata": {"x\u0000": 1}}),
        ("/assistants/count", {"metadata": {"x\u0000": 1}}),
        (f"/assistants/{AGENT_ASSISTANT_ID}/versions", {"metadata": {"x\u0000": 1}}),
    ):
        assert "NUL" in assert_error(await http.post(path, json=body), 422)


async def test_nul_in_any_text_a_request_stores_or_filters_on_is_422(http: httpx.AsyncClient) -> None:
    """PostgreSQL's text and jsonb cannot hold NUL, and SQLite's JSON functions end a text at
    it: a NUL anywhere in a body is refused up front, the same on every backend, and nothing
    is written."""
    tid, _ = await interrupted_thread(http)
    before = await snapshot(http, tid)
    threads_before = await thread_count(http)
    nul = "a\u0000b"
    for method, path, body in (
        ("POST", "/threads", {"metadata": {"k": nul}}),
        ("PATCH", f"/threads/{tid}", {"metadata": {"k": nul}}),
        ("POST", "/threads/search", {"status": "idle", "ids": [nul]}),
        ("POST", "/assistants", {"graph_id": "agent", "name": nul}),
        ("POST", "/assistants/search", {"graph_id": nul}),
        ("POST", "/assistants/count", {"name": nul}),
        ("POST", f"/threads/{tid}/runs", {"assistant_id": "agent", "input": {"some_text": nul}}),
        ("POST", f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "command": {"resume": nul}}),
        ("POST", f"/threads/{tid}/state", {"values": {"some_text": nul}}),
        ("POST", "/runs/wait", {"assistant_id": "agent", "input": {"some_text": nul}, "metadata": {nul: 1}}),
    ):
        r = await http.request(method, path, json=body)
        assert "NUL" in assert_error(r, 422), (method, path, r.text)
    assert await thread_count(http) == threads_before
    assert_unchanged(before, await snapshot(http, tid))


async def test_history_metadata_filter_with_odd_keys(http: httpx.AsyncClient) -> None:
    tid, _ = await interrupted_thread(http)
    r = await http.post(f"/threads/{tid}/history", json={"metadata": {"source": "loop"}})
    assert r.status_code == 200 and r.json()
    for key in ('own"er', "a b", "x'); --", "a.b"):
        assert_error(await http.post(f"/threads/{tid}/history", json={"metadata": {key: 1}}), 422)


async def test_storage_errors_say_nothing_about_the_query(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The client gets a generic message; the query name and SQLite's words go to the log."""
    thread = factories.thread()
    run = factories.run(thread.thread_id)
    async with open_storage(f"sqlite:///{tmp_path / 'db.sqlite'}") as storage:
        assert isinstance(storage, SqliteStorage)
        async with storage.transaction() as tx:
            await tx.insert_thread(thread)
            await tx.insert_run(run)
        with caplog.at_level(logging.ERROR), pytest.raises(StorageError) as raised:
            async with storage.transaction() as tx:
                await tx.insert_run(run)
    message = raised.value.message
    assert "insert_run" not in message and "UNIQUE" not in message and "sqlite" not in message.lower()
    assert "insert_run" in caplog.text and "UNIQUE" in caplog.text


# --- 3. deep JSON is refused when it is written ----------------------------------------------


async def test_deep_json_is_refused_everywhere(http: httpx.AsyncClient) -> None:
    tid, _ = await interrupted_thread(http)
    before = await snapshot(http, tid)
    threads_before = await thread_count(http)
    too_deep = deep(252)
    for path, body in (
        ("/threads", {"metadata": too_deep}),
        (f"/threads/{tid}", {"metadata": too_deep}),
        ("/threads/search", {"metadata": too_deep}),
        (f"/threads/{tid}/runs", {"assistant_id": "agent", "input": too_deep}),
        (f"/threads/{tid}/runs/wait", {"assistant_id": "agent", "command": {"resume": too_deep}}),
        (f"/threads/{tid}/runs/stream", {"assistant_id": "agent", "input": {"some_text": "x"}, "metadata": too_deep}),
        (f"/threads/{tid}/state", {"values": too_deep}),
        ("/assistants", {"graph_id": "agent", "config": too_deep}),
        ("/runs/batch", [{"assistant_id": "agent", "input": too_deep}]),
    ):
        method = "PATCH" if path == f"/threads/{tid}" else "POST"
        r = await http.request(method, path, json=body)
        assert "nested" in assert_error(r, 422), path
    assert await thread_count(http) == threads_before
    assert_unchanged(before, await snapshot(http, tid))


async def test_json_at_the_depth_limit_is_stored_and_searchable(http: httpx.AsyncClient) -> None:
    case = uuid.uuid4().hex
    body = {"metadata": {"case": case, "deep": deep(98)}}  # body, metadata, then 98 levels: 100
    r = await http.post("/threads", json=body)
    assert r.status_code == 200, r.text
    r = await http.post("/threads", json={"metadata": {"case": case, "deep": deep(99)}})
    assert_error(r, 422)
    r = await http.post("/threads/search", json={"metadata": {"case": case}})
    assert r.status_code == 200 and len(r.json()) == 1
    assert r.json()[0]["metadata"] == body["metadata"]


# --- 4. request bodies have a size limit ------------------------------------------------------


async def raw_request(server: ServerProcess, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes as they are (a declared Content-Length the body does not have to match) and
    read the answer: status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        response = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    status_line, _, rest = response.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def test_declared_oversized_body_is_413_before_reading_it(
    http: httpx.AsyncClient, graphs_server: ServerProcess
) -> None:
    threads_before = await thread_count(http)
    head = (
        "POST /threads HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n"
    )
    status, body = await raw_request(graphs_server, head, b'{"metadata": {')
    assert status == 413, body
    assert set(httpx.Response(413, content=body).json()) == {"detail"}
    # A GET with a declared oversized body is refused the same way.
    status, _ = await raw_request(graphs_server, head.replace("POST /threads", "GET /ok"), b"{}")
    assert status == 413
    assert await thread_count(http) == threads_before


async def test_streamed_oversized_body_is_413(http: httpx.AsyncClient) -> None:
    threads_before = await thread_count(http)
    chunk = b" " * (1024 * 1024)

    async def chunks() -> Any:
        yield b'{"metadata": {"pad": "'
        for _ in range(MAX_BODY_BYTES // len(chunk) + 1):
            yield chunk
        yield b'"}}'

    r = await http.post("/threads", content=chunks(), headers={"content-type": "application/json"})
    assert "bytes" in assert_error(r, 413)
    assert await thread_count(http) == threads_before


async def test_body_under_the_limit_is_accepted(http: httpx.AsyncClient) -> None:
    pad = "p" * (MAX_BODY_BYTES // 2)
    r = await http.post("/threads", json={"metadata": {"pad": pad}})
    assert r.status_code == 200, r.text[:200]
    assert (await http.delete(f"/threads/{r.json()['thread_id']}")).status_code == 204


# --- 5. limits, statuses, sorts and checkpoints, the same on every route ----------------------


async def test_limit_bounds_are_the_same_everywhere(http: httpx.AsyncClient) -> None:
    tid, _ = await interrupted_thread(http)
    for limit in (0, -1, 1001):
        for method, path, body in (
            ("POST", "/threads/search", {"limit": limit}),
            ("POST", "/assistants/search", {"limit": limit}),
            ("POST", f"/assistants/{AGENT_ASSISTANT_ID}/versions", {"limit": limit}),
            ("POST", f"/threads/{tid}/history", {"limit": limit}),
            ("GET", f"/threads/{tid}/history?limit={limit}", None),
            ("GET", f"/threads/{tid}/runs?limit={limit}", None),
        ):
            r = await http.request(method, path, json=body)
            assert "limit" in assert_error(r, 422), (method, path, limit)
        for method, path in (("POST", "/threads/search"), ("POST", "/assistants/search")):
            r = await http.request(method, path, json={"offset": -1 if limit == 0 else 2**40})
            assert "offset" in assert_error(r, 422)
    for method, path, body in (
        ("POST", "/threads/search", {"limit": 1000}),
        ("POST", "/assistants/search", {"limit": 1, "offset": 2**31 - 1}),
        ("POST", f"/threads/{tid}/history", {"limit": 1000}),
        ("GET", f"/threads/{tid}/runs?limit=1&offset=2147483647", None),
    ):
        assert (await http.request(method, path, json=body)).status_code == 200, path


async def test_unknown_status_and_sort_are_422(http: httpx.AsyncClient) -> None:
    tid, _ = await interrupted_thread(http)
    for method, path, body in (
        ("POST", "/threads/search", {"status": "sleeping"}),
        ("POST", "/threads/count", {"status": "sleeping"}),
        ("GET", f"/threads/{tid}/runs?status=sleeping", None),
        ("POST", "/runs/cancel", {"status": "sleeping"}),
        ("POST", "/threads/search", {"sort_by": "colour"}),
        ("POST", "/threads/search", {"sort_order": "sideways"}),
        ("POST", "/assistants/search", {"sort_by": "colour"}),
    ):
        assert_error(await http.request(method, path, json=body), 422)


async def test_unknown_checkpoint_is_404(http: httpx.AsyncClient) -> None:
    tid, _ = await interrupted_thread(http)
    before = await snapshot(http, tid)
    unknown = "1f000000-0000-6000-8000-000000000000"
    assert_error(await http.get(f"/threads/{tid}/state/{unknown}"), 404)
    r = await http.post(f"/threads/{tid}/state/checkpoint", json={"checkpoint": {"checkpoint_id": unknown}})
    assert_error(r, 404)
    assert_error(await http.get(f"/threads/{tid}/history", params={"before": unknown}), 404)
    assert_error(await http.post(f"/threads/{tid}/history", json={"before": unknown}), 404)
    assert_error(await http.post(f"/threads/{tid}/history", json={"before": {"checkpoint_id": unknown}}), 404)
    # A checkpoint that exists works everywhere.
    known = before["state"]["checkpoint_id"]
    assert (await http.get(f"/threads/{tid}/state/{known}")).json()["checkpoint_id"] == known
    r = await http.get(f"/threads/{tid}/history", params={"before": known})
    assert r.status_code == 200 and all(s["checkpoint_id"] < known for s in r.json())
    assert_unchanged(before, await snapshot(http, tid))


async def test_checkpoint_selectors_are_typed(http: httpx.AsyncClient) -> None:
    tid, _ = await interrupted_thread(http)
    for path, body in (
        (f"/threads/{tid}/state/checkpoint", {"checkpoint": {"checkpoint_ns": {"a": 1}}}),
        (f"/threads/{tid}/state/checkpoint", {"checkpoint": {"checkpoint_id": 5}}),
        (f"/threads/{tid}/history", {"checkpoint": {"checkpoint_ns": 5}}),
        (f"/threads/{tid}/history", {"before": 5}),
        (f"/threads/{tid}/state", {"values": {"some_text": "x"}, "checkpoint": {"checkpoint_map": 5}}),
    ):
        assert_error(await http.post(path, json=body), 422)


# --- 6. thread ttl and supersteps are refused, not dropped ------------------------------------


async def test_unsupported_thread_fields_are_refused(http: httpx.AsyncClient) -> None:
    threads_before = await thread_count(http)
    for body in (
        {"ttl": 5},
        {"ttl": {"ttl": 5, "strategy": "delete"}},
        {"supersteps": [{"updates": [{"values": {"some_text": "x"}, "as_node": "human_node"}]}]},
    ):
        assert "not supported yet" in assert_error(await http.post("/threads", json=body), 422)
    assert await thread_count(http) == threads_before
    # null means "not given", as the SDKs send it
    r = await http.post("/threads", json={"ttl": None, "supersteps": None})
    assert r.status_code == 200, r.text
    tid = r.json()["thread_id"]
    before = await snapshot(http, tid)
    r = await http.patch(f"/threads/{tid}", json={"metadata": {"a": 1}, "ttl": 5})
    assert "not supported yet" in assert_error(r, 422)
    assert_unchanged(before, await snapshot(http, tid))


async def test_config_every_run_would_fail_on_is_refused(http: httpx.AsyncClient) -> None:
    count = (await http.post("/assistants/count", json={})).json()
    tid, _ = await interrupted_thread(http)
    before = await snapshot(http, tid)
    for config in ({"configurable": 5}, {"tags": "x"}, {"recursion_limit": 0}, {"recursion_limit": 1e20}):
        assert_error(await http.post("/assistants", json={"graph_id": "agent", "config": config}), 422)
        r = await http.post(f"/threads/{tid}/runs", json={"assistant_id": "agent", "config": config})
        assert "config" in assert_error(r, 422)
    assert (await http.post("/assistants/count", json={})).json() == count
    assert_unchanged(before, await snapshot(http, tid))
    # Keys other than the typed three pass through as they were sent.
    config = {"tags": ["t"], "recursion_limit": 30, "configurable": {"k": 1}, "max_concurrency": 2}
    r = await http.post("/assistants", json={"graph_id": "agent", "config": config})
    assert r.status_code == 200 and r.json()["config"] == config
