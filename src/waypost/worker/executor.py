"""Execute one run: build the graph's input and config, stream it, record how it ended."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, Send

from waypost import serde
from waypost.models import Assistant, Run, Thread, now_iso
from waypost.operations.state import pending_interrupts, read_state
from waypost.operations.threads import apply_snapshot
from waypost.runtime import Runtime
from waypost.worker.stream import StreamShaper

log = logging.getLogger("waypost.worker")


def build_config(assistant: Assistant, thread: Thread, run: Run) -> RunnableConfig:
    k = run.kwargs
    requested = dict(k.get("config") or {})
    configurable = {
        **(assistant.config.get("configurable") or {}),
        **(requested.pop("configurable", None) or {}),
        "thread_id": run.thread_id,
        "run_id": run.run_id,
        "assistant_id": assistant.assistant_id,
        "graph_id": assistant.graph_id,
    }
    for key, value in (k.get("checkpoint") or {}).items():
        if value is not None and key != "thread_id":
            configurable[key] = value
    config = {key: value for key, value in assistant.config.items() if key != "configurable"}
    config.update(requested)
    config["configurable"] = configurable
    # Checkpoint metadata: langgraph copies config["metadata"] into every checkpoint it writes,
    # which is how a retried run finds the checkpoints it already made.
    config["metadata"] = {
        **assistant.metadata,
        **thread.metadata,
        **run.metadata,
        "graph_id": assistant.graph_id,
        "assistant_id": assistant.assistant_id,
        "run_id": run.run_id,
        "thread_id": run.thread_id,
        "run_attempt": run.attempt,
    }
    return cast(RunnableConfig, config)


def _command(raw: dict[str, Any]) -> Command[Any]:
    goto = raw.get("goto")

    def send(g: Any) -> Any:
        return Send(g["node"], g.get("input")) if isinstance(g, dict) else g

    if isinstance(goto, list):
        goto = [send(g) for g in goto]
    elif goto is not None:
        goto = send(goto)
    update = raw.get("update")
    if isinstance(update, list):
        update = [tuple(pair) for pair in update]
    return Command(resume=raw.get("resume"), update=update, goto=goto or ())


def error_payload(exc: BaseException) -> dict[str, str]:
    return {"error": type(exc).__name__, "message": str(exc)}


async def execute(rt: Runtime, run: Run) -> str:
    """Run the graph to its end or its next interrupt; return the run's final status."""
    async with rt.storage.transaction() as tx:
        thread = await tx.get_thread(run.thread_id)
        assistant = await tx.get_assistant(run.assistant_id)
    if thread is None:  # deleted while queued
        return "interrupted"
    rt.broker.open_run(run.run_id, run.thread_id, bool(run.kwargs.get("resumable")))
    k = run.kwargs
    started_at = now_iso()
    error: dict[str, str] | None = None
    status = "success"
    graph = None
    try:
        if assistant is None:
            raise LookupError(f"assistant {run.assistant_id} was deleted")
        config = build_config(assistant, thread, run)
        graph = await rt.graphs.graph(assistant.graph_id, config)
        graph_input: Any = _command(k["command"]) if k.get("command") else k.get("input")
        if run.attempt > 1:
            # Retried after a crash: continue from the checkpoints this run already wrote.
            latest = await read_state(graph, run.thread_id)
            if latest is not None and latest.metadata and latest.metadata.get("run_id") == run.run_id:
                graph_input = None
        shaper = StreamShaper(k["stream_mode"], bool(k.get("subgraphs")))
        streaming = rt.broker.wants_events(run.run_id)
        context = {**assistant.context, **(k.get("context") or {})}
        # Streaming a graph with subgraphs: stream theirs too (and drop their parts unless the
        # client asked for them) so interrupts raised inside carry their full `ns`.
        inner = bool(k.get("subgraphs")) or (streaming and any(True for _ in graph.get_subgraphs()))
        options = dict(
            stream_mode=shaper.langgraph_modes(track_tasks=streaming),
            subgraphs=inner,
            interrupt_before=k.get("interrupt_before"),
            interrupt_after=k.get("interrupt_after"),
            durability=k.get("durability") or "async",
            context=context or None,
        )
        async for event, data in _events(graph, graph_input, config, options, shaper, "events" in k["stream_mode"]):
            if streaming or rt.broker.wants_events(run.run_id):
                rt.broker.publish(run.run_id, event, serde.dumps(data))
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the graph failed: the run records it, the server carries on
        log.info("run %s failed: %s: %s", run.run_id, type(exc).__name__, exc)
        error = error_payload(exc)
        status = "error"
        rt.broker.publish(run.run_id, "error", serde.dumps(error))
    await finish(rt, run, graph, status, error, started_at)
    return status


async def _events(
    graph: Any,
    graph_input: Any,
    config: RunnableConfig,
    options: dict[str, Any],
    shaper: StreamShaper,
    with_events: bool,
) -> AsyncIterator[tuple[str, Any]]:
    """Drive the graph; yield the (event, data) pairs its stream becomes. With the `events`
    mode the graph runs under astream_events, whose root on_chain_stream events carry the
    same parts astream would have yielded."""
    subgraphs = options["subgraphs"]

    async def parts() -> AsyncIterator[Any]:
        if not with_events:
            async for part in graph.astream(graph_input, config, **options):
                yield part
            return
        async for ev in graph.astream_events(graph_input, config, version="v2", **options):
            if ev["event"] == "on_chain_stream" and not ev.get("parent_ids"):
                yield ev["data"]["chunk"]
            else:
                yield ev  # an `events` event, passed on whole

    async for part in parts():
        if isinstance(part, dict):
            yield "events", part
            continue
        ns, mode, chunk = part if subgraphs else ((), *part)
        for pair in shaper.shape(ns, mode, chunk):
            yield pair


def webhook_payload(run: Run, status: str, output: Any, started_at: str) -> dict[str, Any]:
    """The finished run as the webhook receiver gets it: the Run, its times and its result."""
    payload = {**run.as_dict(), "status": status, "run_started_at": started_at, "run_ended_at": now_iso()}
    if isinstance(output, dict) and "__error__" in output:
        payload["error"] = output["__error__"]
        payload["values"] = None
    else:
        payload["values"] = output
    return payload


async def finish(
    rt: Runtime, run: Run, graph: Any, status: str, error: dict[str, str] | None, started_at: str = ""
) -> None:
    snapshot = await read_state(graph, run.thread_id, subgraphs=True) if graph is not None else None
    if error is not None:
        output: Any = {"__error__": error}
    else:
        values = serde.to_jsonable(snapshot.values) if snapshot else {}
        pending = pending_interrupts(run.thread_id, snapshot) if snapshot else []
        output = values
        if pending:
            items = [p.item() for p in pending]
            output = {**values, "__interrupt__": items} if isinstance(values, dict) else {"__interrupt__": items}
    delete_thread = run.temporary and run.kwargs.get("on_completion", "delete") == "delete"
    async with rt.storage.transaction() as tx:
        current = await tx.get_run(run.run_id)  # None when rolled back or deleted meanwhile
        final = (current or run).replace(status=status, output=output, updated_at=now_iso())
        if current is not None:
            await tx.update_run(final)
        thread = await tx.get_thread(run.thread_id)
        if thread is not None:
            others = [r for r in await tx.inflight_runs(run.thread_id) if r.run_id != run.run_id]
            await apply_snapshot(tx, thread, snapshot, error=error, busy=bool(others))
        if delete_thread:
            await tx.delete_thread(run.thread_id)
    rt.broker.publish_thread(run.thread_id, "metadata", serde.dumps({"status": "run_done", "run_id": run.run_id}))
    if run.kwargs.get("webhook") and rt.webhooks is not None:
        rt.webhooks.send(run.kwargs["webhook"], webhook_payload(run, status, output, started_at))
    if delete_thread:
        await rt.storage.checkpointer.adelete_thread(run.thread_id)
    rt.broker.run_done(run.run_id, final if current is not None else None)
