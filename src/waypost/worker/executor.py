"""Execute one run: build the graph's input and config, stream it, and read how it ended."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.pregel import Pregel
from langgraph.types import Command, Send, _interrupt_id

from waypost import serde
from waypost.auth.users import AuthUser
from waypost.logs import run_context
from waypost.models import Assistant, CancelAction, PendingInterrupt, Run, RunEnd, Thread, now_iso
from waypost.operations.state import pending_interrupts, read_state
from waypost.runtime import Runtime
from waypost.storage.base import RunSetting
from waypost.worker.stream import MAX_ANSWERS_PER_TASK, StreamShaper

log = logging.getLogger("waypost.worker")


# Set by the server from authentication; a client's config never supplies them.
AUTH_KEYS = ("langgraph_auth_user", "langgraph_auth_user_id", "langgraph_auth_permissions")


def build_config(assistant: Assistant, thread: Thread, run: Run) -> RunnableConfig:
    k = run.kwargs
    requested = dict(k.get("config") or {})
    given = {**(assistant.config.get("configurable") or {}), **(requested.pop("configurable", None) or {})}
    configurable = {
        **(k.get("headers") or {}),  # http.configurable_headers, below what the client set
        **{key: value for key, value in given.items() if key not in AUTH_KEYS},
        "thread_id": run.thread_id,
        "run_id": run.run_id,
        "assistant_id": assistant.assistant_id,
        "graph_id": assistant.graph_id,
    }
    if k.get("auth_user"):
        # The caller's identity, as the official server passes it, so nodes can act on
        # their behalf; rebuilt from the run (it may execute in another process).
        user = AuthUser(k["auth_user"])
        configurable.update(
            langgraph_auth_user=user, langgraph_auth_user_id=user.identity, langgraph_auth_permissions=user.permissions
        )
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


def _command(raw: dict[str, Any], answers: dict[str, Any] | None) -> Command[Any]:
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
    # Answers always go in as {interrupt_id: value}: langgraph keeps a map out of the
    # checkpoint (a bare value would stay there as a pending write that a later run could
    # apply again), and a map can carry null.
    return Command(resume=answers or None, update=update, goto=goto or ())


def error_payload(exc: BaseException) -> dict[str, str]:
    return {"error": type(exc).__name__, "message": str(exc)}


@dataclass
class Execution:
    """What driving a run's graph left behind: the graph (to read its state afterwards)
    and the error it failed with, if it did."""

    assistant: Assistant | None = None
    graph: Pregel | None = None
    error: dict[str, str] | None = None
    shaper: StreamShaper | None = None


async def execute(rt: Runtime, run: Run, execution: Execution, setting: RunSetting | None = None) -> None:
    """Run the graph to its end or its next interrupt, with its thread and assistant as
    `setting` gives them or as they are now. Cancellable: the caller cancels this task to
    stop the graph; what the graph did until then is in its checkpoints."""
    if setting is None:
        async with rt.storage.autocommit() as tx:
            setting = await tx.run_setting(run.thread_id, run.assistant_id)
    thread, assistant = setting.thread, setting.assistant
    execution.assistant = assistant
    if thread is None:  # deleted while queued; the run row went with it
        return
    k = run.kwargs
    try:
        if assistant is None:
            raise LookupError(f"assistant {run.assistant_id} was deleted")
        config = build_config(assistant, thread, run)
        graph = await rt.graphs.graph(assistant.graph_id, config)
        execution.graph = graph
        graph_input: Any = _command(k["command"], run.answers) if k.get("command") else k.get("input")
        if run.attempt > 1:
            # Retried after a crash: continue from the checkpoints this run already wrote.
            latest = await read_state(graph, run.thread_id)
            if latest is not None and latest.metadata and latest.metadata.get("run_id") == run.run_id:
                graph_input = None
        shaper = StreamShaper(k["stream_mode"], bool(k.get("subgraphs")), graph.output_channels)
        execution.shaper = shaper
        events = _Publisher(rt, run)
        streaming = events.wanted()
        if streaming:
            # Each attempt's events open with its metadata, published here rather than by the
            # API: the same publisher as the events, so it is always first, and a run taken
            # over after a crash says so (attempt 2).
            await events.publish("metadata", {"run_id": run.run_id, "attempt": run.attempt})
        context = {**assistant.context, **(k.get("context") or {})}
        # Streaming a graph with subgraphs: stream theirs too (and drop their parts unless the
        # client asked for them) so interrupts raised inside carry their full `ns`.
        inner = bool(k.get("subgraphs")) or (streaming and any(True for _ in graph.get_subgraphs()))
        options = dict(
            stream_mode=shaper.langgraph_modes(),
            subgraphs=inner,
            interrupt_before=k.get("interrupt_before"),
            interrupt_after=k.get("interrupt_after"),
            durability=k.get("durability") or "async",
            context=context or None,
        )
        async for event, data in _events(graph, graph_input, config, options, shaper, "events" in k["stream_mode"]):
            if streaming or events.wanted():
                await events.publish(event, data)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the graph failed: the run records it, the server carries on
        log.info(
            "run %s failed: %s: %s", run.run_id, type(exc).__name__, exc, extra=run_context(run.run_id, run.thread_id)
        )
        execution.error = error_payload(exc)
        await _Publisher(rt, run).publish("error", execution.error)


class _Publisher:
    """A run's live events into the broker. If the broker fails, the run goes on without
    them (its subscribers are told by the broker); storage has everything that matters."""

    def __init__(self, rt: Runtime, run: Run) -> None:
        self.rt, self.run = rt, run
        self.broken = False

    def wanted(self) -> bool:
        run = self.run
        return not self.broken and self.rt.broker.wants_events(
            run.run_id, run.thread_id, streamed=bool(run.kwargs.get("streamed"))
        )

    async def publish(self, event: str, data: Any) -> None:
        try:
            await self.rt.broker.publish(self.run.run_id, self.run.thread_id, event, serde.dumps(data))
        except Exception as exc:
            self.broken = True
            run = self.run
            log.warning(
                "run %s: its live events stop here, the broker failed: %s",
                run.run_id,
                exc,
                extra=run_context(run.run_id, run.thread_id),
            )


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


def run_output(graph: Pregel, values: Any, pending: list[PendingInterrupt]) -> Any:
    """What `runs/wait` answers: the graph's output channels (its output_schema, not private
    state), plus the interrupts waiting for an answer."""
    out = values
    channels = graph.output_channels
    if isinstance(values, dict) and not isinstance(channels, str):
        out = {key: values[key] for key in channels if key in values}
    if pending:
        items = [p.item() for p in pending]
        out = {**out, "__interrupt__": items} if isinstance(out, dict) else {"__interrupt__": items}
    return out


async def conclude(rt: Runtime, run: Run, execution: Execution, cancel: CancelAction | None) -> RunEnd:
    """How the run ended: values, pending interrupts, output. A run that ran to its end is
    read from its own stream where that says everything; otherwise from its checkpoint. A
    rollback first undoes the run in the checkpointer, so what is read is the state before."""
    if cancel is None and execution.error is None:
        ended = _end_from_stream(run, execution)
        if ended is not None:
            return ended
    graph = execution.graph
    if graph is None and execution.assistant is not None:
        graph = await rt.graphs.graph(execution.assistant.graph_id)
    if cancel == "rollback":
        await rt.storage.rollback_checkpoints(run.thread_id, run.run_id)
    snapshot = await read_state(graph, run.thread_id, subgraphs=True) if graph is not None else None
    if graph is None or snapshot is None:
        values = None
        pending: list[PendingInterrupt] | None = [] if graph is not None else None
        output: Any = {}
    else:
        values = serde.to_jsonable(snapshot.values)
        pending = pending_interrupts(run.thread_id, snapshot, **_origin(run, execution))
        output = run_output(graph, values, pending)
    if cancel == "rollback":
        return RunEnd(status="interrupted", output=None, values=values, pending=pending, rolled_back=True)
    if cancel == "interrupt":
        return RunEnd(status="interrupted", output=output, values=values, pending=pending)
    if execution.error is not None:
        return RunEnd(
            status="error",
            output={"__error__": execution.error},
            values=values,
            pending=pending,
            error=execution.error,
        )
    at_breakpoint = bool(snapshot is not None and snapshot.next and not pending)
    return RunEnd(status="success", output=output, values=values, pending=pending, at_breakpoint=at_breakpoint)


def _origin(run: Run, execution: Execution) -> dict[str, str | None]:
    assistant = execution.assistant
    return {
        "run_id": run.run_id,
        "assistant_id": run.assistant_id,
        "graph_id": assistant.graph_id if assistant is not None else None,
    }


def _end_from_stream(run: Run, execution: Execution) -> RunEnd | None:
    """The end of a run that finished, from its own stream alone: its last state, and the
    interrupts its root tasks raised and did not get past. A task interrupted and not run
    again has no pending question: langgraph runs every unfinished task of a step again when
    it resumes, and a new input starts a new step. None when the stream cannot say it
    exactly: an interrupt raised inside a subgraph (its `ns` needs the subgraph's state),
    interrupts from several tasks (their order is the checkpoint's, by task path, which the
    stream does not carry), or a possible breakpoint."""
    graph, shaper = execution.graph, execution.shaper
    if graph is None or shaper is None or not isinstance(shaper.last_values, dict):
        return None
    raising = {task_id: raised for task_id, raised in shaper.root_raised.items() if raised}
    if len(raising) > 1:
        return None
    now = now_iso()
    pending = []
    for task_id, raised in raising.items():
        name = shaper.root_tasks.get(task_id)
        path = f"{name}:{task_id}"
        for intr in raised:
            if name is None or not any(_interrupt_id(path, n) == intr.id for n in range(MAX_ANSWERS_PER_TASK)):
                return None
            pending.append(
                PendingInterrupt(
                    thread_id=run.thread_id,
                    interrupt_id=intr.id,
                    task_id=task_id,
                    ns=[path],
                    value=serde.to_jsonable(intr.value),
                    response_schema=serde.schema_of(intr),
                    created_at=now,
                    run_id=run.run_id,
                    assistant_id=run.assistant_id,
                    graph_id=execution.assistant.graph_id if execution.assistant is not None else None,
                )
            )
    k = run.kwargs
    breakpoints = graph.interrupt_before_nodes or graph.interrupt_after_nodes
    if not pending and (breakpoints or k.get("interrupt_before") or k.get("interrupt_after")):
        return None  # whether it stopped at a breakpoint needs the next tasks: read the state
    values = serde.to_jsonable({key: v for key, v in shaper.last_values.items() if key != "__interrupt__"})
    return RunEnd(status="success", output=run_output(graph, values, pending), values=values, pending=pending)
