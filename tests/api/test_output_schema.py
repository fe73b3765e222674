"""Output as the graph declares it: results and `values` events carry the graph's output
channels (its output_schema), never private state; the thread's state holds everything."""

from __future__ import annotations

import httpx
from langgraph_sdk.client import LangGraphClient


async def test_wait_returns_only_the_output_schema(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    first = await client.runs.wait(tid, "private", input={"question": "ship it"})
    assert set(first) == {"answer", "__interrupt__"}, first
    assert first["answer"] == "ship it?"
    done = await client.runs.wait(tid, "private", command={"resume": "yes"})
    assert done == {"answer": "ship it? (yes)"}

    state = await client.threads.get_state(tid)
    assert state["values"]["hitl_edited_tool_calls"] == ["private"]  # kept, just not returned
    assert state["values"]["question"] == "ship it"


async def test_values_events_carry_only_the_output_schema(client: LangGraphClient) -> None:
    thread = await client.threads.create()
    parts = [
        p
        async for p in client.runs.stream(
            thread["thread_id"], "private", input={"question": "q"}, stream_mode=["values", "updates"]
        )
    ]
    values = [p.data for p in parts if p.event == "values"]
    assert values, parts
    for data in values:
        assert set(data) <= {"answer", "__interrupt__"}, data
    assert values[-1]["answer"] == "q?" and values[-1]["__interrupt__"]
    # updates are per node and say what each node wrote, as langgraph streams them
    assert any("draft" in p.data for p in parts if p.event == "updates")


async def test_join_returns_the_same_output(client: LangGraphClient, http: httpx.AsyncClient) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(thread["thread_id"], "private", input={"question": "q"})
    joined = await client.runs.join(thread["thread_id"], run["run_id"])
    assert set(joined) == {"answer", "__interrupt__"}
