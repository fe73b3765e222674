"""`runs.stream` with the official Python SDK around a human interrupt (PEER-BEHAVIOR §4.7),
the SSE wire format and headers (API-CONTRACT §3.1, §3.3), subgraph namespaces, the other
stream modes, and the `error` event."""

from __future__ import annotations

import asyncio
import re

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.stream.helpers import HEX32, UUID, raw_events

ITEM_KEYS = {"value", "id", "response_schema", "resumable", "ns", "when"}


def assert_seed_item(item: dict, text: str) -> None:
    assert ITEM_KEYS <= item.keys(), item
    assert item["value"] == {"text_to_revise": text}
    assert re.fullmatch(HEX32, item["id"]), item
    assert item["response_schema"] is None
    assert item["resumable"] is True
    assert item["when"] == "during"
    assert isinstance(item["ns"], list) and len(item["ns"]) == 1, item
    assert item["ns"][0].startswith("human_node:"), item


async def test_default_values_stream_ends_at_interrupt(client: LangGraphClient, thread_id: str) -> None:
    parts = [p async for p in client.runs.stream(thread_id, "agent", input={"some_text": "original text"})]

    first = parts[0]
    assert first.event == "metadata", parts
    run_id = first.data["run_id"]
    assert re.fullmatch(UUID, run_id), first
    assert first.data.get("attempt") == 1, first

    rest = parts[1:]
    assert rest and all(p.event == "values" for p in rest), [p.event for p in parts]
    assert rest[0].data == {"some_text": "original text"}
    final = rest[-1].data
    assert final["some_text"] == "original text"
    (item,) = final["__interrupt__"]
    assert_seed_item(item, "original text")

    # The stream has closed: the run's final status must already be recorded.
    run = await client.runs.get(thread_id, run_id)
    assert run["status"] == "success", run
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "interrupted", thread


async def test_values_and_updates_then_resume_through_stream(client: LangGraphClient, thread_id: str) -> None:
    parts = [
        p
        async for p in client.runs.stream(
            thread_id,
            "agent",
            input={"some_text": "original text"},
            stream_mode=["values", "updates"],
        )
    ]
    events = [p.event for p in parts]
    assert events[0] == "metadata", events
    assert set(events[1:]) == {"values", "updates"}, events
    assert "end" not in events

    updates = [p.data for p in parts if p.event == "updates"]
    interrupt_updates = [u for u in updates if "__interrupt__" in u]
    assert len(interrupt_updates) == 1, updates
    assert set(interrupt_updates[0]) == {"__interrupt__"}
    (u_item,) = interrupt_updates[0]["__interrupt__"]
    assert_seed_item(u_item, "original text")

    values = [p.data for p in parts if p.event == "values"]
    (v_item,) = values[-1]["__interrupt__"]
    assert v_item["id"] == u_item["id"], (u_item, v_item)
    first_run = parts[0].data["run_id"]
    assert (await client.runs.get(thread_id, first_run))["status"] == "success"

    resumed = [
        p
        async for p in client.runs.stream(
            thread_id,
            "agent",
            command={"resume": "E"},
            stream_mode=["values", "updates"],
        )
    ]
    assert resumed[0].event == "metadata"
    run_id = resumed[0].data["run_id"]
    assert run_id != first_run
    r_values = [p.data for p in resumed if p.event == "values"]
    assert r_values[-1] == {"some_text": "E"}, resumed
    r_updates = [p.data for p in resumed if p.event == "updates"]
    assert {"human_node": {"some_text": "E"}} in r_updates, r_updates
    assert not any("__interrupt__" in u for u in r_updates), r_updates

    run = await client.runs.get(thread_id, run_id)
    assert run["status"] == "success", run
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "idle", thread
    assert thread["values"] == {"some_text": "E"}, thread


async def test_sse_headers_and_crlf_framing(http: httpx.AsyncClient, thread_id: str) -> None:
    body = {"assistant_id": "agent", "input": {"some_text": "wire"}, "stream_mode": ["values", "updates"]}
    async with http.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream"), resp.headers
        events = [e async for e in raw_events(resp)]
    run_id = events[0].data["run_id"]
    assert events[0].event == "metadata"
    assert resp.headers["location"] == f"/threads/{thread_id}/runs/{run_id}/stream", resp.headers
    assert resp.headers["content-location"] == f"/threads/{thread_id}/runs/{run_id}", resp.headers
    assert all(e.id is None for e in events), "ids only belong to resumable runs"
    assert [e.event for e in events][-1] == "values"
    assert events[-1].data["__interrupt__"][0]["value"] == {"text_to_revise": "wire"}


async def test_resumable_stream_puts_an_id_on_every_event(http: httpx.AsyncClient, thread_id: str) -> None:
    body = {
        "assistant_id": "agent",
        "input": {"some_text": "ids"},
        "stream_mode": ["values", "updates"],
        "stream_resumable": True,
    }
    async with http.stream("POST", f"/threads/{thread_id}/runs/stream", json=body) as resp:
        assert resp.status_code == 200
        events = [e async for e in raw_events(resp)]
    ids = [e.id for e in events]
    assert all(i is not None and re.fullmatch(r"\d+-\d+", i) for i in ids), ids
    keys = [tuple(map(int, i.split("-"))) for i in ids]
    assert keys == sorted(keys) and len(set(keys)) == len(keys), ids


async def test_stateless_stream_headers(http: httpx.AsyncClient) -> None:
    body = {"assistant_id": "agent", "input": {"some_text": "stateless"}}
    async with http.stream("POST", "/runs/stream", json=body) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        events = [e async for e in raw_events(resp)]
    run_id = events[0].data["run_id"]
    assert resp.headers["content-location"] == f"/runs/{run_id}", resp.headers
    assert resp.headers["location"].endswith(f"/runs/{run_id}/stream"), resp.headers
    assert events[-1].event == "values"
    assert events[-1].data["__interrupt__"][0]["value"] == {"text_to_revise": "stateless"}


async def test_stream_error_before_streaming_is_json(http: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    resp = await http.post(f"/threads/{missing}/runs/stream", json={"assistant_id": "agent", "input": {}})
    assert resp.status_code == 404, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    assert "detail" in resp.json()


async def test_subgraph_events_are_namespaced(client: LangGraphClient, thread_id: str) -> None:
    parts = [
        p
        async for p in client.runs.stream(
            thread_id,
            "subgraph",
            input={"some_text": "s"},
            stream_mode=["values", "updates"],
            stream_subgraphs=True,
        )
    ]
    events = [p.event for p in parts]
    assert events[0] == "metadata"
    child = [e for e in events if re.fullmatch(rf"updates\|sub:{UUID}", e)]
    assert child, events
    assert any(re.fullmatch(rf"values\|sub:{UUID}", e) for e in events), events
    # metadata never carries a namespace; root events have none
    assert "values" in events and "updates" in events, events
    assert all(e.split("|", 1)[0] in ("metadata", "values", "updates") for e in events), events

    root_values = [p.data for p in parts if p.event == "values"]
    (item,) = root_values[-1]["__interrupt__"]
    assert item["value"] == {"where": "inner", "text": "s"}
    ns = item["ns"]
    assert isinstance(ns, list) and len(ns) == 2, item
    assert re.fullmatch(rf"sub:{UUID}", ns[0]) and re.fullmatch(rf"inner_human:{UUID}", ns[1]), ns
    assert child[0].split("|", 1)[1] == ns[0], (child[0], ns)


async def test_no_subgraph_events_without_stream_subgraphs(client: LangGraphClient, thread_id: str) -> None:
    parts = [
        p
        async for p in client.runs.stream(
            thread_id,
            "subgraph",
            input={"some_text": "s"},
            stream_mode=["values", "updates"],
        )
    ]
    assert not any("|" in p.event for p in parts), [p.event for p in parts]
    assert parts[-1].event == "values"
    (streamed,) = parts[-1].data["__interrupt__"]
    # The streamed item is the same interrupt the thread now holds, namespace included
    # (two segments: the `sub` task in the parent, `inner_human` in the child).
    thread = await client.threads.get(thread_id)
    (held,) = [item for items in thread["interrupts"].values() for item in items]
    assert len(held["ns"]) == 2, held
    assert streamed == held, {"streamed": streamed, "thread": held}


async def test_tasks_mode(client: LangGraphClient, thread_id: str) -> None:
    parts = [p async for p in client.runs.stream(thread_id, "agent", input={"some_text": "t"}, stream_mode="tasks")]
    events = [p.event for p in parts]
    assert events[0] == "metadata" and set(events[1:]) == {"tasks"}, events
    tasks = [p.data for p in parts[1:]]
    starts = [t for t in tasks if "input" in t]
    results = [t for t in tasks if "interrupts" in t]
    assert starts and {"id", "name", "input", "triggers"} <= starts[0].keys(), tasks
    assert starts[0]["name"] == "human_node"
    assert results and {"id", "name", "error", "interrupts", "result"} <= results[0].keys(), tasks
    assert results[0]["id"] == starts[0]["id"]
    (item,) = results[0]["interrupts"]
    assert item["value"] == {"text_to_revise": "t"}
    assert re.fullmatch(HEX32, item["id"]), item


async def test_checkpoints_mode(client: LangGraphClient, thread_id: str) -> None:
    parts = [
        p async for p in client.runs.stream(thread_id, "agent", input={"some_text": "c"}, stream_mode="checkpoints")
    ]
    events = [p.event for p in parts]
    assert events[0] == "metadata" and set(events[1:]) == {"checkpoints"}, events
    checkpoints = [p.data for p in parts[1:]]
    for cp in checkpoints:
        assert {"config", "parent_config", "values", "metadata", "next", "tasks"} <= cp.keys(), cp
    assert checkpoints[-1]["values"] == {"some_text": "c"}
    assert checkpoints[-1]["next"] == ["human_node"], checkpoints[-1]
    assert checkpoints[-1]["config"]["configurable"]["thread_id"] == thread_id


async def test_debug_mode(client: LangGraphClient, thread_id: str) -> None:
    parts = [p async for p in client.runs.stream(thread_id, "agent", input={"some_text": "d"}, stream_mode="debug")]
    events = [p.event for p in parts]
    assert events[0] == "metadata" and set(events[1:]) == {"debug"}, events
    kinds = {p.data["type"] for p in parts[1:]}
    assert {"checkpoint", "task", "task_result"} <= kinds, kinds
    for p in parts[1:]:
        assert {"step", "timestamp", "type", "payload"} <= p.data.keys(), p.data


async def test_combined_modes_in_one_stream(client: LangGraphClient, thread_id: str) -> None:
    modes = ["values", "updates", "tasks", "checkpoints", "debug"]
    parts = [p async for p in client.runs.stream(thread_id, "agent", input={"some_text": "m"}, stream_mode=modes)]
    assert set(p.event for p in parts) == {"metadata", *modes}, [p.event for p in parts]


async def test_error_event(client: LangGraphClient, thread_id: str) -> None:
    parts = [p async for p in client.runs.stream(thread_id, "failing", input={"some_text": "x"})]
    events = [p.event for p in parts]
    assert events[0] == "metadata", events
    assert events[-1] == "error", events
    assert events.count("error") == 1
    assert parts[-1].data == {"error": "ValueError", "message": "boom"}, parts[-1]
    run = await client.runs.get(thread_id, parts[0].data["run_id"])
    assert run["status"] == "error", run
    thread = await client.threads.get(thread_id)
    assert thread["status"] == "error", thread


async def test_every_stream_starts_with_its_metadata_event_under_load(http: httpx.AsyncClient) -> None:
    """The metadata event comes first even when the run starts before the API is done with the
    request (many streams at once: the worker often wins that race)."""

    async def first_event(i: int) -> tuple[str, object]:
        body = {"assistant_id": "agent", "input": {"some_text": f"load {i}"}, "stream_mode": ["values"]}
        async with http.stream("POST", "/runs/stream", json=body) as resp:
            assert resp.status_code == 200
            events = [e async for e in raw_events(resp)]
        return events[0].event, events[0].data

    firsts = await asyncio.gather(*(first_event(i) for i in range(40)))
    assert [event for event, _ in firsts] == ["metadata"] * 40, firsts
    assert all(set(data) == {"run_id", "attempt"} for _, data in firsts)  # type: ignore[arg-type]
