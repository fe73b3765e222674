"""A cancelled or rolled-back answer is never lost and never applied twice.

The `ledger` graph writes each answer its node receives to a file: the tests wait for that
line (the answer reached the node) instead of sleeping, then cancel the run either inside
`review` (the node never finished: the answer was not consumed) or inside `after` (the
node finished: consumed). The thread's `interrupts`, its status and the answer rule must
always agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from langgraph_sdk.client import LangGraphClient

from tests.api.support import assert_error, flatten_interrupts
from tests.polling import eventually
from tests.stream.helpers import wait_status

SLOW_S = 60  # long enough that only a cancel ends the node


async def _waiting_thread(client: LangGraphClient, ledger: Path, **state: Any) -> tuple[str, str]:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    first = await client.runs.wait(tid, "ledger", input={"some_text": "draft", "ledger": str(ledger), **state})
    (intr,) = first["__interrupt__"]
    return tid, intr["id"]


async def _ledger(ledger: Path, lines: list[str]) -> None:
    async def read() -> list[str]:
        return _read(ledger)

    await eventually(read, lambda text: text == lines, within=10, what=f"ledger to read {lines}")


def _read(ledger: Path) -> list[str]:
    return ledger.read_text().splitlines() if ledger.exists() else []


async def _pending_ids(client: LangGraphClient, tid: str) -> list[str]:
    return [i["id"] for i in flatten_interrupts(await client.threads.get(tid))]


async def test_answer_cancelled_before_the_node_finished_is_pending_again_and_never_reapplied(
    client: LangGraphClient, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    tid, iid = await _waiting_thread(client, ledger, delay=SLOW_S)
    run = await client.runs.create(tid, "ledger", command={"resume": "first answer"})
    await _ledger(ledger, ["first answer"])  # inside the node now
    assert await _pending_ids(client, tid) == []  # claimed while its run goes
    await client.runs.cancel(tid, run["run_id"])
    await wait_status(client, tid, run["run_id"], "interrupted", within=10)

    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted", thread
    assert await _pending_ids(client, tid) == [iid]
    assert (await client.threads.get_state(tid))["values"]["some_text"] == "draft"

    # a plain run does not apply the cancelled answer: the node asks again, same interrupt
    again = await client.runs.wait(tid, "ledger")
    assert [i["id"] for i in again["__interrupt__"]] == [iid]
    assert again["some_text"] == "draft"
    assert _read(ledger) == ["first answer"]

    # answerable again, once; the node sees the new answer only
    done = await client.runs.wait(tid, "ledger", command={"resume": "second answer", "update": {"delay": 0}})
    assert done["some_text"] == "second answer"
    assert _read(ledger) == ["first answer", "second answer"]
    assert (await client.threads.get(tid))["status"] == "idle"
    assert await _pending_ids(client, tid) == []


async def test_answer_consumed_before_the_cancel_stays_answered(
    client: LangGraphClient, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    tid, iid = await _waiting_thread(client, ledger, after_delay=SLOW_S)
    run = await client.runs.create(tid, "ledger", command={"resume": "kept"})
    await _ledger(ledger, ["kept"])
    await eventually(
        lambda: client.threads.get_state(tid), lambda s: s["next"] == ["after"], within=10, what="review finished"
    )
    await client.runs.cancel(tid, run["run_id"])
    await wait_status(client, tid, run["run_id"], "interrupted", within=10)

    thread = await client.threads.get(tid)
    assert thread["status"] == "idle", thread  # cancelled mid-node: nobody is awaited
    assert thread["interrupts"] == {}
    assert thread["values"]["some_text"] == "kept"
    detail = assert_error(
        await http.post(f"/threads/{tid}/runs/wait", json={"assistant_id": "ledger", "command": {"resume": "again"}}),
        409,
    )
    assert iid in detail or "no pending interrupt" in detail, detail
    assert _read(ledger) == ["kept"]


async def test_rollback_puts_the_thread_back_where_it_was(client: LangGraphClient, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    tid, iid = await _waiting_thread(client, ledger, delay=SLOW_S)
    before = await client.threads.get_state(tid)
    run = await client.runs.create(tid, "ledger", command={"resume": "rolled back"})
    await _ledger(ledger, ["rolled back"])
    await client.runs.cancel(tid, run["run_id"], action="rollback")
    await eventually(
        lambda: client.runs.list(tid),
        lambda runs: run["run_id"] not in [r["run_id"] for r in runs],
        within=10,
        what="the rolled-back run to be gone",
    )

    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted", thread
    assert await _pending_ids(client, tid) == [iid]
    after = await client.threads.get_state(tid)
    assert after["values"] == before["values"]
    assert after["checkpoint"] == before["checkpoint"]
    assert after["next"] == before["next"] == ["review"]
    assert [i["id"] for i in after["interrupts"]] == [iid]

    done = await client.runs.wait(tid, "ledger", command={"resume": "real answer", "update": {"delay": 0}})
    assert done["some_text"] == "real answer"
    assert _read(ledger) == ["rolled back", "real answer"]


async def test_rollback_after_the_answer_was_consumed_gives_it_back_too(
    client: LangGraphClient, tmp_path: Path
) -> None:
    """Rolling back undoes the run, the consumed answer included: the same interrupt waits."""
    ledger = tmp_path / "ledger"
    tid, iid = await _waiting_thread(client, ledger, after_delay=SLOW_S)
    before = await client.threads.get_state(tid)
    run = await client.runs.create(tid, "ledger", command={"resume": "undone"})
    await eventually(
        lambda: client.threads.get_state(tid), lambda s: s["next"] == ["after"], within=10, what="review finished"
    )
    await client.runs.cancel(tid, run["run_id"], action="rollback")
    await eventually(
        lambda: client.threads.get(tid), lambda t: t["status"] == "interrupted", within=10, what="thread interrupted"
    )
    assert await _pending_ids(client, tid) == [iid]
    after = await client.threads.get_state(tid)
    assert (after["values"], after["checkpoint"], after["next"]) == (before["values"], before["checkpoint"], ["review"])
    done = await client.runs.wait(tid, "ledger", command={"resume": "final", "update": {"after_delay": 0}})
    assert done["some_text"] == "final"


async def test_a_new_answer_rolling_back_the_running_one_takes_the_interrupt(
    client: LangGraphClient, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    tid, iid = await _waiting_thread(client, ledger, delay=SLOW_S)
    first = await client.runs.create(tid, "ledger", command={"resume": "first"})
    await _ledger(ledger, ["first"])
    second = await client.runs.wait(
        tid, "ledger", command={"resume": {iid: "second"}, "update": {"delay": 0}}, multitask_strategy="rollback"
    )
    assert second["some_text"] == "second"
    assert first["run_id"] not in [r["run_id"] for r in await client.runs.list(tid)]
    assert _read(ledger) == ["first", "second"]
    assert (await client.threads.get(tid))["status"] == "idle"


async def test_cancelling_a_queued_answer_gives_it_back(client: LangGraphClient, http: httpx.AsyncClient) -> None:
    thread = await client.threads.create()
    tid = thread["thread_id"]
    first = await client.runs.wait(tid, "agent", input={"some_text": "x"})
    (intr,) = first["__interrupt__"]
    queued = await client.runs.create(tid, "agent", command={"resume": "later"}, after_seconds=3600)
    assert (await client.threads.get(tid))["status"] == "busy"
    await client.runs.cancel(tid, queued["run_id"])
    assert (await client.runs.get(tid, queued["run_id"]))["status"] == "interrupted"
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert [i["id"] for i in flatten_interrupts(thread)] == [intr["id"]]
    done = await client.runs.wait(tid, "agent", command={"resume": "now"})
    assert done == {"some_text": "now"}


async def test_cancelling_queued_input_gives_the_pending_interrupt_back(client: LangGraphClient) -> None:
    """New input abandons a pending interrupt, but only once it runs: cancelled while queued,
    it leaves the interrupt answerable."""
    thread = await client.threads.create()
    tid = thread["thread_id"]
    first = await client.runs.wait(tid, "agent", input={"some_text": "x"})
    (intr,) = first["__interrupt__"]
    queued = await client.runs.create(tid, "agent", input={"some_text": "new"}, after_seconds=3600)
    assert flatten_interrupts(await client.threads.get(tid)) == []  # moot while the input waits
    await client.runs.cancel(tid, queued["run_id"], action="rollback")
    thread = await client.threads.get(tid)
    assert thread["status"] == "interrupted"
    assert [i["id"] for i in flatten_interrupts(thread)] == [intr["id"]]
    assert await client.runs.wait(tid, "agent", command={"resume": "kept"}) == {"some_text": "kept"}
