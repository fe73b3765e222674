"""Runs: rows, listing, the queue, and the lifecycle of a held run.

Every transition is conditional and says whether it applied: a run is ended only by the
attempt that holds it, a cancel only lands on a run in the state it expects, a lapsed lease
is taken back. Times that matter (due, lease) come from the database's clock, so the tests
use delays far in the future or in the past rather than fixed instants.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.storage import factories as f
from waypost.models import Run
from waypost.storage.base import Ended, Page, RunTimes, Storage

WORKER = "worker-a"
OTHER = "worker-b"
LEASE_S = 60.0


def _in(seconds: float) -> str:
    """An ISO time `seconds` from now (negative: in the past)."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="microseconds")


async def _thread(storage: Storage) -> str:
    t = f.thread()
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
    return t.thread_id


async def _insert(storage: Storage, *runs: Run) -> None:
    async with storage.transaction() as tx:
        for r in runs:
            await tx.insert_run(r)


async def _claim(storage: Storage, worker: str = WORKER, lease_s: float = LEASE_S) -> Run | None:
    async with storage.transaction() as tx:
        claimed = await tx.claim_runs(worker, lease_s, 1)
    assert len(claimed) <= 1, claimed
    return claimed[0] if claimed else None


async def _get(storage: Storage, run_id: str) -> Run:
    async with storage.transaction() as tx:
        r = await tx.get_run(run_id)
    assert r is not None, run_id
    return r


async def _finish(storage: Storage, run: Run, status: str = "success") -> bool:
    async with storage.transaction() as tx:
        return await tx.finish_run(run.run_id, run.attempt, status, {"done": True}, f.ts(2000), waiting=[]) is not None


# --- rows -----------------------------------------------------------------------------------


async def test_insert_get_roundtrip(storage: Storage) -> None:
    tid = await _thread(storage)
    r = f.run(
        tid,
        metadata={"assistant_id": "a", "tags": {"x": [1]}},
        temporary=True,
        kwargs={
            "input": {"some_text": "x"},
            "command": None,
            "stream_mode": ["values", "updates"],
            "config": {"configurable": {"k": 1}},
        },
        available_at=f.ts(30),
        at=10,
    ).replace(answers={"a" * 32: None, "b" * 32: {"v": [1]}})
    await _insert(storage, r)
    assert await _get(storage, r.run_id) == r
    async with storage.transaction() as tx:
        assert await tx.get_run(f.new_id()) is None


async def test_available_at_defaults_to_created_at(storage: Storage) -> None:
    tid = await _thread(storage)
    r = f.run(tid, at=7)
    assert r.available_at == ""
    await _insert(storage, r)
    got = await _get(storage, r.run_id)
    assert got == r.replace(available_at=r.created_at)
    assert got.attempt == 0 and got.output is None and got.temporary is False
    assert got.cancel_action is None and got.lease_owner is None and got.answers is None


async def test_delete_finished_run_only(storage: Storage) -> None:
    tid = await _thread(storage)
    done, pending, kept = f.run(tid, status="success"), f.run(tid, at=1), f.run(tid, status="error", at=2)
    await _insert(storage, done, pending, kept)
    async with storage.transaction() as tx:
        assert await tx.delete_finished_run(done.run_id) is True
        assert await tx.get_run(done.run_id) is None
        assert await tx.delete_finished_run(done.run_id) is False
        assert await tx.delete_finished_run(pending.run_id) is False  # in flight: refused
        assert await tx.get_run(pending.run_id) is not None
        assert await tx.get_run(kept.run_id) is not None
        assert await tx.get_thread(tid) is not None  # deleting a run leaves its thread


async def test_list_runs_newest_first_with_status_filter_and_paging(storage: Storage) -> None:
    tid, other_tid = await _thread(storage), await _thread(storage)
    statuses = ["success", "error", "success", "interrupted", "pending"]
    runs = [f.run(tid, status=s, at=i) for i, s in enumerate(statuses)]
    await _insert(storage, runs[0], runs[1], f.run(other_tid, status="success", at=1.5), *runs[2:])
    async with storage.transaction() as tx:
        listed = await tx.list_runs(tid, None, Page(limit=10))
        assert [r.run_id for r in listed] == [r.run_id for r in reversed(runs)]
        success = await tx.list_runs(tid, "success", Page(limit=10))
        assert [r.run_id for r in success] == [runs[2].run_id, runs[0].run_id]
        assert await tx.list_runs(tid, "running", Page(limit=10)) == []
        assert [r.run_id for r in await tx.list_runs(tid, None, Page(limit=2, offset=1))] == [
            runs[3].run_id,
            runs[2].run_id,
        ]
        assert await tx.list_runs(tid, None, Page(limit=2, offset=5)) == []
        assert await tx.list_runs(f.new_id(), None, Page(limit=10)) == []


async def test_list_runs_newest_first_follows_insertion_not_timestamps(storage: Storage) -> None:
    """Runs created in the same instant (or with a clock step back) still list newest first."""
    tid = await _thread(storage)
    runs = [f.run(tid, at=0) for _ in range(3)] + [f.run(tid, at=-5)]
    await _insert(storage, *runs)
    async with storage.transaction() as tx:
        listed = await tx.list_runs(tid, None, Page(limit=10))
    assert [r.run_id for r in listed] == [r.run_id for r in reversed(runs)]


async def test_inflight_runs(storage: Storage) -> None:
    tid, other_tid = await _thread(storage), await _thread(storage)
    statuses = ["success", "running", "error", "pending", "interrupted", "pending", "timeout"]
    runs = [f.run(tid, status=s, at=i) for i, s in enumerate(statuses)]
    await _insert(storage, *runs, f.run(other_tid, status="pending", at=9))
    async with storage.transaction() as tx:
        inflight = await tx.inflight_runs(tid)
        assert [r.run_id for r in inflight] == [runs[1].run_id, runs[3].run_id, runs[5].run_id]  # oldest first
        assert [r.status for r in inflight] == ["running", "pending", "pending"]
        assert await tx.inflight_runs(f.new_id()) == []


async def test_runs_by_status(storage: Storage) -> None:
    tid = await _thread(storage)
    runs = [f.run(tid, status=s, at=i) for i, s in enumerate(["pending", "success", "running", "pending"])]
    await _insert(storage, *runs)
    async with storage.transaction() as tx:
        assert [r.run_id for r in await tx.runs_by_status(["pending"])] == [runs[0].run_id, runs[3].run_id]
        assert [r.run_id for r in await tx.runs_by_status(["pending", "running"])] == [
            runs[0].run_id,
            runs[2].run_id,
            runs[3].run_id,
        ]
        assert await tx.runs_by_status(["timeout"]) == []


# --- the queue ------------------------------------------------------------------------------


async def test_claim_on_empty_queue(storage: Storage) -> None:
    assert await _claim(storage) is None


async def test_claim_marks_running_held_and_increments_attempt(storage: Storage) -> None:
    tid = await _thread(storage)
    r = f.run(tid, at=1)
    await _insert(storage, r)
    claimed = await _claim(storage)
    assert claimed is not None
    assert claimed.run_id == r.run_id
    assert (claimed.status, claimed.attempt, claimed.lease_owner) == ("running", 1, WORKER)
    assert claimed.updated_at > r.updated_at
    assert claimed.kwargs == r.kwargs and claimed.thread_id == tid
    stored = await _get(storage, r.run_id)
    assert (stored.status, stored.attempt, stored.lease_owner) == ("running", 1, WORKER)
    assert await _claim(storage) is None  # nothing else to claim


async def test_claim_is_fifo_across_threads(storage: Storage) -> None:
    tids = [await _thread(storage) for _ in range(3)]
    runs = [f.run(tids[i % 3], at=i) for i in range(3)]
    await _insert(storage, *runs)
    claimed = [await _claim(storage) for _ in range(3)]
    assert [c.run_id for c in claimed if c] == [r.run_id for r in runs]
    assert await _claim(storage) is None


async def test_claim_several_at_once_one_per_thread_oldest_first(storage: Storage) -> None:
    a, b, c = await _thread(storage), await _thread(storage), await _thread(storage)
    a1, b1, a2, c1, b2 = f.run(a, at=0), f.run(b, at=1), f.run(a, at=2), f.run(c, at=3), f.run(b, at=4)
    await _insert(storage, a1, b1, a2, c1, b2)
    async with storage.transaction() as tx:
        claimed = await tx.claim_runs(WORKER, LEASE_S, 10)
    assert sorted(r.run_id for r in claimed) == sorted([a1.run_id, b1.run_id, c1.run_id])
    assert all((r.status, r.attempt, r.lease_owner) == ("running", 1, WORKER) for r in claimed)
    async with storage.transaction() as tx:
        assert await tx.claim_runs(WORKER, LEASE_S, 10) == []
    assert await _finish(storage, next(r for r in claimed if r.run_id == b1.run_id))
    async with storage.transaction() as tx:
        (only,) = await tx.claim_runs(WORKER, LEASE_S, 10)
    assert only.run_id == b2.run_id


async def test_claim_takes_no_more_than_asked(storage: Storage) -> None:
    tids = [await _thread(storage) for _ in range(5)]
    runs = [f.run(tid, at=i) for i, tid in enumerate(tids)]
    await _insert(storage, *runs)
    async with storage.transaction() as tx:
        first = await tx.claim_runs(WORKER, LEASE_S, 2)
        rest = await tx.claim_runs(WORKER, LEASE_S, 5)
    assert sorted(r.run_id for r in first) == sorted(r.run_id for r in runs[:2])
    assert sorted(r.run_id for r in rest) == sorted(r.run_id for r in runs[2:])


async def test_claim_fifo_follows_insertion_order(storage: Storage) -> None:
    """The queue order is the order runs were inserted, even when created_at ties."""
    tids = [await _thread(storage) for _ in range(4)]
    runs = [f.run(tid, at=0) for tid in tids]
    await _insert(storage, *runs)
    claimed = [await _claim(storage) for _ in range(4)]
    assert [c.run_id for c in claimed if c] == [r.run_id for r in runs]


async def test_never_two_running_runs_on_one_thread(storage: Storage) -> None:
    a, b = await _thread(storage), await _thread(storage)
    a1, b1, a2 = f.run(a, at=1), f.run(b, at=2), f.run(a, at=3)
    await _insert(storage, a1, b1, a2)
    first, second = await _claim(storage), await _claim(storage)
    assert first is not None and second is not None
    assert (first.run_id, second.run_id) == (a1.run_id, b1.run_id)
    assert await _claim(storage) is None  # a2 waits: a1 is running on its thread
    assert await _finish(storage, first)
    third = await _claim(storage)
    assert third is not None and third.run_id == a2.run_id
    assert await _claim(storage) is None


async def test_running_run_inserted_directly_blocks_its_thread(storage: Storage) -> None:
    a, b = await _thread(storage), await _thread(storage)
    await _insert(storage, f.run(a, status="running", at=0, attempt=1))
    waiting, free = f.run(a, at=1), f.run(b, at=2)
    await _insert(storage, waiting, free)
    claimed = await _claim(storage)
    assert claimed is not None and claimed.run_id == free.run_id
    assert await _claim(storage) is None


async def test_later_pending_run_waits_for_earlier_pending_run(storage: Storage) -> None:
    a, b = await _thread(storage), await _thread(storage)
    # the older run on thread a is delayed; the younger one must not overtake it
    delayed = f.run(a, at=1, available_at=_in(3600))
    younger = f.run(a, at=2)
    other = f.run(b, at=3)
    await _insert(storage, delayed, younger, other)
    claimed = await _claim(storage)
    assert claimed is not None and claimed.run_id == other.run_id
    assert await _claim(storage) is None
    assert (await _get(storage, younger.run_id)).status == "pending"


EPOCH = "2000-01-01T00:00:00.000000+00:00"


async def _run_times(storage: Storage, since: str) -> RunTimes:
    async with storage.transaction() as tx:
        return await tx.run_times(since)


async def test_due_and_delayed_runs(storage: Storage) -> None:
    a, b = await _thread(storage), await _thread(storage)
    later, due = f.run(a, at=0, available_at=_in(3600)), f.run(b, at=1, available_at=_in(-1))
    await _insert(storage, later, due)
    seen = await _run_times(storage, EPOCH)
    assert (seen.became_due, seen.next_at) == (True, later.available_at)
    claimed = await _claim(storage)
    assert claimed is not None and claimed.run_id == due.run_id  # a delayed run blocks no other thread
    assert await _claim(storage) is None
    again = await _run_times(storage, seen.now)
    assert (again.became_due, again.next_at) == (False, later.available_at)


async def test_a_run_that_became_runnable_between_two_looks_is_reported(storage: Storage) -> None:
    """The scheduler wakes the worker for delayed runs. Asked only "when is the next one?", a
    look that came just after a run's time would see none and the run would wait for some
    unrelated wake-up; asked "did one become runnable since the last look?", none is skipped."""
    first = await _run_times(storage, EPOCH)
    assert (first.became_due, first.next_at) == (False, None)
    tid = await _thread(storage)
    run = f.run(tid, available_at=_in(0.05))
    await _insert(storage, run)
    await asyncio.sleep(0.1)  # its time passes before the next look
    second = await _run_times(storage, first.now)
    assert (second.became_due, second.next_at) == (True, None)
    assert second.now > first.now
    third = await _run_times(storage, second.now)  # told once
    assert (third.became_due, third.next_at) == (False, None)


async def test_run_times_without_delayed_runs(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid, available_at=_in(-1)))
    seen = await _run_times(storage, EPOCH)
    assert seen.next_at is None


async def test_only_pending_runs_are_claimed(storage: Storage) -> None:
    tids = [await _thread(storage) for _ in range(5)]
    for tid, status in zip(tids, ["success", "error", "interrupted", "timeout", "running"], strict=True):
        await _insert(storage, f.run(tid, status=status))
    assert await _claim(storage) is None


async def test_a_thread_held_by_a_state_update_starts_no_run(storage: Storage) -> None:
    a, b = await _thread(storage), await _thread(storage)
    async with storage.transaction() as tx:
        assert await tx.lock_thread_state(a, 60) is True
        assert await tx.lock_thread_state(a, 60) is False  # one update at a time
    ra, rb = f.run(a, at=0), f.run(b, at=1)
    await _insert(storage, ra, rb)
    claimed = await _claim(storage)
    assert claimed is not None and claimed.run_id == rb.run_id
    assert await _claim(storage) is None
    async with storage.transaction() as tx:
        await tx.unlock_thread_state(a)
    claimed = await _claim(storage)
    assert claimed is not None and claimed.run_id == ra.run_id


async def test_a_state_update_cannot_hold_a_thread_with_a_run_in_flight(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    async with storage.transaction() as tx:
        assert await tx.lock_thread_state(tid, 60) is False


async def test_an_expired_state_update_hold_lapses(storage: Storage) -> None:
    tid = await _thread(storage)
    async with storage.transaction() as tx:
        assert await tx.lock_thread_state(tid, -1) is True  # a holder that died long ago
    await _insert(storage, f.run(tid))
    assert await _claim(storage) is not None
    async with storage.transaction() as tx:
        assert await tx.lock_thread_state(tid, 60) is False  # now a run is in flight


# --- a held run's end -------------------------------------------------------------------------


async def test_finish_only_by_the_holding_attempt(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    held = await _claim(storage)
    assert held is not None
    assert await _finish(storage, held.replace(attempt=held.attempt + 1)) is False  # not the holder
    assert await _finish(storage, held, "error") is True
    got = await _get(storage, held.run_id)
    assert (got.status, got.output, got.updated_at, got.lease_owner) == ("error", {"done": True}, f.ts(2000), None)
    assert await _finish(storage, held) is False  # already ended: nothing changes
    assert (await _get(storage, held.run_id)).status == "error"


async def test_a_cancel_asked_before_the_end_wins(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    held = await _claim(storage)
    assert held is not None
    async with storage.transaction() as tx:
        assert await tx.request_cancel(held.run_id, "interrupt") is True
    assert await _finish(storage, held) is False
    got = await _get(storage, held.run_id)
    assert (got.status, got.cancel_action) == ("running", "interrupt")
    async with storage.transaction() as tx:
        assert await tx.end_cancelled_run(held.run_id, held.attempt + 1, None, f.ts(3), waiting=[]) is None
        assert await tx.end_cancelled_run(held.run_id, held.attempt, {"at": "cancel"}, f.ts(3), waiting=[]) is not None
    got = await _get(storage, held.run_id)
    assert (got.status, got.output) == ("interrupted", {"at": "cancel"})


async def test_request_cancel_only_lands_on_a_running_run_and_never_downgrades(storage: Storage) -> None:
    tid = await _thread(storage)
    pending = f.run(tid)
    await _insert(storage, pending)
    async with storage.transaction() as tx:
        assert await tx.request_cancel(pending.run_id, "interrupt") is False
        assert await tx.request_cancel(f.new_id(), "interrupt") is False
    held = await _claim(storage)
    assert held is not None
    async with storage.transaction() as tx:
        assert await tx.request_cancel(held.run_id, "rollback") is True
        assert await tx.request_cancel(held.run_id, "interrupt") is True
    assert (await _get(storage, held.run_id)).cancel_action == "rollback"


async def test_renew_lease_reports_a_cancel_and_a_lost_lease(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    held = await _claim(storage)
    assert held is not None
    async with storage.transaction() as tx:
        lease = await tx.renew_lease(held.run_id, held.attempt, WORKER, LEASE_S)
        assert lease is not None and lease.cancel_action is None
        assert await tx.renew_lease(held.run_id, held.attempt, OTHER, LEASE_S) is None
        assert await tx.renew_lease(held.run_id, held.attempt + 1, WORKER, LEASE_S) is None
        await tx.request_cancel(held.run_id, "interrupt")
        lease = await tx.renew_lease(held.run_id, held.attempt, WORKER, LEASE_S)
        assert lease is not None and lease.cancel_action == "interrupt"


async def test_cancel_and_drop_pending_runs(storage: Storage) -> None:
    tid = await _thread(storage)
    first, second = f.run(tid, at=0), f.run(tid, at=1)
    await _insert(storage, first, second)
    async with storage.transaction() as tx:
        assert await tx.cancel_pending_run(first.run_id, f.ts(5)) is True
        assert await tx.cancel_pending_run(first.run_id, f.ts(6)) is False
        assert await tx.drop_pending_run(second.run_id) is True
        assert await tx.drop_pending_run(second.run_id) is False
    got = await _get(storage, first.run_id)
    assert (got.status, got.updated_at) == ("interrupted", f.ts(5))
    async with storage.transaction() as tx:
        assert await tx.get_run(second.run_id) is None


async def test_a_claimed_run_is_no_longer_cancelled_as_pending(storage: Storage) -> None:
    """The canceller read `pending`; the claim came first: its conditional write says so."""
    tid = await _thread(storage)
    r = f.run(tid)
    await _insert(storage, r)
    assert await _claim(storage) is not None
    async with storage.transaction() as tx:
        assert await tx.cancel_pending_run(r.run_id, f.ts(5)) is False
        assert await tx.drop_pending_run(r.run_id) is False
    assert (await _get(storage, r.run_id)).status == "running"


async def test_drop_held_run(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    held = await _claim(storage)
    assert held is not None
    async with storage.transaction() as tx:
        assert await tx.drop_held_run(held.run_id, held.attempt + 1, waiting=[]) is None
        assert await tx.drop_held_run(held.run_id, held.attempt, waiting=[]) is not None
        assert await tx.get_run(held.run_id) is None


async def test_release_hands_a_run_back_to_the_queue_in_its_place(storage: Storage) -> None:
    tid = await _thread(storage)
    first, later = f.run(tid, at=1), f.run(tid, at=2)
    await _insert(storage, first, later)
    held = await _claim(storage)
    assert held is not None and held.run_id == first.run_id
    async with storage.transaction() as tx:
        assert await tx.release_run(held.run_id, held.attempt, OTHER) is False
        assert await tx.release_run(held.run_id, held.attempt, WORKER) is True
    again = await _claim(storage)
    assert again is not None and (again.run_id, again.attempt) == (first.run_id, 2)
    assert await _claim(storage) is None


async def test_a_run_with_a_cancel_pending_is_not_handed_back(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    held = await _claim(storage)
    assert held is not None
    async with storage.transaction() as tx:
        await tx.request_cancel(held.run_id, "interrupt")
        assert await tx.release_run(held.run_id, held.attempt, WORKER) is False
    assert (await _get(storage, held.run_id)).status == "running"


# --- lapsed leases ------------------------------------------------------------------------------


async def test_lapsed_leases_are_queued_again_in_their_place(storage: Storage) -> None:
    a, b, c = await _thread(storage), await _thread(storage), await _thread(storage)
    ra, rb, rc = f.run(a, at=1), f.run(b, at=2), f.run(c, at=3)
    later = f.run(a, at=4)
    await _insert(storage, ra, rb, rc, later)
    dead = [await _claim(storage, OTHER, lease_s=-1) for _ in range(2)]  # a dead worker's
    live = await _claim(storage, OTHER, lease_s=LEASE_S)
    assert [r.run_id for r in dead if r] == [ra.run_id, rb.run_id] and live is not None

    async with storage.transaction() as tx:
        requeued, taken = await tx.expire_leases(WORKER)
    assert (requeued, taken) == (2, [])
    assert [(await _get(storage, r)).status for r in (ra.run_id, rb.run_id, rc.run_id)] == [
        "pending",
        "pending",
        "running",
    ]
    again = [await _claim(storage) for _ in range(2)]
    assert [(r.run_id, r.attempt, r.lease_owner) for r in again if r] == [
        (ra.run_id, 2, WORKER),
        (rb.run_id, 2, WORKER),
    ]
    assert await _claim(storage) is None  # `later` still waits behind ra
    async with storage.transaction() as tx:
        assert await tx.expire_leases(WORKER) == (0, [])


async def test_a_worker_never_expires_its_own_leases(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    assert await _claim(storage, WORKER, lease_s=-1) is not None
    async with storage.transaction() as tx:
        assert await tx.expire_leases(WORKER) == (0, [])
        assert await tx.expire_leases(OTHER) == (1, [])


async def test_a_lapsed_cancelled_run_is_taken_over_to_be_ended(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    held = await _claim(storage, OTHER, lease_s=-1)
    assert held is not None
    async with storage.transaction() as tx:
        await tx.request_cancel(held.run_id, "rollback")
        requeued, taken = await tx.expire_leases(WORKER)
    assert requeued == 0
    (run,) = taken
    assert (run.run_id, run.status, run.attempt, run.lease_owner, run.cancel_action) == (
        held.run_id,
        "running",
        held.attempt + 1,
        WORKER,
        "rollback",
    )
    async with storage.transaction() as tx:
        assert await tx.drop_held_run(held.run_id, held.attempt, waiting=[]) is None  # the dead attempt can't
        assert await tx.drop_held_run(run.run_id, run.attempt, waiting=[]) is not None


async def test_the_old_holder_loses_a_run_taken_back(storage: Storage) -> None:
    tid = await _thread(storage)
    await _insert(storage, f.run(tid))
    stale = await _claim(storage, OTHER, lease_s=-1)
    assert stale is not None
    async with storage.transaction() as tx:
        await tx.expire_leases(WORKER)
    fresh = await _claim(storage)
    assert fresh is not None and fresh.attempt == stale.attempt + 1
    async with storage.transaction() as tx:
        assert await tx.renew_lease(stale.run_id, stale.attempt, OTHER, LEASE_S) is None
    assert await _finish(storage, stale) is False
    assert await _finish(storage, fresh) is True


async def test_forget_leases(storage: Storage) -> None:
    a, b = await _thread(storage), await _thread(storage)
    await _insert(storage, f.run(a), f.run(b))
    assert await _claim(storage, OTHER) is not None
    async with storage.transaction() as tx:
        assert await tx.expire_leases(WORKER) == (0, [])  # its lease is still good
        assert await tx.forget_leases() == 1
        assert await tx.expire_leases(WORKER) == (1, [])


@pytest.mark.parametrize("how", ["finish", "cancelled", "dropped"])
async def test_a_held_runs_end_says_whether_runs_wait_behind_it(storage: Storage, how: str) -> None:
    """The end of a held run tells whether its thread still has runs in flight (the thread
    then stays busy and the workers are told): a run queued behind it counts, the run that
    ended and runs of other threads do not. It carries the thread's interrupt rows in play as
    the transaction sees them then: the pending ones, and those named as still waiting in the
    run's checkpoint whatever their state (a superseded one here), not the thread's answered
    history, and no other thread's."""
    tid, other = await _thread(storage), await _thread(storage)
    first, elsewhere = f.run(tid, at=1), f.run(other, at=2)
    await _insert(storage, first, elsewhere)
    held = await _claim(storage)
    assert held is not None and held.run_id == first.run_id

    async def end(run: Run) -> tuple[Ended | None, list[str]]:
        async with storage.transaction() as tx:
            assert await tx.get_thread(run.thread_id, for_update=True) is not None
            if how == "finish":
                ended = await tx.finish_run(run.run_id, run.attempt, "success", None, f.ts(5), waiting=["a"])
            elif how == "cancelled":
                ended = await tx.end_cancelled_run(run.run_id, run.attempt, None, f.ts(5), waiting=["a"])
            else:
                ended = await tx.drop_held_run(run.run_id, run.attempt, waiting=["a"])
            rows = [i for i in await tx.thread_interrupts(run.thread_id, superseded=True) if i.interrupt_id != "old"]
        assert ended is None or ended.interrupts == rows
        return ended, [i.interrupt_id for i in rows]

    async with storage.transaction() as tx:
        await tx.upsert_interrupt(f.interrupt(tid, interrupt_id="old", at=0))
        assert await tx.answer_interrupts(tid, ["old"], "an-earlier-run", f.ts(1)) == 1
        for item in (f.interrupt(tid, interrupt_id="a", at=1), f.interrupt(other, interrupt_id="x", at=2)):
            await tx.upsert_interrupt(item)
        await tx.supersede_interrupts(tid, "some-run")
        await tx.upsert_interrupt(f.interrupt(tid, interrupt_id="b", at=3))
    behind = f.run(tid, at=3)
    await _insert(storage, behind)
    ended, ids = await end(held)
    assert ended is not None and ended.others_inflight and ids == ["a", "b"]
    assert ended.interrupts[0].superseded_by == "some-run" and ended.interrupts[1].pending
    last = await _claim(storage)
    assert last is not None and last.run_id in (behind.run_id, elsewhere.run_id)
    if last.run_id == elsewhere.run_id:
        last = await _claim(storage)
    assert last is not None and last.run_id == behind.run_id
    async with storage.transaction() as tx:
        await tx.upsert_interrupt(f.interrupt(tid, interrupt_id="c", at=4))
    ended, ids = await end(last)
    assert ended is not None and not ended.others_inflight and ids == ["a", "b", "c"]
    assert (await end(last))[0] is None  # ended already: nothing applies
