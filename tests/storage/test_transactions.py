"""Transactions (atomic, rolled back on error, serialized) and migrate()."""

from __future__ import annotations

import asyncio

import pytest

from tests.storage import factories as f
from waypost.errors import StorageError
from waypost.storage import open_storage
from waypost.storage.base import AssistantFilter, Page, Storage, ThreadFilter


class Boom(Exception):
    pass


async def _snapshot(storage: Storage, thread_ids: list[str]) -> dict:
    """Everything the interface can see about some threads, for before/after comparisons."""
    async with storage.transaction() as tx:
        threads, total = await tx.search_threads(ThreadFilter(), Page(limit=1000))
        assistants, atotal = await tx.search_assistants(AssistantFilter(), Page(limit=1000))
        return {
            "threads": threads,
            "total": total,
            "assistants": assistants,
            "atotal": atotal,
            "versions": {
                a.assistant_id: await tx.assistant_versions(a.assistant_id, None, Page(limit=100)) for a in assistants
            },
            "runs": {t: await tx.list_runs(t, None, Page(limit=100)) for t in thread_ids},
            "interrupts": {t: await tx.thread_interrupts(t) for t in thread_ids},
        }


async def test_a_transaction_that_raises_rolls_back_everything(storage: Storage) -> None:
    base = f.thread(at=1)
    base_run = f.run(base.thread_id, at=1)
    gone_run = f.run(base.thread_id, status="success", at=0)
    base_intr = f.interrupt(base.thread_id)
    base_asst = f.assistant(at=1)
    async with storage.transaction() as tx:
        await tx.insert_thread(base)
        await tx.insert_run(gone_run)
        await tx.insert_run(base_run)
        await tx.upsert_interrupt(base_intr)
        await tx.put_assistant(base_asst, new_version=True)
    new = f.thread(at=2)
    before = await _snapshot(storage, [base.thread_id, new.thread_id])

    with pytest.raises(Boom):
        async with storage.transaction() as tx:
            await tx.insert_thread(new)
            await tx.insert_run(f.run(new.thread_id, at=2))
            await tx.upsert_interrupt(f.interrupt(new.thread_id))
            await tx.put_assistant(f.assistant(at=2), new_version=True)
            await tx.put_assistant(
                base_asst.__class__(**{**base_asst.as_dict(), "name": "x", "version": 2}), new_version=True
            )
            await tx.set_thread_status(base.thread_id, "busy", f.ts(3))
            await tx.merge_thread_metadata(base.thread_id, {"changed": True}, f.ts(3))
            (claimed,) = await tx.claim_runs("worker", 60, 1)
            assert claimed.run_id == base_run.run_id
            assert await tx.answer_interrupts(base.thread_id, [base_intr.interrupt_id], "r", f.ts(5)) == 1
            await tx.supersede_interrupts(base.thread_id, "r")
            assert await tx.delete_finished_run(gone_run.run_id) is True
            # the transaction reads its own writes
            assert await tx.get_thread(new.thread_id) == new
            assert (await tx.get_thread(base.thread_id)).status == "busy"  # type: ignore[union-attr]
            raise Boom()

    assert await _snapshot(storage, [base.thread_id, new.thread_id]) == before
    async with storage.transaction() as tx:
        assert await tx.get_thread(new.thread_id) is None
        assert (await tx.get_run(base_run.run_id)).status == "pending"  # type: ignore[union-attr]
        assert (await tx.thread_interrupts(base.thread_id))[0].answered_by_run is None


async def test_delete_thread_is_rolled_back_too(storage: Storage) -> None:
    t = f.thread()
    r = f.run(t.thread_id)
    i = f.interrupt(t.thread_id)
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
        await tx.insert_run(r)
        await tx.upsert_interrupt(i)
    with pytest.raises(Boom):
        async with storage.transaction() as tx:
            assert await tx.delete_thread(t.thread_id) is True
            assert await tx.get_thread(t.thread_id) is None
            raise Boom()
    async with storage.transaction() as tx:
        assert await tx.get_thread(t.thread_id) == t
        assert await tx.get_run(r.run_id) is not None
        assert await tx.thread_interrupts(t.thread_id) == [i]


async def test_a_failed_statement_rolls_back_the_transaction(storage: Storage) -> None:
    existing = f.thread(at=0)
    async with storage.transaction() as tx:
        await tx.insert_thread(existing)
    fresh = f.thread(at=1)
    with pytest.raises(StorageError):
        async with storage.transaction() as tx:
            await tx.insert_thread(fresh)
            await tx.insert_run(f.run(existing.thread_id, run_id=existing.thread_id))
            await tx.insert_run(f.run(existing.thread_id, run_id=existing.thread_id))  # duplicate key
    async with storage.transaction() as tx:
        assert await tx.get_thread(fresh.thread_id) is None
        assert await tx.get_thread(existing.thread_id) == existing
        # and the storage is usable after the failure
        await tx.insert_thread(fresh)
    async with storage.transaction() as tx:
        assert await tx.get_thread(fresh.thread_id) == fresh


async def test_duplicate_run_id_is_refused(storage: Storage) -> None:
    t = f.thread()
    r = f.run(t.thread_id)
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
        await tx.insert_run(r)
    with pytest.raises(StorageError):
        async with storage.transaction() as tx:
            await tx.insert_run(r.replace(status="running"))
    async with storage.transaction() as tx:
        assert (await tx.get_run(r.run_id)).status == "pending"  # type: ignore[union-attr]


async def test_concurrent_claims_never_hand_out_a_run_twice(storage: Storage) -> None:
    threads = [f.thread(at=i) for i in range(8)]
    async with storage.transaction() as tx:
        for i, t in enumerate(threads):
            await tx.insert_thread(t)
            await tx.insert_run(f.run(t.thread_id, at=i))
            await tx.insert_run(f.run(t.thread_id, at=100 + i))  # a second run per thread must wait

    async def claim() -> str | None:
        async with storage.transaction() as tx:
            claimed = await tx.claim_runs("worker", 60, 1)
        await asyncio.sleep(0)
        return claimed[0].run_id if claimed else None

    got = await asyncio.gather(*(claim() for _ in range(20)))
    claimed = [g for g in got if g]
    assert len(claimed) == 8 and len(set(claimed)) == 8
    async with storage.transaction() as tx:
        for t in threads:
            assert [r.status for r in await tx.inflight_runs(t.thread_id)] == ["running", "pending"]


async def test_committed_writes_survive_reopening(database_url: str) -> None:
    t = f.thread(values={"some_text": "kept"})
    async with open_storage(database_url) as first, first.transaction() as tx:
        await tx.insert_thread(t)
    async with open_storage(database_url) as again, again.transaction() as tx:
        assert await tx.get_thread(t.thread_id) == t


async def test_migrate_is_idempotent(database_url: str) -> None:
    t = f.thread()
    async with open_storage(database_url) as storage:
        # entering the storage migrated it; asking again applies nothing
        assert await storage.migrate() == []
        assert await storage.migrate() == []
        async with storage.transaction() as tx:
            await tx.insert_thread(t)
    # opening the database again migrates nothing and loses nothing
    async with open_storage(database_url) as again:
        assert await again.migrate() == []
        async with again.transaction() as tx:
            assert await tx.get_thread(t.thread_id) == t


async def test_ping(storage: Storage) -> None:
    assert await storage.ping() is True
