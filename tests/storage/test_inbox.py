"""The inbox's storage: listing interrupts across threads, plans that change only from the
version read, timers that fire once, the outbox's attempts, and the append-only audit log."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from types import SimpleNamespace

import pytest

from tests.storage import factories as f
from waypost.auth.filters import Condition
from waypost.errors import InvalidInput, StorageError
from waypost.inbox_config import InboxConfig
from waypost.models import AuditEntry, Delivery, Origin, PendingInterrupt, Plan, Timer, now_iso
from waypost.operations import deadlines, inbox
from waypost.storage.base import AuditFilter, InterruptFilter, Page, Storage, Tx


async def _thread(storage: Storage, **metadata: object) -> str:
    t = f.thread(metadata=dict(metadata))
    async with storage.transaction() as tx:
        await tx.insert_thread(t)
    return t.thread_id


async def _put(storage: Storage, *items: PendingInterrupt) -> None:
    async with storage.transaction() as tx:
        for i in items:
            await tx.upsert_interrupt(i)


async def _search(storage: Storage, flt: InterruptFilter, page: Page | None = None) -> tuple[list[str], int]:
    async with storage.transaction() as tx:
        found = await tx.search_interrupts(flt, page or Page(limit=50))
        total = await tx.count_interrupts(flt)
    return [i.interrupt_id for i in found], total


def _planned(i: PendingInterrupt, **plan: object) -> PendingInterrupt:
    return replace(i, **plan)  # type: ignore[arg-type]


async def test_pending_newest_first_across_threads_with_total(storage: Storage) -> None:
    a, b = await _thread(storage), await _thread(storage)
    items = [f.interrupt(a if n % 2 else b, at=n) for n in range(5)]
    await _put(storage, *items)
    ids, total = await _search(storage, InterruptFilter())
    assert ids == [i.interrupt_id for i in reversed(items)] and total == 5
    page, total = await _search(storage, InterruptFilter(), Page(limit=2, offset=1))
    assert page == [items[3].interrupt_id, items[2].interrupt_id] and total == 5
    oldest, _ = await _search(storage, InterruptFilter(), Page(limit=1, sort_order="asc"))
    assert oldest == [items[0].interrupt_id]


async def test_a_total_stops_counting_past_the_cap_and_says_so(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    tid = await _thread(storage)
    await _put(storage, *(f.interrupt(tid, at=n) for n in range(5)))
    async with storage.transaction() as tx:
        counts = [await tx.count_interrupts(InterruptFilter(), limit=n) for n in (3, 5, 9, None)]
    assert counts == [3, 5, 5, 5]
    monkeypatch.setattr(inbox, "TOTAL_COUNT_CAP", 2)
    rt = SimpleNamespace(storage=storage)
    found, total, exact = await inbox.search(rt, InterruptFilter(), Page(limit=2))  # type: ignore[arg-type]
    assert (len(found), total, exact) == (2, 2, False)  # more than 2 match
    _, total, exact = await inbox.search(rt, InterruptFilter(), Page(limit=2, offset=2))  # type: ignore[arg-type]
    assert (total, exact) == (4, False)  # counted up to the offset + the cap
    _, total, exact = await inbox.search(rt, InterruptFilter(), Page(limit=2, offset=3))  # type: ignore[arg-type]
    assert (total, exact) == (5, True)


async def test_status_filters_follow_answers_supersedes_and_expiry(storage: Storage) -> None:
    tid = await _thread(storage)
    answered, superseded, expired, waiting = (f.interrupt(tid, at=n) for n in range(4))
    await _put(storage, answered, superseded, expired, waiting)
    async with storage.transaction() as tx:
        assert await tx.answer_interrupts(tid, [answered.interrupt_id], "run-1", f.ts(10)) == 1
        await tx.supersede_interrupts(
            tid, "run-2", keep=[answered.interrupt_id, expired.interrupt_id, waiting.interrupt_id]
        )
        assert await tx.expire_interrupt(tid, expired.interrupt_id, 0, f.ts(11))
    for status, want in [
        ("pending", [waiting]),
        ("answered", [answered]),
        ("expired", [expired]),
        ("superseded", [superseded]),
        (None, [waiting, expired, superseded, answered]),
    ]:
        ids, total = await _search(storage, InterruptFilter(status=status))  # type: ignore[arg-type]
        assert ids == [i.interrupt_id for i in want], status
        assert total == len(want)
    async with storage.transaction() as tx:
        # An expired interrupt can be neither answered nor expired again.
        assert await tx.answer_interrupts(tid, [expired.interrupt_id], "run-3", f.ts(12)) == 0
        assert not await tx.expire_interrupt(tid, expired.interrupt_id, 0, f.ts(12))
        (row,) = [i for i in await tx.interrupts_by_id(expired.interrupt_id)]
    assert (row.status, row.expired_at, row.pending) == ("expired", f.ts(11), False)


async def test_filters_by_graph_assignee_deadline_creation_and_thread_metadata(storage: Storage) -> None:
    ops = await _thread(storage, team="ops", tags=["a", "b"])
    dev = await _thread(storage, team="dev")
    one = _planned(f.interrupt(ops, at=1), graph_id="approve", assignees=["ann", "bob"], deadline=f.ts(100))
    two = _planned(f.interrupt(ops, at=2), graph_id="other", assignees=["bob"], deadline=f.ts(50))
    three = _planned(f.interrupt(dev, at=3), graph_id="approve", assistant_id="asst-1")
    await _put(storage, one, two, three)
    cases = [
        (InterruptFilter(graph_id="approve"), [three, one]),
        (InterruptFilter(assistant_id="asst-1"), [three]),
        (InterruptFilter(thread_id=ops), [two, one]),
        (InterruptFilter(assignee="ann"), [one]),
        (InterruptFilter(assignee="bob"), [two, one]),
        (InterruptFilter(assignee="nobody"), []),
        (InterruptFilter(deadline_before=f.ts(60)), [two]),
        (InterruptFilter(created_after=f.ts(1)), [three, two]),
        (InterruptFilter(metadata={"team": "ops"}), [two, one]),
        (InterruptFilter(metadata={"team": "ops", "missing": None}), []),
        (InterruptFilter(conditions=(Condition("team", "eq", "dev"),)), [three]),
        (InterruptFilter(conditions=(Condition("tags", "contains", ["b"]),)), [two, one]),
        (InterruptFilter(interrupt_id=one.interrupt_id), [one]),
    ]
    for flt, want in cases:
        ids, total = await _search(storage, flt)
        assert ids == [i.interrupt_id for i in want], flt
        assert total == len(want), flt


async def test_sort_by_deadline_puts_those_without_one_last(storage: Storage) -> None:
    tid = await _thread(storage)
    late = _planned(f.interrupt(tid, at=1), deadline=f.ts(200))
    none = f.interrupt(tid, at=2)
    soon = _planned(f.interrupt(tid, at=3), deadline=f.ts(100))
    await _put(storage, late, none, soon)
    asc, _ = await _search(storage, InterruptFilter(), Page(limit=10, sort_by="deadline"))
    assert asc == [soon.interrupt_id, late.interrupt_id, none.interrupt_id]
    desc, _ = await _search(storage, InterruptFilter(), Page(limit=10, sort_by="deadline", sort_order="desc"))
    assert desc == [late.interrupt_id, soon.interrupt_id, none.interrupt_id]


async def test_sort_by_deadline_pages_through_both_parts_in_order(storage: Storage) -> None:
    """Those with a deadline by deadline (ties in insertion order), then those without by when
    they were raised, in the same direction; every page cut from that one order."""
    tid, other = await _thread(storage), await _thread(storage)
    later, earlier = f.interrupt(tid, at=5), f.interrupt(tid, at=4)  # no deadline, raised out of order
    far = _planned(f.interrupt(tid, at=1), deadline=f.ts(300))
    soon = _planned(f.interrupt(tid, at=2), deadline=f.ts(100))
    tied = _planned(f.interrupt(tid, at=3), deadline=f.ts(100))
    elsewhere = _planned(f.interrupt(other, at=6), deadline=f.ts(50))
    await _put(storage, later, earlier, far, soon, tied, elsewhere)
    mine = InterruptFilter(thread_id=tid)
    for direction, want in (("asc", [soon, tied, far, earlier, later]), ("desc", [far, tied, soon, later, earlier])):
        for offset in range(6):
            page = Page(limit=2, offset=offset, sort_by="deadline", sort_order=direction)  # type: ignore[arg-type]
            ids, total = await _search(storage, mine, page)
            assert ids == [i.interrupt_id for i in want[offset : offset + 2]], (direction, offset)
            assert total == 5


async def test_a_plan_changes_only_from_the_version_read(storage: Storage) -> None:
    tid = await _thread(storage)
    item = f.interrupt(tid)
    await _put(storage, item)
    plan = Plan(assignees=["ann"], deadline=f.ts(60), on_deadline={"action": "expire"}, remind_before=10.0)
    async with storage.transaction() as tx:
        updated = await tx.set_plan(tid, item.interrupt_id, plan, version=0)
        stale = await tx.set_plan(tid, item.interrupt_id, Plan(assignees=["eve"]), version=0)
    assert updated is not None and stale is None
    assert (updated.plan, updated.plan_version) == (plan, 1)
    async with storage.transaction() as tx:
        assert not await tx.expire_interrupt(tid, item.interrupt_id, 0, f.ts(61))  # an older version's timer
        assert await tx.answer_interrupts(tid, [item.interrupt_id], "run-1", f.ts(5)) == 1
        assert await tx.set_plan(tid, item.interrupt_id, Plan(), version=1) is None  # answered: no more changes
        (row,) = await tx.interrupts_by_id(item.interrupt_id)
    assert row.plan == plan and row.status == "answered"


async def test_a_reraised_interrupt_keeps_its_plan(storage: Storage) -> None:
    tid = await _thread(storage)
    item = f.interrupt(tid)
    await _put(storage, item)
    async with storage.transaction() as tx:
        await tx.set_plan(tid, item.interrupt_id, Plan(assignees=["ann"]), version=0)
    await _put(storage, replace(item, value={"again": True}))
    async with storage.transaction() as tx:
        (row,) = await tx.interrupts_by_id(item.interrupt_id)
    assert (row.assignees, row.plan_version, row.value) == (["ann"], 1, {"again": True})


async def test_a_timer_is_taken_once_and_a_replaced_one_not_at_all(storage: Storage) -> None:
    tid = await _thread(storage)
    timer = Timer(kind="deadline", due_at=f.ts(0), thread_id=tid, interrupt_id="i1", plan_version=0)
    async with storage.transaction() as tx:
        await tx.set_timer(timer)
        await tx.set_timer(replace(timer, kind="reminder"))
        later = Timer(
            kind="deadline", due_at="2999-01-01T00:00:00.000000+00:00", thread_id=tid, interrupt_id="i2", plan_version=0
        )
        await tx.set_timer(later)
    async with storage.transaction() as tx:
        due = await tx.due_timers(10)
        assert {(t.kind, t.interrupt_id) for t in due} == {("deadline", "i1"), ("reminder", "i1")}
        assert await tx.next_timer_at() == f.ts(0)
    async with storage.transaction() as tx:
        assert await tx.take_timer(timer)
        assert not await tx.take_timer(timer)
        # A timer replaced by a newer plan (same id, new version) is not the one read.
        await tx.set_timer(replace(timer, kind="reminder", plan_version=1))
        assert not await tx.take_timer(replace(timer, kind="reminder"))
    async with storage.transaction() as tx:
        await tx.delete_thread(tid)
        assert await tx.due_timers(10) == [] and await tx.next_timer_at() is None


async def test_concurrent_takers_fire_a_timer_once(storage: Storage) -> None:
    tid = await _thread(storage)
    timer = Timer(kind="deadline", due_at=f.ts(0), thread_id=tid, interrupt_id="i1", plan_version=0)
    async with storage.transaction() as tx:
        await tx.set_timer(timer)

    async def take() -> bool:
        async with storage.transaction() as tx:
            return await tx.take_timer(timer)

    assert sorted(await asyncio.gather(*(take() for _ in range(8)))) == [False] * 7 + [True]


def _delivery(**changes: object) -> Delivery:
    now = now_iso()
    d = Delivery(
        delivery_id=f.new_id(),
        event="interrupt.pending",
        url="http://127.0.0.1:9/hook",
        body={"n": 1},
        created_at=now,
        next_attempt_at=now,
        secret_env="SECRET",
        thread_id="t",
    )
    return replace(d, **changes)  # type: ignore[arg-type]


async def test_attempts_in_progress_are_abandoned_and_due_again_at_once(storage: Storage) -> None:
    held, idle = _delivery(), _delivery(next_attempt_at="2999-01-01T00:00:00.000000+00:00")
    async with storage.transaction() as tx:
        await tx.add_delivery(held)
        await tx.add_delivery(idle)
    async with storage.transaction() as tx:
        (claimed,) = await tx.claim_deliveries(3600.0, 10)  # held for an hour
    async with storage.transaction() as tx:
        (abandoned,) = await tx.abandon_attempts("stopped")
        assert (abandoned.delivery_id, abandoned.attempts, abandoned.last_error) == (held.delivery_id, 1, "stopped")
        assert await tx.abandon_attempts("stopped") == []  # nothing else was in progress
    async with storage.transaction() as tx:
        assert not await tx.settle_delivery(claimed, "delivered", now_iso(), None, now_iso())  # its attempt is over
        (again,) = await tx.claim_deliveries(30.0, 10)  # due now, not in an hour
    assert (again.delivery_id, again.attempts) == (held.delivery_id, 2)


async def test_a_delivery_is_claimed_for_one_attempt_and_settled_by_it_only(storage: Storage) -> None:
    d = _delivery()
    async with storage.transaction() as tx:
        await tx.add_delivery(d)
        await tx.add_delivery(_delivery(next_attempt_at="2999-01-01T00:00:00.000000+00:00"))
    async with storage.transaction() as tx:
        (claimed,) = await tx.claim_deliveries(30.0, 10)
        assert await tx.claim_deliveries(30.0, 10) == []  # held
    assert (claimed.delivery_id, claimed.attempts, claimed.body, claimed.secret_env) == (
        d.delivery_id,
        1,
        {"n": 1},
        "SECRET",
    )
    async with storage.transaction() as tx:
        assert await tx.settle_delivery(claimed, "pending", f.ts(0), "HTTP 500", now_iso())
        assert not await tx.settle_delivery(claimed, "pending", f.ts(0), "HTTP 500", now_iso())  # attempt 1 is over
        (again,) = await tx.claim_deliveries(30.0, 10)
        assert again.attempts == 2 and again.last_error == "HTTP 500"
        assert not await tx.settle_delivery(claimed, "delivered", now_iso(), None, now_iso())  # a stale attempt
        assert await tx.settle_delivery(again, "delivered", now_iso(), None, now_iso())
        row = await tx.get_delivery(d.delivery_id)
    assert row is not None and (row.status, row.attempts, row.delivered_at is not None) == ("delivered", 2, True)


async def test_concurrent_senders_claim_each_delivery_once(storage: Storage) -> None:
    ids = set()
    async with storage.transaction() as tx:
        for _ in range(20):
            d = _delivery()
            ids.add(d.delivery_id)
            await tx.add_delivery(d)

    async def claim() -> list[str]:
        async with storage.transaction() as tx:
            return [d.delivery_id for d in await tx.claim_deliveries(30.0, 7)]

    got = [i for batch in await asyncio.gather(*(claim() for _ in range(5))) for i in batch]
    assert sorted(got) == sorted(ids)


async def test_audit_is_filtered_visible_by_thread_and_append_only(storage: Storage) -> None:
    mine, theirs = await _thread(storage, owner="ann"), await _thread(storage, owner="bob")
    entries = [
        AuditEntry(
            event="answer",
            outcome="applied",
            origin=Origin("ann", "req-1", "127.0.0.1"),
            thread_id=mine,
            interrupt_id="i1",
            at=f.ts(1),
            detail={"value": {"ok": True}},
        ),
        AuditEntry(
            event="answer",
            outcome="refused",
            origin=Origin("bob"),
            thread_id=theirs,
            interrupt_id="i2",
            at=f.ts(2),
            reason="nope",
        ),
        AuditEntry(
            event="deadline",
            outcome="expired",
            origin=Origin("system:deadline"),
            thread_id=mine,
            interrupt_id="i1",
            at=f.ts(3),
        ),
    ]
    async with storage.transaction() as tx:
        for e in entries:
            await tx.append_audit(e)
    async with storage.transaction() as tx:
        everything = await tx.search_audit(AuditFilter(), 10)
        newest = await tx.search_audit(AuditFilter(newest_first=True), 1)
        by_thread = await tx.search_audit(AuditFilter(thread_id=mine), 10)
        by_identity = await tx.search_audit(AuditFilter(identity="bob"), 10)
        by_time = await tx.search_audit(AuditFilter(since=f.ts(2), until=f.ts(3)), 10)
        visible = await tx.search_audit(AuditFilter(conditions=(Condition("owner", "eq", "ann"),)), 10)
        after = await tx.search_audit(AuditFilter(after_seq=everything[0].seq), 10)
    assert [(e.event, e.outcome) for e in everything] == [(e.event, e.outcome) for e in entries]
    first = everything[0]
    assert (first.origin, first.detail, first.at) == (
        Origin("ann", "req-1", "127.0.0.1"),
        {"value": {"ok": True}},
        f.ts(1),
    )
    assert [e.outcome for e in newest] == ["expired"]
    assert [e.outcome for e in by_thread] == ["applied", "expired"]
    assert [e.outcome for e in by_identity] == ["refused"]
    assert [e.outcome for e in by_time] == ["refused"]
    assert [e.outcome for e in visible] == ["applied", "expired"]
    assert [e.outcome for e in after] == ["refused", "expired"]
    # Nothing changes or deletes an entry, not even a statement written by hand.
    for sql in ("UPDATE audit SET outcome = 'applied'", "DELETE FROM audit"):
        with pytest.raises(StorageError):
            async with storage.transaction() as tx:
                await _raw(tx, sql)
    async with storage.transaction() as tx:
        assert len(await tx.search_audit(AuditFilter(), 10)) == 3


async def _raw(tx: object, sql: str) -> None:
    """A statement the storage has no method for, through the transaction's own connection."""
    if hasattr(tx, "_conn"):  # SQLite
        import sqlite3

        try:
            tx._begin()  # type: ignore[attr-defined]
            tx._conn.execute(sql)  # type: ignore[attr-defined]
        except sqlite3.Error as exc:
            raise StorageError() from exc
    else:  # PostgreSQL
        import psycopg

        try:
            await tx._cur.execute(sql)  # type: ignore[attr-defined]
        except psycopg.Error as exc:
            raise StorageError() from exc


async def test_a_resume_deadline_meeting_an_answer_in_flight_looks_again_later(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A person's answer claims the interrupt while the deadline builds its own answer's
    # request. The person's run may still be cancelled (its answer given back): the deadline
    # must then apply after all, so it is looked at again later, as when the deadline finds
    # the answer in flight from the start. It was taken and forgotten instead.
    tid, item, timer = await _resume_planned(storage, "default")
    person = f.run(tid)

    async def answered_meanwhile(*args: object, **kwargs: object) -> None:
        async with storage.transaction() as tx:
            await tx.insert_run(person)
            assert await tx.answer_interrupts(tid, [item.interrupt_id], person.run_id, now_iso(), "ann") == 1

    monkeypatch.setattr(deadlines, "answer_request", answered_meanwhile)
    monkeypatch.setattr(deadlines.runs, "prepare", lambda rt, req: None)
    await deadlines.fire(SimpleNamespace(storage=storage), timer)  # type: ignore[arg-type]
    async with storage.transaction() as tx:
        assert await tx.next_timer_at() is not None, "the deadline was dropped with the answer still in flight"
        await tx.release_answers(tid, person.run_id)  # the person's run is cancelled
    await asyncio.sleep(deadlines.RECHECK_S + 0.1)
    async with storage.transaction() as tx:
        (again,) = await tx.due_timers(10)
    assert (again.kind, again.interrupt_id, again.plan_version) == ("deadline", item.interrupt_id, timer.plan_version)


async def _resume_planned(storage: Storage, value: object) -> tuple[str, PendingInterrupt, Timer]:
    tid = await _thread(storage)
    item = f.interrupt(tid)
    await _put(storage, item)
    plan = Plan(deadline=f.ts(0), on_deadline={"action": "resume", "value": value})
    async with storage.transaction() as tx:
        planned = await tx.set_plan(tid, item.interrupt_id, plan, item.plan_version)
    assert planned is not None
    version = planned.plan_version
    timer = Timer(kind="deadline", due_at=f.ts(0), thread_id=tid, interrupt_id=item.interrupt_id, plan_version=version)
    async with storage.transaction() as tx:
        await tx.set_timer(timer)
    return tid, item, timer


async def test_a_refused_default_meeting_a_persons_answer_logs_no_refusal_and_looks_again(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The plan's value is checked outside the timer's transaction; a person answers meanwhile,
    # and the value is refused. The deadline no longer applies (the interrupt is answered):
    # no refusal is logged or announced, and while the person's run may still be cancelled
    # the timer is set again, as for the other actions.
    tid, item, timer = await _resume_planned(storage, "not allowed")
    person = f.run(tid)

    async def refused_after_a_person_answered(*args: object, **kwargs: object) -> None:
        async with storage.transaction() as tx:
            await tx.insert_run(person)
            assert await tx.answer_interrupts(tid, [item.interrupt_id], person.run_id, now_iso(), "ann") == 1
        raise InvalidInput("the plan's value is refused")

    monkeypatch.setattr(deadlines, "answer_request", refused_after_a_person_answered)
    await deadlines.fire(SimpleNamespace(storage=storage, inbox=InboxConfig()), timer)  # type: ignore[arg-type]
    async with storage.transaction() as tx:
        assert await tx.search_audit(AuditFilter(thread_id=tid), 10) == []
        assert await tx.next_timer_at() is not None, "the deadline was dropped with the answer still in flight"


async def test_an_answer_given_back_between_the_deadlines_two_reads_leaves_it_due(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The deadline reads the interrupt (answered), then the run carrying the answer. A cancel
    # that commits between the two gives the answer back: the run is no longer in flight, and
    # the interrupt is pending again. The deadline must still apply: its timer is due at once.
    tid, item, timer = await _resume_planned(storage, "default")
    person = f.run(tid, status="interrupted")
    async with storage.transaction() as tx:
        await tx.insert_run(person)
        assert await tx.answer_interrupts(tid, [item.interrupt_id], person.run_id, now_iso(), "ann") == 1

    async def cancelled_meanwhile(tx: Tx, answered: PendingInterrupt) -> bool:
        await tx.release_answers(tid, person.run_id)
        return False

    monkeypatch.setattr(deadlines, "_answer_in_flight", cancelled_meanwhile)
    await deadlines.fire(SimpleNamespace(storage=storage, inbox=InboxConfig()), timer)  # type: ignore[arg-type]
    async with storage.transaction() as tx:
        (again,) = await tx.due_timers(10)
    assert (again.kind, again.interrupt_id, again.plan_version) == ("deadline", item.interrupt_id, timer.plan_version)
