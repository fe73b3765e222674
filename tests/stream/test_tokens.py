"""Token streaming from a chat model (langchain-core's GenericFakeChatModel, which streams
"hello there brave new world" word by word), the legacy `messages` mode, and `custom`."""

from __future__ import annotations

import asyncio
import itertools

from langgraph_sdk.client import LangGraphClient

from tests.graphs.chat_graph import REPLY
from tests.markers import Markers

HI = {"messages": [{"role": "user", "content": "hi"}]}


async def test_messages_tuple_tokens_arrive_one_by_one_before_the_run_ends(
    client: LangGraphClient, thread_id: str, markers: Markers
) -> None:
    # The run is held in `settle`, after the model's last token, until the test has read the
    # first token and the run's status: it cannot end before then.
    stream = client.runs.stream(
        thread_id,
        "chat",
        input=HI,
        stream_mode=["messages-tuple", "values"],
        config=markers.config(hold=["settle"]),
    )
    parts = []
    status_at_first_token = None
    run_id = None
    try:
        async with asyncio.timeout(15):
            async for part in stream:
                parts.append(part)
                if part.event == "metadata":
                    run_id = part.data["run_id"]
                if part.event == "messages" and part.data[0]["type"] == "AIMessageChunk":
                    if status_at_first_token is None:
                        status_at_first_token = (await client.runs.get(thread_id, run_id))["status"]
                        markers.release("settle")
    except TimeoutError:
        # the tokens were not delivered while the run was still going: it waits for the first
        raise AssertionError(f"no token arrived while the run was held after its last one: {parts}") from None

    assert status_at_first_token == "running", status_at_first_token
    tokens = [p.data for p in parts if p.event == "messages"]
    chunks = [message for message, _ in tokens if message["type"] == "AIMessageChunk"]
    # one SSE event per token: never batched into one
    assert len(chunks) >= 3, tokens
    assert all(len(c["content"].split()) <= 1 for c in chunks), [c["content"] for c in chunks]
    assert "".join(c["content"] for c in chunks) == REPLY
    assert len({c["id"] for c in chunks}) == 1, "all chunks belong to one message"
    for _message, metadata in tokens:
        assert metadata["langgraph_node"] == "chat", metadata
        assert metadata["langgraph_checkpoint_ns"].startswith("chat:"), metadata
    # (that they were delivered while the run was still going is the deadline above)

    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["messages"][-1]["type"] == "ai" and final["messages"][-1]["content"] == REPLY, final
    assert (await client.runs.get(thread_id, run_id))["status"] == "success"


async def test_legacy_messages_mode(client: LangGraphClient, thread_id: str) -> None:
    parts = [p async for p in client.runs.stream(thread_id, "chat", input=HI, stream_mode="messages")]
    events = [p.event for p in parts]
    assert events[0] == "metadata", events
    assert set(events[1:]) <= {"messages/metadata", "messages/partial", "messages/complete"}, events
    assert "messages/metadata" in events and "messages/partial" in events, events
    assert events.index("messages/metadata") < events.index("messages/partial"), events

    (meta_event,) = [p.data for p in parts if p.event == "messages/metadata"]
    ((msg_id, meta),) = meta_event.items()
    assert meta["metadata"]["langgraph_node"] == "chat", meta

    partials = [p.data for p in parts if p.event == "messages/partial"]
    assert len(partials) >= 3, partials
    contents = [p[0]["content"] for p in partials]
    assert all(p[0]["id"] == msg_id for p in partials), partials
    # each partial is the message accumulated so far
    for before, after in itertools.pairwise(contents):
        assert after.startswith(before) and len(after) > len(before), contents
    assert contents[-1] == REPLY


async def test_custom_mode_yields_the_writers_payloads(client: LangGraphClient, thread_id: str) -> None:
    parts = [
        p
        async for p in client.runs.stream(
            thread_id,
            "custom",
            input={"some_text": "x"},
            stream_mode=["custom", "values"],
        )
    ]
    custom = [p.data for p in parts if p.event == "custom"]
    assert custom == [{"progress": 0}, {"progress": 1}, {"progress": 2}], parts
    assert [p.data for p in parts if p.event == "values"][-1] == {"some_text": "x (reported)"}


async def test_messages_tuple_on_the_stateless_endpoint(client: LangGraphClient) -> None:
    parts = [p async for p in client.runs.stream(None, "chat", input=HI, stream_mode="messages-tuple")]
    chunks = [p.data[0] for p in parts if p.event == "messages" and p.data[0]["type"] == "AIMessageChunk"]
    assert "".join(c["content"] for c in chunks) == REPLY and len(chunks) >= 3


async def test_events_mode_streams_astream_events(client: LangGraphClient, thread_id: str) -> None:
    """API-CONTRACT §3.2: `events` streams astream_events v2 records under the name `events`."""
    parts = [p async for p in client.runs.stream(thread_id, "chat", input=HI, stream_mode="events")]
    events = [p.event for p in parts]
    assert events[0] == "metadata", events
    assert set(events[1:]) == {"events"}, events
    kinds = [p.data["event"] for p in parts[1:]]
    streamed = [p.data for p in parts[1:] if p.data["event"] == "on_chat_model_stream"]
    assert len(streamed) >= 3, kinds
    assert "".join(e["data"]["chunk"]["content"] for e in streamed) == REPLY
    for e in streamed:
        assert {"event", "name", "run_id", "tags", "metadata", "data"} <= e.keys(), e
