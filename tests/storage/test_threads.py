"""Threads: rows, deletion with their runs and interrupts, and search."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.storage import factories as f
from waypost.auth.filters import parse
from waypost.models import Thread
from waypost.storage.base import AssistantFilter, Page, RunSetting, Storage, ThreadFilter, ThreadState


async def _insert(storage: Storage, *threads: Thread) -> None:
    async with storage.transaction() as tx:
        for t in threads:
            await tx.insert_thread(t)


async def _search(storage: Storage, flt: ThreadFilter | None = None, page: Page | None = None) -> tuple[list[str], int]:
    async with storage.transaction() as tx:
        found, total = await tx.search_threads(flt or ThreadFilter(), page or Page(limit=100))
    return [t.thread_id for t in found], total


async def test_insert_get_roundtrip(storage: Storage) -> None:
    t = f.thread(
        status="interrupted",
        metadata={"graph_id": "agent", "owner": {"id": 7}},
        values={"some_text": "hi", "messages": [{"role": "user", "content": "x"}], "n": None},
        interrupts={"task-1": [{"id": "abc", "value": {"q": 1}}]},
        config={"tags": ["t"]},
        error={"error": "ValueError", "message": "boom"},
    )
    await _insert(storage, t)
    async with storage.transaction() as tx:
        assert await tx.get_thread(t.thread_id) == t
        assert await tx.get_thread(f.new_id()) is None


async def test_values_may_be_none_or_not_a_dict(storage: Storage) -> None:
    empty = f.thread(values=None)
    listy = f.thread(values=[1, "two", {"three": 3}])
    await _insert(storage, empty, listy)
    async with storage.transaction() as tx:
        assert (await tx.get_thread(empty.thread_id)) == empty
        assert (await tx.get_thread(listy.thread_id)) == listy


async def test_insert_refuses_an_existing_id(storage: Storage) -> None:
    t = f.thread(at=1, metadata={"a": 1})
    await _insert(storage, t)
    async with storage.transaction() as tx:
        assert await tx.insert_thread(t.replace(metadata={"b": 2})) is False
        assert await tx.get_thread(t.thread_id) == t


async def test_record_thread_state(storage: Storage) -> None:
    t = f.thread(at=1, metadata={"k": "v"})
    other = f.thread(at=2)
    await _insert(storage, t, other)
    state = ThreadState(
        values={"some_text": "new"},
        interrupts={"t": [{"id": "i"}]},
        status="interrupted",
        error={"error": "E"},
        at_breakpoint=True,
        updated_at=f.ts(9),
    )
    async with storage.transaction() as tx:
        await tx.record_thread_state(t.thread_id, state)
        await tx.record_thread_state(f.new_id(), state)  # an unknown thread: nothing happens
    async with storage.transaction() as tx:
        assert await tx.get_thread(t.thread_id) == t.replace(
            values={"some_text": "new"},
            interrupts={"t": [{"id": "i"}]},
            status="interrupted",
            error={"error": "E"},
            at_breakpoint=True,
            updated_at=f.ts(9),
            state_updated_at=f.ts(9),
        )
        assert await tx.get_thread(other.thread_id) == other
        await tx.set_thread_status(t.thread_id, "busy", f.ts(10))
        got = await tx.get_thread(t.thread_id)
        assert got is not None and (got.status, got.updated_at, got.state_updated_at) == ("busy", f.ts(10), f.ts(9))


async def test_merge_metadata_is_shallow(storage: Storage) -> None:
    t = f.thread(at=1, metadata={"keep": 1, "nested": {"a": 1}, "over": "old"})
    await _insert(storage, t)
    async with storage.transaction() as tx:
        got = await tx.merge_thread_metadata(t.thread_id, {"nested": {"b": 2}, "over": None, "new": [1]}, f.ts(5))
        assert await tx.merge_thread_metadata(f.new_id(), {"x": 1}, f.ts(5)) is None
    assert got is not None
    assert got.metadata == {"keep": 1, "nested": {"b": 2}, "over": None, "new": [1]}
    assert got.updated_at == f.ts(5)
    async with storage.transaction() as tx:
        assert await tx.get_thread(t.thread_id) == got


async def test_a_state_recorded_with_a_metadata_patch_merges_it_as_merge_metadata_does(storage: Storage) -> None:
    """Queueing a run writes the thread's busy state and the graph it runs in one write: the
    patch is merged shallowly, as merge_thread_metadata merges, and without one the metadata
    stays as it was."""
    t = f.thread(at=1, metadata={"keep": 1, "nested": {"a": 1}, "over": "old"})
    await _insert(storage, t)
    state = ThreadState(
        values={"v": 1}, interrupts={}, status="busy", error=None, at_breakpoint=False, updated_at=f.ts(4)
    )
    patch = {"nested": {"b": 2}, "over": None, "new": [1]}
    async with storage.transaction() as tx:
        await tx.record_thread_state(t.thread_id, replace(state, metadata_patch=patch))
    async with storage.transaction() as tx:
        got = await tx.get_thread(t.thread_id)
        await tx.record_thread_state(t.thread_id, replace(state, status="idle"))
        kept = await tx.get_thread(t.thread_id)
    assert got is not None and kept is not None
    assert got.metadata == {"keep": 1, "nested": {"b": 2}, "over": None, "new": [1]}
    assert (got.status, got.values, got.updated_at) == ("busy", {"v": 1}, f.ts(4))
    assert (kept.metadata, kept.status) == (got.metadata, "idle")


async def test_delete_removes_its_runs_and_interrupts(storage: Storage) -> None:
    doomed, kept = f.thread(at=1), f.thread(at=2)
    await _insert(storage, doomed, kept)
    doomed_runs = [f.run(doomed.thread_id, at=i) for i in range(3)]
    kept_run = f.run(kept.thread_id, at=5)
    shared_id = "0" * 32  # the same interrupt id on both threads
    async with storage.transaction() as tx:
        for r in [*doomed_runs, kept_run]:
            await tx.insert_run(r)
        await tx.upsert_interrupt(f.interrupt(doomed.thread_id, interrupt_id=shared_id))
        await tx.upsert_interrupt(f.interrupt(doomed.thread_id))
        await tx.upsert_interrupt(f.interrupt(kept.thread_id, interrupt_id=shared_id))
    async with storage.transaction() as tx:
        assert await tx.delete_thread(doomed.thread_id) is True
    async with storage.transaction() as tx:
        assert await tx.get_thread(doomed.thread_id) is None
        for r in doomed_runs:
            assert await tx.get_run(r.run_id) is None
        assert await tx.list_runs(doomed.thread_id, None, Page(limit=10)) == []
        assert await tx.inflight_runs(doomed.thread_id) == []
        assert await tx.thread_interrupts(doomed.thread_id) == []
        # the other thread is untouched
        assert await tx.get_thread(kept.thread_id) == kept
        assert await tx.get_run(kept_run.run_id) is not None
        assert [i.interrupt_id for i in await tx.thread_interrupts(kept.thread_id)] == [shared_id]
        assert await tx.delete_thread(doomed.thread_id) is False
    # a thread id can be reused after delete, starting from nothing
    await _insert(storage, f.thread(thread_id=doomed.thread_id, at=3))
    async with storage.transaction() as tx:
        assert await tx.thread_interrupts(doomed.thread_id) == []
        assert await tx.list_runs(doomed.thread_id, None, Page()) == []


# --- search ---------------------------------------------------------------------------------


async def _search_fixture(storage: Storage) -> dict[str, str]:
    rows = {
        "t1": f.thread(
            status="idle",
            at=1,
            metadata={"graph_id": "agent", "user": {"id": 1, "roles": ["a"]}},
            values={"some_text": "hello", "n": 1},
        ),
        "t2": f.thread(
            status="busy",
            at=2,
            metadata={"graph_id": "agent", "user": {"id": 2}},
            values={"some_text": "bye", "nested": {"k": [1, 2]}},
        ),
        "t3": f.thread(
            status="interrupted", at=3, metadata={"graph_id": "other"}, values={"some_text": "hello", "n": 2}
        ),
        "t4": f.thread(status="idle", at=4, metadata={}, values=None),
        "t5": f.thread(status="error", at=5, metadata={"graph_id": "agent"}, values={"n": 1}),
    }
    await _insert(storage, *rows.values())
    return {k: v.thread_id for k, v in rows.items()}


async def test_search_all_default_order(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    assert await _search(storage) == ([ids[k] for k in ("t5", "t4", "t3", "t2", "t1")], 5)


async def test_search_by_status(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    assert await _search(storage, ThreadFilter(status="idle")) == ([ids["t4"], ids["t1"]], 2)
    assert await _search(storage, ThreadFilter(status="busy")) == ([ids["t2"]], 1)
    assert await _search(storage, ThreadFilter(status="interrupted")) == ([ids["t3"]], 1)
    assert await _search(storage, ThreadFilter(status="error")) == ([ids["t5"]], 1)


async def test_search_by_ids(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    wanted = [ids["t1"], ids["t3"], f.new_id()]
    assert await _search(storage, ThreadFilter(ids=wanted)) == ([ids["t3"], ids["t1"]], 2)
    assert await _search(storage, ThreadFilter(ids=[f.new_id()])) == ([], 0)
    assert await _search(storage, ThreadFilter(ids=[ids["t2"]], status="idle")) == ([], 0)


async def test_search_by_metadata(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    by = lambda md: _search(storage, ThreadFilter(metadata=md))  # noqa: E731
    assert await by({"graph_id": "agent"}) == ([ids["t5"], ids["t2"], ids["t1"]], 3)
    assert await by({"graph_id": "agent", "user": {"id": 2}}) == ([ids["t2"]], 1)
    assert await by({"user": {"id": 1, "roles": ["a"]}}) == ([ids["t1"]], 1)
    assert await by({"user": {"id": 1}}) == ([], 0)  # nested values match whole
    assert await by({"graph_id": "Agent"}) == ([], 0)
    assert await by({"graph_id": "nope"}) == ([], 0)


async def test_search_by_values(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    by = lambda v: _search(storage, ThreadFilter(values=v))  # noqa: E731
    assert await by({"some_text": "hello"}) == ([ids["t3"], ids["t1"]], 2)
    assert await by({"some_text": "hello", "n": 2}) == ([ids["t3"]], 1)
    assert await by({"n": 1}) == ([ids["t5"], ids["t1"]], 2)
    assert await by({"nested": {"k": [1, 2]}}) == ([ids["t2"]], 1)
    assert await by({"nested": {"k": [1]}}) == ([], 0)
    assert await by({"some_text": "HELLO"}) == ([], 0)


async def test_search_filters_combine(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    flt = ThreadFilter(status="idle", metadata={"graph_id": "agent"}, values={"n": 1})
    assert await _search(storage, flt) == ([ids["t1"]], 1)
    flt = ThreadFilter(status="error", values={"some_text": "hello"})
    assert await _search(storage, flt) == ([], 0)


async def test_search_sort(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    asc = await _search(storage, page=Page(limit=10, sort_by="created_at", sort_order="asc"))
    assert asc == ([ids[k] for k in ("t1", "t2", "t3", "t4", "t5")], 5)
    assert await _search(storage, page=Page(limit=10, sort_by="created_at", sort_order="ASC")) == asc
    desc = await _search(storage, page=Page(limit=10, sort_by="created_at", sort_order="desc"))
    assert desc == ([ids[k] for k in ("t5", "t4", "t3", "t2", "t1")], 5)
    by_status, _ = await _search(storage, page=Page(limit=10, sort_by="status", sort_order="asc"))
    # busy < error < idle (x2) < interrupted
    assert by_status[0] == ids["t2"] and by_status[1] == ids["t5"] and by_status[4] == ids["t3"]
    assert set(by_status[2:4]) == {ids["t1"], ids["t4"]}
    by_id, _ = await _search(storage, page=Page(limit=10, sort_by="thread_id", sort_order="asc"))
    assert by_id == sorted(ids.values())

    # updated_at moves when a thread is updated
    async with storage.transaction() as tx:
        t1 = await tx.get_thread(ids["t1"])
        assert t1 is not None
        await tx.record_thread_state(
            ids["t1"],
            ThreadState(
                values=t1.values,
                interrupts=t1.interrupts,
                status=t1.status,
                error=t1.error,
                at_breakpoint=False,
                updated_at=f.ts(100),
            ),
        )
    newest, _ = await _search(storage, page=Page(limit=1, sort_by="updated_at", sort_order="desc"))
    assert newest == [ids["t1"]]
    oldest_state, _ = await _search(storage, page=Page(limit=1, sort_by="state_updated_at", sort_order="asc"))
    assert oldest_state == [ids["t2"]]
    # unknown column: default order, not an error
    weird = await _search(storage, page=Page(limit=10, sort_by="bogus", sort_order="asc"))
    assert weird == ([ids[k] for k in ("t1", "t2", "t3", "t4", "t5")], 5)


async def test_search_paging_and_total(storage: Storage) -> None:
    ids = await _search_fixture(storage)
    order = [ids[k] for k in ("t5", "t4", "t3", "t2", "t1")]
    assert await _search(storage, page=Page(limit=2)) == (order[:2], 5)
    assert await _search(storage, page=Page(limit=2, offset=2)) == (order[2:4], 5)
    assert await _search(storage, page=Page(limit=2, offset=4)) == (order[4:], 5)
    # offset past the end: no rows, and the total is still right
    assert await _search(storage, page=Page(limit=2, offset=5)) == ([], 5)
    assert await _search(storage, page=Page(limit=10, offset=99)) == ([], 5)
    assert await _search(storage, ThreadFilter(status="idle"), Page(limit=1, offset=1)) == ([ids["t1"]], 2)
    assert await _search(storage, ThreadFilter(status="idle"), Page(limit=1, offset=7)) == ([], 2)
    assert await _search(storage, ThreadFilter(status="nope"), Page(limit=1, offset=7)) == ([], 0)


async def test_search_empty_database(storage: Storage) -> None:
    assert await _search(storage) == ([], 0)
    assert await _search(storage, page=Page(limit=5, offset=10)) == ([], 0)


async def _ids_matching(storage: Storage, **filters: Any) -> set[str]:
    async with storage.transaction() as tx:
        found, _ = await tx.search_threads(ThreadFilter(**filters), Page(limit=100))
    return {t.thread_id for t in found}


async def test_filters_compare_json_values_exactly(storage: Storage) -> None:
    nested = f.thread(metadata={"cfg": {"tags": ["a", "b"], "depth": 2}}, values={"ok": True})
    one = f.thread(metadata={"flag": 1}, values={"ok": 1})
    missing = f.thread(metadata={"other": "x"})
    explicit_null = f.thread(metadata={"k": None})
    async with storage.transaction() as tx:
        for t in (nested, one, missing, explicit_null):
            await tx.insert_thread(t)
    # object key order does not matter; JSON objects are unordered
    assert await _ids_matching(storage, metadata={"cfg": {"depth": 2, "tags": ["a", "b"]}}) == {nested.thread_id}
    # true is not 1, in metadata and in values
    assert await _ids_matching(storage, metadata={"flag": True}) == set()
    assert await _ids_matching(storage, values={"ok": True}) == {nested.thread_id}
    assert await _ids_matching(storage, values={"ok": 1}) == {one.thread_id}
    # a missing key is not null
    assert await _ids_matching(storage, metadata={"k": None}) == {explicit_null.thread_id}


async def test_search_applies_authorization_conditions(storage: Storage) -> None:
    owned = [
        f.thread(at=1, metadata={"owner": "alice", "members": ["alice", "bob"]}),
        f.thread(at=2, metadata={"owner": "alice", "members": ["carol"]}),
        f.thread(at=3, metadata={"owner": "bob", "members": ["alice", "bob", "dan"]}),
        f.thread(at=4, metadata={"owner": "alice", "members": "alice"}),  # not a list: never contains
        f.thread(at=5, metadata={}),
    ]
    await _insert(storage, *owned)
    ids = [t.thread_id for t in owned]

    async def find(raw: dict, **more: object) -> tuple[list[str], int]:
        async with storage.transaction() as tx:
            found, total = await tx.search_threads(
                ThreadFilter(conditions=parse(raw), **more), Page(limit=10, sort_by="created_at", sort_order="asc")
            )
        return [t.thread_id for t in found], total

    assert await find({"owner": "alice"}) == ([ids[0], ids[1], ids[3]], 3)
    assert await find({"owner": {"$eq": "bob"}}) == ([ids[2]], 1)
    assert await find({"members": {"$contains": "alice"}}) == ([ids[0], ids[2]], 2)
    assert await find({"members": {"$contains": ["bob", "alice"]}}) == ([ids[0], ids[2]], 2)
    assert await find({"members": {"$contains": ["bob", "erin"]}}) == ([], 0)
    assert await find({"owner": "alice", "members": {"$contains": "bob"}}) == ([ids[0]], 1)
    # ANDed with the caller's own filter, even on the same key
    assert await find({"owner": "alice"}, metadata={"owner": "bob"}) == ([], 0)
    assert await find({"owner": 1}) == ([], 0)  # JSON types compare exactly


async def test_assistant_search_applies_authorization_conditions(storage: Storage) -> None:
    mine, theirs = f.assistant(metadata={"owner": "alice"}, at=1), f.assistant(metadata={"owner": "bob"}, at=2)
    async with storage.transaction() as tx:
        await tx.put_assistant(mine, new_version=True)
        await tx.put_assistant(theirs, new_version=True)
        found, total = await tx.search_assistants(AssistantFilter(conditions=parse({"owner": "alice"})), Page(limit=10))
    assert ([a.assistant_id for a in found], total) == ([mine.assistant_id], 1)


async def test_run_setting_reads_thread_and_assistant_as_each_alone(storage: Storage) -> None:
    """What executing a run reads in one look is what the two single reads give, and a
    thread or an assistant that is gone is None on its own side."""
    t = f.thread(metadata={"owner": "ann"}, values={"v": 1})
    a = f.assistant(config={"configurable": {"k": 1}}, metadata={"m": True})
    await _insert(storage, t)
    async with storage.transaction() as tx:
        await tx.put_assistant(a, new_version=True)
    async with storage.autocommit() as tx:
        both = await tx.run_setting(t.thread_id, a.assistant_id)
        alone = RunSetting(await tx.get_thread(t.thread_id), await tx.get_assistant(a.assistant_id))
        no_assistant = await tx.run_setting(t.thread_id, "gone")
        no_thread = await tx.run_setting("gone", a.assistant_id)
        neither = await tx.run_setting("gone", "gone")
    assert both == alone and both.thread is not None and both.assistant is not None
    assert (no_assistant, no_thread, neither) == (
        RunSetting(both.thread, None),
        RunSetting(None, both.assistant),
        RunSetting(None, None),
    )


async def test_run_setting_says_while_a_state_update_holds_the_thread(storage: Storage) -> None:
    """A run must not start while a state update holds its thread: queueing reads that with
    the thread, and it ends with the hold."""
    t = f.thread()
    await _insert(storage, t)
    async with storage.transaction() as tx:
        assert not (await tx.run_setting(t.thread_id, "any", for_update=True)).state_held
        assert await tx.lock_thread_state(t.thread_id, 30)
    async with storage.transaction() as tx:
        assert (await tx.run_setting(t.thread_id, "any", for_update=True)).state_held
        await tx.unlock_thread_state(t.thread_id)
    async with storage.transaction() as tx:
        assert not (await tx.run_setting(t.thread_id, "any")).state_held
