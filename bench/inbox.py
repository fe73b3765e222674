"""The inbox section: Waypost's own /interrupts routes, at the scale an inbox reaches.

1. Listing: `GET /interrupts?limit=20` (pending, newest first) with `Plan.inbox_pg_rows` threads
   waiting at an interrupt on PostgreSQL + Redis, and `Plan.inbox_sqlite_rows` on the embedded
   default (SQLite). Creating that many through the API would take hours, so the rows are
   written straight into Waypost's tables after `waypost migrate` (PostgreSQL: one
   `INSERT ... SELECT generate_series` per table, then VACUUM ANALYZE; SQLite: executemany in
   one transaction, and no ANALYZE, as Waypost runs none), shaped as a run of the served graph
   (bench/graphs/inbox.json) leaves them: an `interrupted` thread, its pending interrupt,
   deadlines (a quarter of them, with their timers) and assignees on some. Then a fresh server,
   a warm-up and `Plan.inbox_requests` sequential requests per shape from a plain httpx client;
   every response is checked (200, 20 items, the exact `total`, the order). Beside the HTTP
   figures, the two statements a list request runs (the page and its count) are timed straight
   on the database, with their plans, so a slow shape says which of the two it is.
2. Answer -> next run: on a fresh embedded server, `Plan.inbox_answers` threads each waiting at
   the interrupt of bench/graphs/inbox_graph.py; each is answered in turn with
   `POST /interrupts/{id}/answer`. The resumed node takes time.time() on its first line and puts
   it in the thread's state, so answer-sent -> node-started is read from the graph itself, not
   from an API event.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from tests.serverproc import ServerProcess
from tests.stats import summarize_ms

from bench.backing import Backing
from bench.log import log
from bench.plan import INBOX_CONFIG, Plan
from bench.servers import Server

# The graphs bench/graphs/inbox.json serves (one graph under two ids): interrupts of `triage`
# are a fifth of the seeded ones, so a graph_id filter selects a part, not everything.
GRAPHS = ("review", "triage")
ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")  # Waypost's system assistant ids
SPAN_S = 90 * 86400  # the seeded interrupts were raised over the last 90 days
TEAMS = ("ops", "sales", "support")
# By i % 10: who an interrupt is assigned to (a third to nobody).
ASSIGNEES: tuple[tuple[str, ...], ...] = (
    (),
    (),
    (),
    ("ops",),
    ("ops",),
    ("alice",),
    ("alice", "ops"),
    ("bob",),
    ("carol", "ops"),
    (),
)
REMIND_BEFORE_S = 3600.0


def assistant_id(graph_id: str) -> str:
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, graph_id))


def _md5(kind: str, i: int) -> str:
    return hashlib.md5(f"wpbench-{kind}-{i}".encode()).hexdigest()


def _uuid(kind: str, i: int) -> str:
    return str(uuid.UUID(_md5(kind, i)))


@dataclass(frozen=True)
class Seed:
    """n interrupted threads, each with one pending interrupt. Row i is a pure function of i and
    `now`, written the same way on both databases (SQL below, Python for SQLite), so the totals
    each filter must report are known without asking the server."""

    n: int
    now: datetime

    @property
    def start(self) -> datetime:
        return self.now - timedelta(seconds=SPAN_S)

    @property
    def step_s(self) -> float:
        return SPAN_S / self.n

    # The distribution, by i. In time order (as a real inbox fills), give or take 30 s.
    @staticmethod
    def jitter_s(i: int) -> int:
        return (i * 7919) % 61 - 30

    @staticmethod
    def graph(i: int) -> str:
        return GRAPHS[1] if i % 5 == 0 else GRAPHS[0]

    @staticmethod
    def has_deadline(i: int) -> bool:
        return i % 4 == 1

    @staticmethod
    def reminds(i: int) -> bool:
        return i % 8 == 1

    def created(self, i: int) -> datetime:
        return self.start + timedelta(seconds=i * self.step_s + self.jitter_s(i))

    def deadline(self, i: int) -> datetime:
        # Always ahead: a deadline already passed would have fired (expired the interrupt).
        return self.now + timedelta(days=1 + i % 30, seconds=i % 3600)

    def count(self, keep: Callable[[int], bool]) -> int:
        return sum(1 for i in range(self.n) if keep(i))


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- the shapes measured: (name, query, expected total, check on the items)


@dataclass(frozen=True)
class Shape:
    name: str
    params: dict[str, Any]
    total: int
    offset: int = 0
    target: bool = False  # the shape the target is about


def shapes(seed: Seed) -> list[Shape]:
    return [
        Shape("newest first (default)", {"limit": 20}, seed.n, target=True),
        Shape("page 2 (offset=20)", {"limit": 20, "offset": 20}, seed.n, offset=20),
        Shape("sort_by=deadline", {"limit": 20, "sort_by": "deadline"}, seed.n),
        Shape("assignee=alice", {"limit": 20, "assignee": "alice"}, seed.count(lambda i: "alice" in ASSIGNEES[i % 10])),
        Shape("graph_id=triage", {"limit": 20, "graph_id": "triage"}, seed.count(lambda i: Seed.graph(i) == "triage")),
    ]


def check_page(shape: Shape, body: Any) -> str | None:
    """What is wrong with a list response, or None."""
    items = body.get("interrupts") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return "no interrupts list"
    if len(items) != 20:
        return f"{len(items)} items, expected 20"
    total, exact = body.get("total"), body.get("total_exact", True)
    if exact and total != shape.total:
        return f"total {total}, expected {shape.total}"
    if not exact and not (isinstance(total, int) and shape.offset + 20 <= total < shape.total):
        return f"total {total} marked inexact (more than that many), but {shape.total} match"
    if any(i.get("status") != "pending" for i in items):
        return "an item that is not pending"
    if "assignee" in shape.params and any(shape.params["assignee"] not in i["assignees"] for i in items):
        return "an item not assigned to the assignee asked for"
    if "graph_id" in shape.params and any(i["graph_id"] != shape.params["graph_id"] for i in items):
        return "an item of another graph"
    if shape.params.get("sort_by") == "deadline":
        deadlines = [i["deadline"] for i in items]
        if None in deadlines or deadlines != sorted(deadlines):
            return "not soonest deadline first"
    else:
        created = [i["created_at"] for i in items]
        if created != sorted(created, reverse=True):
            return "not newest first"
    return None


def measure_shape(client: httpx.Client, shape: Shape, warmup: int, requests: int, cap_s: float) -> dict[str, Any]:
    """`warmup` requests, then up to `requests` timed ones (fewer if `cap_s` runs out)."""
    errors: list[str] = []
    times: list[float] = []
    last: dict[str, Any] = {}
    for k in range(warmup + requests):
        if k >= warmup and times and sum(times) > cap_s:
            break
        t0 = time.perf_counter()
        r = client.get("/interrupts", params=shape.params)
        dt = time.perf_counter() - t0
        if r.status_code == 200:
            last = r.json()
            problem = check_page(shape, last)
        else:
            problem = f"HTTP {r.status_code}: {r.text[:200]}"
        if problem:
            errors.append(problem)
        if k >= warmup:
            times.append(dt)
    out: dict[str, Any] = {
        "query": shape.params,
        "expected_total": shape.total,
        "total": last.get("total"),
        "total_exact": last.get("total_exact", "not in the response"),
        "latency_ms": summarize_ms(times),
        "errors": len(errors),
    }
    if errors:
        out["error_samples"] = sorted(set(errors))[:3]
    if len(times) < requests:
        out["capped"] = f"{len(times)} of {requests} requests: the shape took over {cap_s:g} s"
    return out


def measure_list(url: str, seed: Seed, plan: Plan) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with httpx.Client(base_url=url, timeout=plan.request_timeout * 4) as client:
        for shape in shapes(seed):
            warmup = plan.inbox_warmup if shape.target else max(3, plan.inbox_warmup // 3)
            res = measure_shape(client, shape, warmup, plan.inbox_requests, plan.inbox_shape_cap_s)
            res["target"] = shape.target
            out[shape.name] = res
            lat = res["latency_ms"]
            log(
                f"  {shape.name}: p50 {lat.get('p50')} ms, p95 {lat.get('p95')} ms, max {lat.get('max')} ms"
                f" ({lat.get('n')} requests, {res['errors']} errors)"
            )
    return out


def _server(config: Path, database_url: str, extra: list[str], log_path: Path, name: str) -> Server:
    process = ServerProcess(config=config, database_url=database_url, extra_args=extra, log_path=log_path)
    return Server(name, process.url, process)


def migrate(database_url: str) -> None:
    """`waypost migrate`, as an operator would run it before the first start."""
    subprocess.run(
        [sys.executable, "-m", "waypost", "migrate", "--database-url", database_url],
        check=True,
        capture_output=True,
        text=True,
    )


# --- SQLite: rows from Python, one transaction


def sqlite_rows(seed: Seed) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...], list[tuple[Any, ...]]]]:
    """(thread row, interrupt row, timer rows) for each i."""
    for i in range(seed.n):
        graph = Seed.graph(i)
        aid = assistant_id(graph)
        tid, iid, task, run = _uuid("thread", i), _md5("interrupt", i), _uuid("task", i), _uuid("run", i)
        created = seed.created(i)
        raised = _iso(created + timedelta(milliseconds=200))
        value = {"question": "approve?", "subject": f"invoice {i}"}
        ns = [f"review:{task}"]
        shown = {
            task: [{"value": value, "id": iid, "response_schema": None, "resumable": True, "ns": ns, "when": "during"}]
        }
        metadata = {"assistant_id": aid, "graph_id": graph, "team": TEAMS[i % 3]}
        thread = (tid, _iso(created), raised, raised, _dumps(metadata), "{}", "interrupted",
                  _dumps({"subject": f"invoice {i}"}), _dumps(shown))  # fmt: skip
        deadline = _iso(seed.deadline(i)) if Seed.has_deadline(i) else None
        remind = REMIND_BEFORE_S if Seed.reminds(i) else None
        on_deadline = _dumps({"action": "expire"}) if deadline else None
        interrupt = (tid, iid, task, _dumps(ns), _dumps(value), raised, run, aid, graph,
                     _dumps(list(ASSIGNEES[i % 10])), deadline, on_deadline, remind)  # fmt: skip
        timers = []
        if deadline:
            timers.append((f"deadline:{tid}:{iid}", "deadline", deadline, tid, iid))
        if remind:
            due = _iso(seed.deadline(i) - timedelta(seconds=REMIND_BEFORE_S))
            timers.append((f"reminder:{tid}:{iid}", "reminder", due, tid, iid))
        yield thread, interrupt, timers


def seed_sqlite(path: Path, seed: Seed) -> float:
    started = time.monotonic()
    threads, interrupts, timers = [], [], []
    for t, i, tm in sqlite_rows(seed):
        threads.append(t)
        interrupts.append(i)
        timers.extend(tm)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO threads (thread_id, created_at, updated_at, state_updated_at, metadata, config, status,"
            " state_values, interrupts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            threads,
        )
        conn.executemany(
            "INSERT INTO interrupts (thread_id, interrupt_id, task_id, ns, value, created_at, run_id,"
            " assistant_id, graph_id, assignees, deadline, on_deadline, remind_before)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            interrupts,
        )
        conn.executemany(
            "INSERT INTO timers (timer_id, kind, due_at, thread_id, interrupt_id, plan_version)"
            " VALUES (?, ?, ?, ?, ?, 0)",
            timers,
        )
        conn.execute("COMMIT")  # no ANALYZE: Waypost never runs it, so its databases have no statistics
    finally:
        conn.close()
    return time.monotonic() - started


# --- PostgreSQL: the same rows, made by the database itself

PG_ROWS = """
SELECT i,
       md5('wpbench-thread-' || i)::uuid::text AS thread_id,
       md5('wpbench-interrupt-' || i) AS interrupt_id,
       md5('wpbench-task-' || i)::uuid::text AS task_id,
       md5('wpbench-run-' || i)::uuid::text AS run_id,
       CASE WHEN i %% 5 = 0 THEN 'triage' ELSE 'review' END AS graph_id,
       CASE WHEN i %% 5 = 0 THEN %(triage)s ELSE %(review)s END AS assistant_id,
       %(start)s::timestamptz
           + make_interval(secs => i * %(step)s::float8 + ((i::bigint * 7919) %% 61) - 30) AS created,
       json_build_object('question', 'approve?', 'subject', 'invoice ' || i) AS value,
       CASE WHEN i %% 4 = 1
            THEN %(now)s::timestamptz + make_interval(days => 1 + i %% 30, secs => i %% 3600) END AS deadline
FROM generate_series(0, %(n)s - 1) AS i
"""

PG_THREADS = f"""
INSERT INTO threads (thread_id, created_at, updated_at, state_updated_at, metadata, config, status,
                     state_values, interrupts)
SELECT thread_id, created, created + interval '200 ms', created + interval '200 ms',
       jsonb_build_object('assistant_id', assistant_id, 'graph_id', graph_id,
                          'team', (ARRAY['ops', 'sales', 'support'])[i %% 3 + 1]),
       '{{}}'::json, 'interrupted', jsonb_build_object('subject', 'invoice ' || i),
       json_build_object(task_id, json_build_array(json_build_object(
           'value', value, 'id', interrupt_id, 'response_schema', NULL, 'resumable', true,
           'ns', json_build_array('review:' || task_id), 'when', 'during')))
FROM ({PG_ROWS}) AS s
"""

PG_INTERRUPTS = f"""
INSERT INTO interrupts (thread_id, interrupt_id, task_id, ns, value, created_at, run_id, assistant_id,
                        graph_id, assignees, deadline, on_deadline, remind_before)
SELECT thread_id, interrupt_id, task_id, json_build_array('review:' || task_id), value,
       created + interval '200 ms', run_id, assistant_id, graph_id,
       (%(assignees)s::jsonb) -> (i %% 10), deadline,
       CASE WHEN deadline IS NOT NULL THEN '{{"action":"expire"}}'::json END,
       CASE WHEN i %% 8 = 1 THEN %(remind)s::float8 END
FROM ({PG_ROWS}) AS s
"""

PG_TIMERS = """
INSERT INTO timers (timer_id, kind, due_at, thread_id, interrupt_id, plan_version)
SELECT 'deadline:' || thread_id || ':' || interrupt_id, 'deadline', deadline, thread_id, interrupt_id, 0
FROM interrupts WHERE deadline IS NOT NULL
UNION ALL
SELECT 'reminder:' || thread_id || ':' || interrupt_id, 'reminder',
       deadline - make_interval(secs => remind_before), thread_id, interrupt_id, 0
FROM interrupts WHERE remind_before IS NOT NULL
"""


def seed_postgres(database_url: str, seed: Seed) -> dict[str, float]:
    import psycopg

    params = {
        "n": seed.n,
        "start": seed.start,
        "now": seed.now,
        "step": seed.step_s,
        "review": assistant_id("review"),
        "triage": assistant_id("triage"),
        "assignees": _dumps([list(a) for a in ASSIGNEES]),
        "remind": REMIND_BEFORE_S,
    }
    took: dict[str, float] = {}
    with psycopg.connect(database_url, autocommit=True) as conn:
        for name, sql in (("threads", PG_THREADS), ("interrupts", PG_INTERRUPTS), ("timers", PG_TIMERS)):
            t0 = time.monotonic()
            conn.execute(sql, params if "%(" in sql else None)
            took[name] = round(time.monotonic() - t0, 1)
            log(f"  seeded {name} in {took[name]} s")
        # Autovacuum would get there soon after a bulk insert; doing it now means the visibility
        # map (index-only scans) and the statistics are what a settled inbox has.
        t0 = time.monotonic()
        for table in ("threads", "interrupts", "timers"):
            conn.execute(f"VACUUM (ANALYZE) {table}")
        took["vacuum_analyze"] = round(time.monotonic() - t0, 1)
    return took


# --- the two statements behind a list request, straight on the database


def _statements(dialect: str, shape: Shape) -> tuple[str, str, dict[str, Any]]:
    """The page and count statements the store runs for `shape`, as it fills them; the count
    stops where the server's does (`count_limit`)."""
    from waypost.operations.inbox import TOTAL_COUNT_CAP
    from waypost.storage import rows
    from waypost.storage.base import InterruptFilter, Page
    from waypost.storage.sql import INTERRUPT_STATUS, by_deadline, deadline_orders, fill, interrupt_order, load_queries

    q = load_queries(dialect)
    f = InterruptFilter(status="pending", graph_id=shape.params.get("graph_id"), assignee=shape.params.get("assignee"))
    page = Page(limit=20, offset=shape.offset, sort_by=shape.params.get("sort_by"), sort_order=None)
    parts = {"filters": q["interrupt_filters"], "status": INTERRUPT_STATUS["pending"], "threads": ""}
    tiebreak = "seq" if dialect == "postgres" else "rowid"
    params = {**rows.interrupt_filter_params(f), "limit": page.limit, "offset": page.offset}
    if by_deadline(page):
        orders = deadline_orders(page, tiebreak, "seq" if dialect == "postgres" else "row_order")
        listing = fill(q["search_interrupts_by_deadline"], **parts, **orders)
        params["window"] = page.limit + page.offset
    else:
        listing = fill(q["search_interrupts"], order=interrupt_order(page, tiebreak), **parts)
    count = fill(q["count_interrupts"], **parts)
    params["count_limit"] = page.offset + TOTAL_COUNT_CAP + 1
    return listing, count, params


# The statements probed: the page, the count as the server runs it, and the count of every match
# (what the total cost before it stopped counting at a cap, and still costs with no cap).
PROBES = ("list", "count", "count_all")


def _probe_sql(listing: str, count: str, params: dict[str, Any], unbounded: Any) -> Iterator[tuple[str, str, dict]]:
    yield "list", listing, params
    yield "count", count, params
    if "count_limit" in params:
        yield "count_all", count, {**params, "count_limit": unbounded}


def _probe_line(res: dict[str, Any]) -> str:
    return ", ".join(f"{what} {res[f'{what}_ms']['median']} ms" for what in PROBES if f"{what}_ms" in res)


def _ms(times: list[float]) -> dict[str, float]:
    ms = sorted(t * 1000 for t in times)
    return {"median": round(statistics.median(ms), 2), "max": round(ms[-1], 2), "n": len(ms)}


def probe_postgres(database_url: str, seed: Seed, repeats: int) -> dict[str, Any]:
    """Per shape: the page and the count, each run `repeats` times as the server runs them
    (prepared: after five runs PostgreSQL may switch to a generic plan), and their plans
    (EXPLAIN ANALYZE, with the values bound, so the plan a custom plan would be)."""
    import psycopg

    out: dict[str, Any] = {}
    with psycopg.connect(database_url, autocommit=True, prepare_threshold=0) as conn:
        for shape in shapes(seed):
            listing, count, params = _statements("postgres", shape)
            res: dict[str, Any] = {}
            for what, sql, values in _probe_sql(listing, count, params, None):
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    conn.execute(sql, values).fetchall()
                    times.append(time.perf_counter() - t0)
                res[f"{what}_ms"] = _ms(times[3:])
                plan_rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, values, prepare=False).fetchall()
                res[f"{what}_plan"] = [r[0] for r in plan_rows]
            out[shape.name] = res
            log(f"  {shape.name}: {_probe_line(res)} (database)")
    return out


def probe_sqlite(path: Path, seed: Seed, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    conn = sqlite3.connect(path)
    try:
        for shape in shapes(seed):
            listing, count, params = _statements("sqlite", shape)
            res: dict[str, Any] = {}
            for what, sql, values in _probe_sql(listing, count, params, -1):
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    conn.execute(sql, values).fetchall()
                    times.append(time.perf_counter() - t0)
                res[f"{what}_ms"] = _ms(times[3:])
                res[f"{what}_plan"] = [r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, values)]
            out[shape.name] = res
            log(f"  {shape.name}: {_probe_line(res)} (database)")
    finally:
        conn.close()
    return out


# --- 1. the list, on each database


def list_sqlite(plan: Plan, tmp: Path, servers: list[Server]) -> dict[str, Any]:
    seed = Seed(plan.inbox_sqlite_rows, datetime.now(UTC))
    path = tmp / "inbox-list.sqlite"
    url = f"sqlite:///{path}"
    log(f"inbox list, SQLite: seeding {seed.n:,} waiting threads")
    migrate(url)
    took = seed_sqlite(path, seed)
    log(f"  seeded in {took:.1f} s")
    out: dict[str, Any] = {"rows": seed.n, "seed_s": round(took, 1), "database": "SQLite (embedded default)"}
    server = _server(INBOX_CONFIG, url, [], tmp / "inbox-list-sqlite.log", "waypost[inbox-sqlite]")
    servers.append(server)
    try:
        server.start()
        out["shapes"] = measure_list(server.url, seed, plan)
        out["server_rss_kb"] = server.rss_kb()
    finally:
        server.stop()
    out["database_probe"] = probe_sqlite(path, seed, plan.inbox_probe_repeats)
    return out


def list_postgres(plan: Plan, tmp: Path, servers: list[Server], backing: Backing) -> dict[str, Any]:
    seed = Seed(plan.inbox_pg_rows, datetime.now(UTC))
    out: dict[str, Any] = {"rows": seed.n, "database": "PostgreSQL + Redis"}
    with ExitStack() as stack:
        url = stack.enter_context(backing.schema())
        extra = ["--redis-url", backing.redis_url]
        if "--redis-prefix" in _serve_help():
            extra += ["--redis-prefix", stack.enter_context(backing.redis_prefix())]
        log(f"inbox list, PostgreSQL: seeding {seed.n:,} waiting threads")
        migrate(url)
        out["seed_s"] = seed_postgres(url, seed)
        server = _server(INBOX_CONFIG, url, extra, tmp / "inbox-list-pg.log", "waypost[inbox-pg]")
        servers.append(server)
        try:
            server.start()
            out["shapes"] = measure_list(server.url, seed, plan)
            out["server_rss_kb"] = server.rss_kb()
        finally:
            server.stop()
        out["database_probe"] = probe_postgres(url, seed, plan.inbox_probe_repeats)
    return out


def _serve_help() -> str:
    res = subprocess.run([sys.executable, "-m", "waypost", "serve", "--help"], capture_output=True, text=True)
    return res.stdout + res.stderr


# --- 2. answer -> the resumed node starting


def measure_answers(plan: Plan, tmp: Path, servers: list[Server]) -> dict[str, Any]:
    server = _server(
        INBOX_CONFIG, f"sqlite:///{tmp / 'inbox-answer.sqlite'}", [], tmp / "inbox-answer.log", "waypost[inbox-answer]"
    )
    servers.append(server)
    n, warm = plan.inbox_answers, plan.inbox_answer_warmup
    to_start: list[float] = []
    to_reply: list[float] = []
    to_end: list[float] = []
    errors: list[str] = []
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=plan.request_timeout) as client:
            log(f"inbox answer: {n + warm} threads to their interrupt")
            waiting = []
            for k in range(n + warm):
                tid = client.post("/threads", json={}).raise_for_status().json()["thread_id"]
                body = {"assistant_id": "review", "input": {"subject": f"invoice {k}"}}
                out = client.post(f"/threads/{tid}/runs/wait", json=body).raise_for_status().json()
                waiting.append((tid, out["__interrupt__"][0]["id"]))
            first_tid, first_iid = waiting[0]
            listed = client.get("/interrupts", params={"thread_id": first_tid}).raise_for_status().json()
            if [i["interrupt_id"] for i in listed["interrupts"]] != [first_iid]:
                raise RuntimeError(f"the inbox does not list the interrupt the run stopped at: {listed}")
            log(f"inbox answer: answering {n} (+{warm} warm-up), one at a time")
            for k, (tid, iid) in enumerate(waiting):
                t0 = time.time()
                r = client.post(f"/interrupts/{iid}/answer", json={"value": f"approved {k}"})
                t1 = time.time()
                if r.status_code != 200:
                    errors.append(f"answer: HTTP {r.status_code} {r.text[:200]}")
                    continue
                run_id = r.json()["run_id"]
                values = client.get(f"/threads/{tid}/runs/{run_id}/join").json()
                t2 = time.time()
                resumed = values.get("resumed_at") if isinstance(values, dict) else None
                if not isinstance(resumed, float) or values.get("answer") != f"approved {k}":
                    errors.append(f"run ended without the answer applied: {str(values)[:200]}")
                    continue
                if k >= warm:
                    to_start.append(resumed - t0)
                    to_reply.append(t1 - t0)
                    to_end.append(t2 - t0)
    finally:
        server.stop()
    out: dict[str, Any] = {
        "answers": len(to_start),
        "warmup": warm,
        "database": "SQLite (embedded default)",
        "answer_to_node_start_ms": summarize_ms(to_start),
        "answer_response_ms": summarize_ms(to_reply),
        "answer_to_run_end_ms": summarize_ms(to_end),
        "errors": len(errors),
    }
    if errors:
        out["error_samples"] = sorted(set(errors))[:3]
    s, r = out["answer_to_node_start_ms"], out["answer_response_ms"]
    log(
        f"  answer -> node start p50 {s.get('p50')} ms, p95 {s.get('p95')} ms; "
        f"answer response p50 {r.get('p50')} ms ({len(errors)} errors)"
    )
    return out


# --- the section


def measure_inbox(plan: Plan, tmp: Path, servers: list[Server]) -> dict[str, Any]:
    """The "inbox" part of the result."""
    out: dict[str, Any] = {"list": {}}
    tmp = tmp / "inbox"
    tmp.mkdir(parents=True, exist_ok=True)
    for key, run in (
        ("sqlite", lambda: list_sqlite(plan, tmp, servers)),
        ("postgres", lambda: _postgres_or_why(plan, tmp, servers)),
    ):
        try:
            out["list"][key] = run()
        except Exception as exc:  # report it, go on with the rest
            out["list"][key] = {"failed": f"{type(exc).__name__}: {str(exc)[:500]}"}
            log(f"inbox list {key} failed: {out['list'][key]['failed']}")
    try:
        out["answer"] = measure_answers(plan, tmp, servers)
    except Exception as exc:
        out["answer"] = {"failed": f"{type(exc).__name__}: {str(exc)[:500]}"}
        log(f"inbox answer failed: {out['answer']['failed']}")
    return out


def _postgres_or_why(plan: Plan, tmp: Path, servers: list[Server]) -> dict[str, Any]:
    backing = Backing()
    why = backing.unavailable()
    if why:
        log(f"inbox list on PostgreSQL skipped: {why}")
        return {"skipped": why, "rows": plan.inbox_pg_rows}
    return list_postgres(plan, tmp, servers, backing)
