"""Joining a run's stream (live, and resumed with Last-Event-ID) and following a thread's
stream (API-CONTRACT §3.4, §3.6)."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

from langgraph_sdk.client import LangGraphClient

from tests.markers import Markers
from tests.stream.helpers import answers_to, event_key

MODES = ["values", "updates"]


async def _collect(stream) -> list:
    async with aclosing(stream) as parts:
        return [p async for p in parts]


async def test_join_stream_live_then_reconnect_with_last_event_id(
    client: LangGraphClient, thread_id: str, markers: Markers
) -> None:
    given = {"some_text": "j", "delay": 0}
    run = await client.runs.create(
        thread_id,
        "slow",
        input=given,
        stream_mode=MODES,
        stream_resumable=True,
        config=markers.config(hold=["slow_node"]),
    )
    rid = run["run_id"]
    # Inside its node, where it stays until released: everything up to the release happens
    # while the run is live, however long it takes.
    await markers.wait("slow_node")

    with answers_to(client, f"/threads/{thread_id}/runs/{rid}/stream") as joins:
        # A live join (no Last-Event-ID): events from now on, until the run ends.
        live_task = asyncio.create_task(_collect(client.runs.join_stream(thread_id, rid)))
        await joins.reach(1)

        # A first client reads from the beginning, takes one event and drops the connection.
        async with aclosing(client.runs.join_stream(thread_id, rid, last_event_id="-1")) as first:
            early = await anext(first)
        assert early.id is not None, early
        # the worker opens each attempt's events with its metadata
        assert early.event == "metadata" and early.data == {"run_id": rid, "attempt": 1}, early
        assert (await client.runs.get(thread_id, rid))["status"] == "running"

        # It reconnects with the id of the event it saw, while the node is still held.
        reconnect = asyncio.create_task(_collect(client.runs.join_stream(thread_id, rid, last_event_id=early.id)))
        await joins.reach(3)
    assert not reconnect.done(), "the reconnect should have waited for live events"
    markers.release("slow_node")
    resumed = await asyncio.wait_for(reconnect, 10)
    live = await asyncio.wait_for(live_task, 10)
    assert (await client.runs.get(thread_id, rid))["status"] == "success"

    # The run is over; a full replay gives everything it stored, then closes.
    full = await asyncio.wait_for(_collect(client.runs.join_stream(thread_id, rid, last_event_id="-1")), 5)

    full_ids = [p.id for p in full]
    assert all(full_ids), full
    assert len(set(full_ids)) == len(full_ids), full_ids
    assert [event_key(i) for i in full_ids] == sorted(event_key(i) for i in full_ids), full_ids
    assert full[0].id == early.id
    # nothing twice, nothing lost
    assert [p.id for p in resumed] == full_ids[1:], {"resumed": [p.id for p in resumed], "full": full_ids}
    assert [(p.event, p.data) for p in resumed] == [(p.event, p.data) for p in full[1:]]

    events = [p.event for p in full]
    assert events[0] == "metadata" and set(events[1:]) == {"values", "updates"}, events
    assert full[1].data == given
    final = [p.data for p in full if p.event == "values"][-1]
    assert final["__interrupt__"][0]["value"] == {"text_to_revise": "j"}
    assert {"__interrupt__"} == set([p.data for p in full if p.event == "updates"][-1])

    # The live join got the interrupt as it happened, and only events the run really sent.
    live_ids = [p.id for p in live]
    assert live_ids and set(live_ids) <= set(full_ids), (live_ids, full_ids)
    assert live_ids == full_ids[-len(live_ids) :], (live_ids, full_ids)
    assert live[-1].event == "values" and "__interrupt__" in live[-1].data, live


async def test_join_finished_resumable_run_replays_then_closes(client: LangGraphClient, thread_id: str) -> None:
    parts = [
        p
        async for p in client.runs.stream(
            thread_id,
            "agent",
            input={"some_text": "r"},
            stream_mode=MODES,
            stream_resumable=True,
        )
    ]
    rid = parts[0].data["run_id"]
    streamed = [p for p in parts if p.event != "metadata"]
    assert all(p.id for p in parts), parts

    replay = await asyncio.wait_for(_collect(client.runs.join_stream(thread_id, rid, last_event_id="-1")), 5)
    replayed = [p for p in replay if p.event != "metadata"]
    assert [(p.id, p.event, p.data) for p in replayed] == [(p.id, p.event, p.data) for p in streamed]

    middle = streamed[0].id
    tail = await asyncio.wait_for(_collect(client.runs.join_stream(thread_id, rid, last_event_id=middle)), 5)
    assert [p.id for p in tail] == [p.id for p in streamed[1:]]

    last = streamed[-1].id
    nothing = await asyncio.wait_for(_collect(client.runs.join_stream(thread_id, rid, last_event_id=last)), 5)
    assert nothing == []

    only_updates = await asyncio.wait_for(
        _collect(client.runs.join_stream(thread_id, rid, last_event_id="-1", stream_mode="updates")),
        5,
    )
    # the filter keeps `metadata` (never mode-specific) and the requested mode only
    assert {p.event for p in only_updates} - {"metadata"} == {"updates"}, only_updates


async def test_join_finished_run_without_replay_closes(client: LangGraphClient, thread_id: str) -> None:
    result = await client.runs.wait(thread_id, "agent", input={"some_text": "w"})
    assert "__interrupt__" in result
    (run,) = await client.runs.list(thread_id)
    parts = await asyncio.wait_for(_collect(client.runs.join_stream(thread_id, run["run_id"])), 5)
    assert [p for p in parts if p.event not in ("metadata",)] == [], parts


async def test_thread_stream_sees_a_later_run_and_run_done(client: LangGraphClient, thread_id: str) -> None:
    stream = await client.threads.join_stream(thread_id)
    seen = []

    async def follow() -> None:
        async with aclosing(stream) as parts:
            async for part in parts:
                seen.append(part)
                if part.event == "metadata" and part.data.get("status") == "run_done":
                    return

    with answers_to(client, f"/threads/{thread_id}/stream") as follows:
        follower = asyncio.create_task(follow())
        await follows.reach(1)  # the server now sends this thread's events to the follower
    run = await client.runs.create(thread_id, "slow", input={"some_text": "t", "delay": 0}, stream_mode=MODES)
    await asyncio.wait_for(follower, 10)

    events = [p.event for p in seen]
    done = seen[-1]
    assert done.data == {"status": "run_done", "run_id": run["run_id"]}, done
    values = [p.data for p in seen if p.event == "values"]
    assert values and values[-1]["__interrupt__"][0]["value"] == {"text_to_revise": "t"}, events
    updates = [p.data for p in seen if p.event == "updates"]
    assert updates and "__interrupt__" in updates[-1], events


async def test_thread_stream_lifecycle_mode(client: LangGraphClient, thread_id: str) -> None:
    stream = await client.threads.join_stream(thread_id, stream_mode="lifecycle")
    seen = []

    async def follow() -> None:
        async with aclosing(stream) as parts:
            async for part in parts:
                seen.append(part)
                if part.data.get("status") == "run_done":
                    return

    with answers_to(client, f"/threads/{thread_id}/stream") as follows:
        follower = asyncio.create_task(follow())
        await follows.reach(1)
    run = await client.runs.create(thread_id, "slow", input={"some_text": "l", "delay": 0})
    await asyncio.wait_for(follower, 10)
    assert {p.event for p in seen} == {"metadata"}, seen
    assert seen[-1].data == {"status": "run_done", "run_id": run["run_id"]}
