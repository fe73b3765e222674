"""Runs: rows, listing, in-flight runs, and the queue (claim_next_run, requeue_running)."""

from __future__ import annotations

from tests.storage import factories as f
from waypost.models import Run
from waypost.storage.base import Page, Storage


async def _thread(storage: Storage) -> str:
    t = f.thread()
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
    return t.thread_id


async def _insert(storage: Storage, *runs: Run) -> None:
    async with storage.transaction() as tx:
        for r in runs:
            await tx.insert_run(r)


async def _claim(storage: Storage, now: float = 1000) -> Run | None:
    async with storage.transaction() as tx:
        return await tx.claim_next_run(f.ts(now))


async def _get(storage: Storage, run_id: str) -> Run:
    async with storage.transaction() as tx:
        r = await tx.get_run(run_id)
    assert r is not None, run_id
    return r


async def _finish(storage: Storage, run_id: str, status: str = "success") -> None:
    async with storage.transaction() as tx:
        r = await tx.get_run(run_id)
        assert r is not None
        await tx.update_run(r.replace(status=status, updated_at=f.ts(2000)))


# --- rows -----------------------------------------------------------------------------------

async def test_insert_get_roundtrip(storage: Storage) -> None:
    tid = await _thread(storage)
    r = f.run(tid, metadata={"assistant_id": "a", "tags": {"x": [1]}}, temporary=True,
              kwargs={"input": {"some_text": "x"}, "command": None, "stream_mode": ["values", "updates"],
                      "config": {"configurable": {"k": 1}}},
              available_at=f.ts(30), at=10)
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


async def test_update(storage: Storage) -> None:
    tid = await _thread(storage)
    r, other = f.run(tid, at=1), f.run(tid, at=2)
    await _insert(storage, r, other)
    changed = r.replace(status="success", updated_at=f.ts(50), metadata={"m": 1},
                        kwargs={"input": None}, attempt=3, output={"some_text": "done", "__interrupt__": []})
    async with storage.transaction() as tx:
        await tx.update_run(changed)
    got = await _get(storage, r.run_id)
    assert (got.status, got.updated_at, got.metadata, got.kwargs, got.attempt, got.output) == (
        "success", f.ts(50), {"m": 1}, {"input": None}, 3, {"some_text": "done", "__interrupt__": []})
    assert got.created_at == r.created_at and got.thread_id == tid
    assert await _get(storage, other.run_id) == other.replace(available_at=other.created_at)


async def test_delete(storage: Storage) -> None:
    tid = await _thread(storage)
    r, kept = f.run(tid), f.run(tid, at=1)
    await _insert(storage, r, kept)
    async with storage.transaction() as tx:
        assert await tx.delete_run(r.run_id) is True
        assert await tx.get_run(r.run_id) is None
        assert await tx.delete_run(r.run_id) is False
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
            runs[3].run_id, runs[2].run_id]
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


# --- the queue ------------------------------------------------------------------------------

async def test_claim_on_empty_queue(storage: Storage) -> None:
    assert await _claim(storage) is None


async def test_claim_marks_running_and_increments_attempt(storage: Storage) -> None:
    tid = await _thread(storage)
    r = f.run(tid, at=1)
    await _insert(storage, r)
    claimed = await _claim(storage, now=500)
    assert claimed is not None
    assert claimed.run_id == r.run_id
    assert (claimed.status, claimed.attempt, claimed.updated_at) == ("running", 1, f.ts(500))
    assert claimed.kwargs == r.kwargs and claimed.thread_id == tid
    stored = await _get(storage, r.run_id)
    assert (stored.status, stored.attempt) == ("running", 1)
    assert await _claim(storage) is None  # nothing else to claim


async def test_claim_is_fifo_across_threads(storage: Storage) -> None:
    tids = [await _thread(storage) for _ in range(3)]
    runs = [f.run(tids[i % 3], at=i) for i in range(3)]
    await _insert(storage, *runs)
    claimed = [await _claim(storage) for _ in range(3)]
    assert [c.run_id for c in claimed if c] == [r.run_id for r in runs]
    assert await _claim(storage) is None


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
    await _finish(storage, a1.run_id)
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
    delayed = f.run(a, at=1, available_at=f.ts(2000))
    younger = f.run(a, at=2)
    other = f.run(b, at=3)
    await _insert(storage, delayed, younger, other)
    claimed = await _claim(storage, now=1000)
    assert claimed is not None and claimed.run_id == other.run_id
    assert await _claim(storage, now=1000) is None
    assert (await _get(storage, younger.run_id)).status == "pending"
    await _finish(storage, other.run_id)
    # once the delay passes, the older one goes first, then the younger one
    first = await _claim(storage, now=3000)
    assert first is not None and first.run_id == delayed.run_id
    assert await _claim(storage, now=3000) is None
    await _finish(storage, delayed.run_id)
    second = await _claim(storage, now=3000)
    assert second is not None and second.run_id == younger.run_id


async def test_available_at_in_the_future_is_not_claimed(storage: Storage) -> None:
    tid = await _thread(storage)
    r = f.run(tid, at=0, available_at=f.ts(100))
    await _insert(storage, r)
    assert await _claim(storage, now=50) is None
    assert await _claim(storage, now=99.999) is None
    claimed = await _claim(storage, now=100)  # available_at <= now
    assert claimed is not None and claimed.run_id == r.run_id and claimed.attempt == 1


async def test_delayed_run_does_not_block_other_threads(storage: Storage) -> None:
    a, b = await _thread(storage), await _thread(storage)
    delayed, ready = f.run(a, at=0, available_at=f.ts(5000)), f.run(b, at=1)
    await _insert(storage, delayed, ready)
    claimed = await _claim(storage, now=10)
    assert claimed is not None and claimed.run_id == ready.run_id


async def test_only_pending_runs_are_claimed(storage: Storage) -> None:
    tids = [await _thread(storage) for _ in range(5)]
    for tid, status in zip(tids, ["success", "error", "interrupted", "timeout", "running"], strict=True):
        await _insert(storage, f.run(tid, status=status))
    assert await _claim(storage) is None


async def test_requeue_running_puts_running_back_to_pending(storage: Storage) -> None:
    a, b, c = await _thread(storage), await _thread(storage), await _thread(storage)
    ra, rb = f.run(a, at=1), f.run(b, at=2)
    done = f.run(c, status="success", at=0)
    waiting = f.run(c, at=3)
    await _insert(storage, done, ra, rb, waiting)
    claimed = [await _claim(storage) for _ in range(3)]
    assert [r.run_id for r in claimed if r] == [ra.run_id, rb.run_id, waiting.run_id]
    await _finish(storage, waiting.run_id)

    async with storage.transaction() as tx:
        requeued = await tx.requeue_running()
    assert sorted(r.run_id for r in requeued) == sorted([ra.run_id, rb.run_id])
    assert all(r.status == "pending" for r in requeued)
    assert {r.run_id: r.attempt for r in requeued} == {ra.run_id: 1, rb.run_id: 1}
    assert (await _get(storage, ra.run_id)).status == "pending"
    assert (await _get(storage, done.run_id)).status == "success"
    assert (await _get(storage, waiting.run_id)).status == "success"
    async with storage.transaction() as tx:
        assert await tx.requeue_running() == []

    # claimed again, in the original order, with the attempt counting on
    again = [await _claim(storage) for _ in range(2)]
    assert [(r.run_id, r.attempt) for r in again if r] == [(ra.run_id, 2), (rb.run_id, 2)]
    async with storage.transaction() as tx:
        await tx.requeue_running()
    third = await _claim(storage)
    assert third is not None and (third.run_id, third.attempt) == (ra.run_id, 3)


async def test_requeued_run_keeps_its_place_ahead_of_later_runs_on_its_thread(storage: Storage) -> None:
    tid = await _thread(storage)
    first, later = f.run(tid, at=1), f.run(tid, at=2)
    await _insert(storage, first, later)
    claimed = await _claim(storage)
    assert claimed is not None and claimed.run_id == first.run_id
    async with storage.transaction() as tx:
        await tx.requeue_running()
    again = await _claim(storage)
    assert again is not None and (again.run_id, again.attempt) == (first.run_id, 2)
    assert await _claim(storage) is None
