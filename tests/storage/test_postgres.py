"""What only PostgreSQL does: several processes on one database.

Each "process" here is a Storage of its own (its own pool, its own listener connection) on one
schema, so every race below is a race between separate database sessions.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
import types
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

import psycopg
import pytest
from langgraph.checkpoint.base import CheckpointMetadata, empty_checkpoint
from langgraph.checkpoint.postgres import aio
from langgraph.checkpoint.postgres.base import BasePostgresSaver

from tests.backends import postgres_schema
from tests.polling import eventually
from tests.storage import factories as f
from tests.storage import pg
from waypost.errors import StorageError
from waypost.models import AuditEntry, Origin, Timer, iso
from waypost.storage import open_storage
from waypost.storage.base import AssistantFilter, AuditFilter, Page, RunSetting, Storage, ThreadState
from waypost.storage.postgres import driver, migrate
from waypost.storage.postgres.listener import channel_prefix
from waypost.storage.postgres.store import PostgresStorage, without_icu
from waypost.storage.sql import load_migrations


class Boom(Exception):
    pass


@asynccontextmanager
async def storages(url: str, n: int) -> AsyncIterator[list[Storage]]:
    """n storages on one database, opened at the same time."""
    async with AsyncExitStack() as stack:
        opened = await asyncio.gather(*(stack.enter_async_context(open_storage(url)) for _ in range(n)))
        yield list(opened)


async def test_storages_opened_at_once_migrate_exactly_once(postgres_url: str) -> None:
    async with storages(postgres_url, 4) as four:
        with psycopg.connect(postgres_url) as conn:
            ours = conn.execute("SELECT name FROM waypost_migrations").fetchall()
            langgraphs = conn.execute("SELECT v FROM checkpoint_migrations").fetchall()
        names = [name for name, _ in load_migrations("postgres")]
        assert len(names) >= 2 and Counter(ours) == Counter({(n,): 1 for n in names})
        assert sorted(v for (v,) in langgraphs) == list(range(len(BasePostgresSaver.MIGRATIONS)))
        threads = [f.thread(at=i) for i in range(4)]
        for storage, t in zip(four, threads, strict=True):
            assert await storage.migrate() == []
            async with storage.transaction() as tx:
                assert await tx.insert_thread(t)
        for storage in four:
            async with storage.transaction() as tx:
                assert [await tx.get_thread(t.thread_id) for t in threads] == threads
            assert await storage.checkpointer.aget_tuple({"configurable": {"thread_id": "none"}}) is None


async def test_a_migration_on_another_schema_does_not_hold_this_one_up(postgres_url: str) -> None:
    """Servers on different schemas of one database (tests, staging beside production) take
    the schema-change lock per schema: one migrating (here: holding its lock) never makes
    another wait."""
    with postgres_schema() as other_url, psycopg.connect(other_url, autocommit=True) as other:
        got = other.execute(migrate.TRY_SESSION_LOCK, (migrate.LOCK_CLASS,)).fetchone()
        assert got == (True,)
        async with asyncio.timeout(15):
            async with open_storage(postgres_url) as storage:
                async with storage.transaction() as tx:
                    assert await tx.insert_thread(f.thread())
        # while on the same schema, the lock does hold a second process back
        with psycopg.connect(other_url, autocommit=True) as second:
            assert second.execute(migrate.TRY_SESSION_LOCK, (migrate.LOCK_CLASS,)).fetchone() == (False,)


@pytest.mark.parametrize("mode", ["autocommit", "transaction"])
async def test_two_processes_hand_out_each_run_once(postgres_url: str, mode: str) -> None:
    """10 threads with two queued runs each; 20 claims at once from two processes, twice; each
    claim a statement of its own (as the worker claims) or inside a transaction."""
    async with storages(postgres_url, 2) as (a, b):
        threads = [f.thread(at=i) for i in range(10)]
        first = [f.run(t.thread_id, at=i) for i, t in enumerate(threads)]
        second = [f.run(t.thread_id, at=100 + i) for i, t in enumerate(threads)]
        async with a.transaction() as tx:
            for t, r1, r2 in zip(threads, first, second, strict=True):
                await tx.insert_thread(t)
                await tx.insert_run(r1)
                await tx.insert_run(r2)

        async def claim(storage: Storage, worker: str) -> list[str]:
            async with storage.autocommit() if mode == "autocommit" else storage.transaction() as tx:
                return [r.run_id for r in await tx.claim_runs(worker, 60, 1)]

        async def claim_at_once() -> list[str]:
            got = await asyncio.gather(*(claim(s, f"worker-{i}") for i in range(10) for s in (a, b)))
            return [run_id for batch in got for run_id in batch]

        async def drain() -> list[str]:
            rest: list[str] = []
            while batch := await claim(b, "drain"):
                rest += batch
            return rest

        async def running_per_thread() -> Counter[str]:
            async with a.transaction() as tx:
                return Counter(r.thread_id for r in await tx.runs_by_status(["running"]))

        handed_out = await claim_at_once()
        assert len(handed_out) == len(set(handed_out))
        handed_out += await drain()  # none left behind by the skipping
        assert sorted(handed_out) == sorted(r.run_id for r in first)
        assert set((await running_per_thread()).values()) == {1}

        async with b.transaction() as tx:
            for r in first:
                assert await tx.finish_run(r.run_id, 1, "success", None, f.ts(50), waiting=[])
        again = await claim_at_once()
        assert len(again) == len(set(again))
        again += await drain()
        assert sorted(again) == sorted(r.run_id for r in second)
        assert set((await running_per_thread()).values()) == {1}


async def test_two_processes_answer_one_interrupt_once(postgres_url: str) -> None:
    async with storages(postgres_url, 2) as (a, b):
        t = f.thread()
        i = f.interrupt(t.thread_id)
        async with a.transaction() as tx:
            await tx.insert_thread(t)
            await tx.upsert_interrupt(i)

        async def answer(storage: Storage, run_id: str) -> int:
            async with storage.transaction() as tx:
                return await tx.answer_interrupts(t.thread_id, [i.interrupt_id], run_id, f.ts(5))

        runs = [f"run-{n}" for n in range(20)]
        claimed = await asyncio.gather(*(answer(a if n % 2 else b, run) for n, run in enumerate(runs)))
        assert sorted(claimed) == [0] * 19 + [1]
        async with b.transaction() as tx:
            (got,) = await tx.thread_interrupts(t.thread_id)
        assert got.answered_by_run == runs[claimed.index(1)]


async def test_notices_reach_every_process_on_commit_only(postgres_url: str) -> None:
    async with storages(postgres_url, 2) as (a, b):
        heard: dict[str, list[str]] = {"a": [], "b": []}
        a.listen("run_ended", heard["a"].append)
        b.listen("run_ended", heard["b"].append)
        b.listen("work", lambda payload: heard["b"].append(f"work:{payload}"))

        async with a.transaction() as tx:
            tx.notify("run_ended", "first")
        await eventually(lambda: _now(heard["b"]), lambda got: "first" in got, what="b hears a's notice")

        with pytest.raises(Boom):
            async with a.transaction() as tx:
                tx.notify("run_ended", "rolled-back")
                tx.notify("work")
                raise Boom()
        async with a.transaction() as tx:
            tx.notify("work", "w")
            tx.notify("run_ended", "after")
        await eventually(lambda: _now(heard["b"]), lambda got: "after" in got, what="b hears the later notice")
        assert heard["b"] == ["first", "work:w", "after"]  # in order, and nothing from the rollback
        # a hears its own run_ended twice: as it commits, and PostgreSQL's copy (runs/wait's
        # waiters take the repeat as a no-op), never the rolled back one
        await eventually(
            lambda: _now(heard["a"]),
            lambda got: Counter(got) == {"first": 2, "after": 2},
            what="a hears its own",
        )
        assert heard["a"][0] == "first"


async def test_a_run_end_is_heard_in_its_own_process_as_it_commits(postgres_url: str) -> None:
    """A run_ended notice reaches this process's listeners as its transaction commits, and
    again when PostgreSQL's copy arrives; a "work" notice only once (a second would cost every
    worker a claim)."""
    async with open_storage(postgres_url) as storage:
        heard: list[str] = []
        storage.listen("run_ended", heard.append)
        storage.listen("work", lambda payload: heard.append(f"work:{payload}"))
        async with storage.transaction() as tx:
            tx.notify("run_ended", "r1 {}")
            tx.notify("work", "w")
        await eventually(lambda: _now(heard), lambda got: sorted(got) == ["r1 {}", "r1 {}", "work:w"], what="copies")
        await asyncio.sleep(0.2)
        assert sorted(heard) == ["r1 {}", "r1 {}", "work:w"]


async def test_notices_stay_within_their_schema(postgres_url: str) -> None:
    """Channels are the database's: two deployments kept apart by their search_path on one
    database must not wake each other."""
    other_url = pg.new_schema("other")
    async with storages(postgres_url, 1) as (a,), storages(other_url, 1) as (other,):
        heard: dict[str, list[str]] = {"a": [], "other": []}
        # "work": a notice each process hears from PostgreSQL only (see HEARD_AT_COMMIT)
        a.listen("work", heard["a"].append)
        other.listen("work", heard["other"].append)
        async with other.transaction() as tx:
            tx.notify("work", "theirs")
        async with a.transaction() as tx:
            tx.notify("work", "ours")
        await eventually(lambda: _now(heard["a"]), lambda got: "ours" in got, what="a hears its own")
        await eventually(lambda: _now(heard["other"]), lambda got: "theirs" in got, what="other hears its own")
        assert heard == {"a": ["ours"], "other": ["theirs"]}


def test_channel_prefixes_fit_and_keep_the_default_schema_plain() -> None:
    assert channel_prefix("public") == "waypost_"
    assert channel_prefix("tenant_a") == "waypost_tenant_a_"
    long = channel_prefix("x" * 60)
    assert long != channel_prefix("y" * 60)
    assert all(len((long + c).encode()) <= 63 for c in ("work", "run_ended"))


async def test_the_listener_reconnects_and_says_look(postgres_url: str) -> None:
    async with storages(postgres_url, 2) as (a, b):
        heard: list[str] = []
        b.listen("work", heard.append)
        assert isinstance(b, PostgresStorage) and b._listener is not None and b._listener._conn is not None
        pid = b._listener._conn.info.backend_pid
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

        async def send() -> list[str]:
            async with a.transaction() as tx:
                tx.notify("work", "again")
            return heard

        # "" first: notices may have been lost meanwhile; then notices flow again
        await eventually(send, lambda got: "again" in got, within=10, what="notices after a reconnect")
        assert heard[0] == ""


async def test_an_unreachable_database_fails_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(StorageError, match="cannot open the PostgreSQL database"):
        async with open_storage("postgresql://postgres@127.0.0.1:1/test?connect_timeout=5"):
            pass
    assert time.monotonic() - started < 5


async def _now(items: list[str]) -> list[str]:
    return list(items)


async def test_a_state_update_never_holds_a_thread_a_run_was_just_queued_on(postgres_url: str) -> None:
    """A run is queued by a transaction holding its thread's row (get_thread for_update); a
    state update asking meanwhile waits for it, and must then see that run and refuse."""
    async with storages(postgres_url, 2) as (a, b):
        t = f.thread()
        async with a.transaction() as tx:
            await tx.insert_thread(t)

        async def hold() -> bool:
            async with b.transaction() as tx:
                return await tx.lock_thread_state(t.thread_id, 60)

        async with a.transaction() as tx:
            assert await tx.get_thread(t.thread_id, for_update=True) is not None
            await tx.insert_run(f.run(t.thread_id))
            holding = asyncio.create_task(hold())
            await eventually(lambda: _waiting_for_locks(postgres_url), lambda n: n > 0, what="the update waits")
        assert await holding is False


async def _waiting_for_locks(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
    return row[0] if row else 0


async def test_name_search_without_icu_still_works(postgres_url: str) -> None:
    """The queries a server built without ICU gets are valid, and fold ASCII at least."""
    async with open_storage(postgres_url) as storage:
        assert isinstance(storage, PostgresStorage)
        storage._queries = without_icu(storage._queries)
        assert all("und-x-icu" not in sql for sql in storage._queries.values())
        a = f.assistant(name="Alpha Bot")
        async with storage.transaction() as tx:
            await tx.put_assistant(a, new_version=True)
            found, total = await tx.search_assistants(AssistantFilter(name="ALPHA"), Page())
        assert ([x.assistant_id for x in found], total) == ([a.assistant_id], 1)


async def test_times_read_back_exactly_as_models_print_them(postgres_url: str) -> None:
    """Stored times come back in models.iso's form, whatever form PostgreSQL prints them in:
    no fraction, short fractions, offsets other than UTC, early and late years."""
    given = [
        "2026-12-01T00:18:58.123456+00:00",
        "2026-12-01T00:18:58+00:00",
        "2026-12-01T00:18:58.1+00:00",
        "2026-12-01T00:18:58.120+05:00",
        "2000-02-29T12:00:00.5-03:30",
        "0099-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59.999999+00:00",
    ]
    async with await driver.connect(postgres_url) as conn, driver.cursor(conn) as cur:
        for style in ("ISO, MDY", "ISO, DMY"):  # psycopg reads no other style at all
            await cur.execute(f"SET DateStyle = '{style}'")
            for text in given:
                await cur.execute("SELECT %(t)s::timestamptz AS t", {"t": text})
                row = await cur.fetchone()
                assert row is not None and row["t"] == iso(datetime.fromisoformat(text)), (style, text)


async def test_the_last_write_carries_the_notices_and_every_write_lands_in_order(postgres_url: str) -> None:
    """Writes whose result is not read go with the next statement or, the last of them, with
    the transaction's notices: reads see the writes before them, the notices come on commit,
    and a transaction that fails after a write leaves nothing of it."""
    async with storages(postgres_url, 2) as (a, b):
        heard: list[str] = []
        b.listen("run_ended", heard.append)
        t = f.thread()
        async with a.transaction() as tx:
            await tx.insert_thread(t)
        run = f.run(t.thread_id)
        state = ThreadState(
            values={"v": 1}, interrupts={}, status="busy", error=None, at_breakpoint=False, updated_at=f.ts(5)
        )
        async with a.transaction() as tx:
            await tx.insert_run(run)
            found = await tx.get_run(run.run_id)  # the held insert went first
            assert found is not None and (found.run_id, found.status) == (run.run_id, "pending")
            await tx.record_thread_state(t.thread_id, state)
            tx.notify("run_ended", "carried")
        await eventually(lambda: _now(heard), lambda got: got == ["carried"], what="b hears the notice")
        async with b.transaction() as tx:
            thread = await tx.get_thread(t.thread_id)
        assert thread is not None and (thread.values, thread.status) == ({"v": 1}, "busy")

        # held together: one write per table; a second write of a table sends the first ones
        first, second = f.interrupt(t.thread_id, at=1), f.interrupt(t.thread_id, at=2)
        async with a.transaction() as tx:
            await tx.upsert_interrupt(first)
            await tx.append_audit(
                AuditEntry(event="answer", outcome="applied", origin=Origin("ann"), thread_id=t.thread_id)
            )
            await tx.upsert_interrupt(second)
            await tx.record_thread_state(t.thread_id, replace(state, values={"v": 2}))
            await tx.set_timer(
                Timer(
                    kind="deadline",
                    due_at=f.ts(0),
                    thread_id=t.thread_id,
                    interrupt_id=first.interrupt_id,
                    plan_version=0,
                )
            )
        async with b.transaction() as tx:
            ids = [i.interrupt_id for i in await tx.thread_interrupts(t.thread_id)]
            thread = await tx.get_thread(t.thread_id)
            logged = await tx.search_audit(AuditFilter(thread_id=t.thread_id), 10)
            timers = await tx.due_timers(10)
        assert ids == [first.interrupt_id, second.interrupt_id] and thread is not None and thread.values == {"v": 2}
        assert len(logged) == 1 and [x.interrupt_id for x in timers] == [first.interrupt_id]

        with pytest.raises(Boom):
            async with a.transaction() as tx:
                await tx.record_thread_state(t.thread_id, replace(state, status="idle"))
                tx.notify("run_ended", "rolled-back")
                raise Boom()
        async with a.autocommit() as tx:  # each write at once; notices after the last
            await tx.set_thread_status(t.thread_id, "error", f.ts(6))
            tx.notify("run_ended", "auto")
        await eventually(lambda: _now(heard), lambda got: "auto" in got, what="b hears the autocommit notice")
        async with b.transaction() as tx:
            thread = await tx.get_thread(t.thread_id)
        assert heard == ["carried", "auto"] and thread is not None and thread.status == "error"


async def test_checkpoint_io_of_one_run_does_not_hold_up_the_others(postgres_url: str) -> None:
    """The checkpointer takes a pooled connection per operation and no lock of the process:
    a checkpoint write stuck behind a row lock (another session's) leaves the others' reads
    and writes free to go."""
    async with open_storage(postgres_url) as storage:
        saver = storage.checkpointer
        checkpoint, metadata = empty_checkpoint(), CheckpointMetadata(source="input", step=-1)
        stuck, free = [
            await saver.aput({"configurable": {"thread_id": t, "checkpoint_ns": ""}}, checkpoint, metadata, {})
            for t in ("stuck", "free")
        ]
        with psycopg.connect(postgres_url) as blocker:
            blocker.execute("SELECT * FROM checkpoints WHERE thread_id = 'stuck' FOR UPDATE")
            # the same checkpoint again: its upsert waits for the row lock
            again = asyncio.create_task(saver.aput(stuck, checkpoint, metadata, {}))
            await eventually(lambda: _waiting_for_locks(postgres_url), lambda n: n > 0, what="the write waits")
            assert await asyncio.wait_for(saver.aget_tuple(free), timeout=5) is not None
            await asyncio.wait_for(saver.aput_writes(free, [("channel", "value")], "task-1"), timeout=5)
            assert not again.done()
            blocker.rollback()
        await asyncio.wait_for(again, timeout=5)
        saved = await saver.aget_tuple(free)
        assert saved is not None and [w[1:] for w in saved.pending_writes or []] == [("channel", "value")]


async def test_every_write_waits_for_the_disk_checkpoints_and_claims_too(postgres_url: str) -> None:
    """No write is left to a crash of PostgreSQL: a worker that lives on builds its next
    checkpoints on the last ones (a lost one would leave them pointing at values that are
    gone), and a lost claim would be made again under the same attempt number, which a
    worker still holding the run would take for its own. A trigger records the
    synchronous_commit each write was made under."""
    async with open_storage(postgres_url) as storage:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("CREATE TABLE commit_modes (what text, mode text)")
            conn.execute(
                "CREATE FUNCTION note_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "INSERT INTO commit_modes "
                "VALUES (TG_TABLE_NAME || ' ' || TG_OP, current_setting('synchronous_commit')); "
                "RETURN NULL; END $$"
            )
            for table, events in (
                ("checkpoints", "INSERT OR DELETE"),
                ("checkpoint_writes", "INSERT OR DELETE"),
                ("threads", "INSERT"),
                ("runs", "INSERT OR UPDATE"),
            ):
                conn.execute(
                    f"CREATE TRIGGER note_mode AFTER {events} ON {table} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION note_commit_mode()"
                )
            saver = storage.checkpointer
            config = await saver.aput(
                {"configurable": {"thread_id": "t", "checkpoint_ns": ""}},
                empty_checkpoint(),
                CheckpointMetadata(source="input", step=-1),
                {},
            )
            await saver.aput_writes(config, [("channel", "value")], "task-1")
            thread = f.thread()
            async with storage.transaction() as tx:
                assert await tx.insert_thread(thread)
                await tx.insert_run(f.run(thread.thread_id))
            async with storage.autocommit() as tx:  # as the worker claims
                assert len(await tx.claim_runs("worker", 30.0, 1)) == 1
            await saver.adelete_thread("t")
            assert await saver.aget_tuple(config) is None
            modes = conn.execute("SELECT what, mode FROM commit_modes").fetchall()
    assert sorted(modes) == [
        ("checkpoint_writes DELETE", "on"),
        ("checkpoint_writes INSERT", "on"),
        ("checkpoints DELETE", "on"),
        ("checkpoints INSERT", "on"),
        ("runs INSERT", "on"),
        ("runs UPDATE", "on"),
        ("threads INSERT", "on"),
    ]


async def test_a_thread_read_with_its_assistant_for_update_holds_the_thread(postgres_url: str) -> None:
    """How queueing a run starts: the thread's row locked, its assistant read in the same
    statement; another session's lock of the thread waits until that transaction ends."""
    async with storages(postgres_url, 2) as (a, b):
        t = f.thread()
        async with a.transaction() as tx:
            assert await tx.insert_thread(t)

        async def lock_elsewhere() -> None:
            async with b.transaction() as tx:
                assert await tx.get_thread(t.thread_id, for_update=True) is not None

        async with a.transaction() as tx:
            setting = await tx.run_setting(t.thread_id, "no-such-assistant", for_update=True)
            assert setting.thread is not None and setting.thread.thread_id == t.thread_id
            assert setting.assistant is None
            other = asyncio.create_task(lock_elsewhere())
            await eventually(lambda: _waiting_for_locks(postgres_url), lambda n: n > 0, what="the other lock waits")
            assert not other.done()
        await asyncio.wait_for(other, timeout=5)
        async with a.transaction() as tx:
            assert await tx.run_setting("no-such-thread", "x", for_update=True) == RunSetting(None, None)


async def test_checkpoint_serialization_runs_on_the_loop_thread_and_other_work_in_threads(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """langgraph hands a write's serialization and a read's to asyncio.to_thread; for
    Waypost's saver they run at once on the loop's thread, while anything else sent to a
    thread still goes to one, and a failure in the inline work reaches the operation."""
    async with open_storage(postgres_url) as storage:
        saver = storage.checkpointer
        seen: dict[str, int] = {}
        for name in ("_dump_blobs", "_dump_writes", "_load_writes"):
            original = getattr(saver, name)

            def noting(self: object, *args: object, _name: str = name, _original: Any = original) -> Any:
                seen[_name] = threading.get_ident()
                return _original(*args)

            monkeypatch.setattr(saver, name, types.MethodType(noting, saver))
        checkpoint = empty_checkpoint()
        checkpoint["channel_values"] = {"state": {"a": [1, 2]}}
        checkpoint["channel_versions"] = {"state": "1"}
        config = await saver.aput(
            {"configurable": {"thread_id": "t", "checkpoint_ns": ""}},
            checkpoint,
            CheckpointMetadata(source="input", step=-1),
            {"state": "1"},
        )
        await saver.aput_writes(config, [("channel", {"b": 3})], "task-1")
        saved = await saver.aget_tuple(config)
        assert saved is not None and saved.checkpoint["channel_values"] == {"state": {"a": [1, 2]}}
        assert [w[1:] for w in saved.pending_writes or []] == [("channel", {"b": 3})]
        here = threading.get_ident()
        assert seen == {"_dump_blobs": here, "_dump_writes": here, "_load_writes": here}
        assert await aio.asyncio.to_thread(threading.get_ident) != here, "other work still goes to a thread"

        def failing(self: object, *args: object) -> Any:
            raise Boom()

        monkeypatch.setattr(saver, "_dump_writes", types.MethodType(failing, saver))
        with pytest.raises(Boom):
            await saver.aput_writes(config, [("channel", 1)], "task-2")


def test_migrate_says_what_it_applied_and_never_prints_the_password(postgres_url: str) -> None:
    """The server here trusts loopback connections, so any password gets in: it must not
    reach the output, whatever else does."""
    with_password = postgres_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret-word@", 1)
    assert "s3cret-word" in with_password

    def migrate_cli() -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "waypost", "migrate", "--database-url", with_password]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    first, again = migrate_cli(), migrate_cli()
    names = ", ".join(name for name, _ in load_migrations("postgres"))
    assert first.returncode == 0 and f"applied {names} to the database at postgresql://postgres:***@" in first.stdout
    assert again.returncode == 0 and "applied" not in again.stdout and "is up to date" in again.stdout
    assert "s3cret-word" not in first.stdout + first.stderr + again.stdout + again.stderr
