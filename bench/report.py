"""The run's outputs: the targets, bench/results/<timestamp>.json and latest.json (everything),
latest.md (the README's tables) and the summary table printed at the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The targets, each a ratio of two figures measured in the same run.
TARGET_C1_P50_X_FLOOR = 3.0  # Waypost c=1 cycle p50 <= 3x the AsyncSqliteSaver floor
TARGET_C32_X_PEER = 2.5  # Waypost c=32 throughput >= 2.5x the dev server's
TARGET_C32_CPU_X_FLOOR = 1.3  # Waypost c=32 server CPU per cycle <= 1.3x the SqliteSaver floor's
TARGET_WINDOW_DROP = 0.10  # last c=32 window within 10% of the first
TARGET_MEMORY_MB = 50.0  # RSS(10,000 waiting) - RSS(100 waiting) <= 50 MB


def write_results(res: dict[str, Any], out: Path, latest: str = "latest") -> Path:
    """Write <timestamp>.json, <latest>.json and <latest>.md into `out`; returns the first."""
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(res, indent=2, default=str) + "\n"
    path = out / f"{res['meta']['timestamp']}.json"
    path.write_text(text)
    (out / f"{latest}.json").write_text(text)
    (out / f"{latest}.md").write_text(markdown(res))
    return path


def _main_ran(res: dict[str, Any]) -> bool:
    """The floor and the load phases ran (not a run of one section alone, --only)."""
    return "floor" in res


def get_path(d: Any, *path: Any) -> Any:
    """d[path[0]][path[1]]..., or None where a part is missing: a failed phase leaves holes."""
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    t: list[dict[str, Any]] = []
    floor_p50 = get_path(res, "floor", "AsyncSqliteSaver", "latency_ms", "cycle", "p50")
    wp_p50 = get_path(res, "waypost", "levels", "1", "latency_ms", "cycle", "p50")
    ratio = round(wp_p50 / floor_p50, 2) if wp_p50 and floor_p50 else None
    t.append(
        {
            "name": "c=1 cycle p50 vs AsyncSqliteSaver floor",
            "value": ratio,
            "unit": "x",
            "target": f"<= {TARGET_C1_P50_X_FLOOR:g}x",
            "detail": f"{wp_p50} ms vs {floor_p50} ms",
            "met": ratio is not None and ratio <= TARGET_C1_P50_X_FLOOR,
        }
    )
    wp32 = get_path(res, "waypost", "levels", "32", "cycles_per_s")
    peer32 = get_path(res, "peer", "levels", "32", "cycles_per_s")
    ratio = round(wp32 / peer32, 2) if wp32 is not None and peer32 else None
    t.append(
        {
            "name": "c=32 throughput vs langgraph dev",
            "value": ratio,
            "unit": "x",
            "target": f">= {TARGET_C32_X_PEER:g}x",
            "detail": f"{wp32} vs {peer32} cycles/s",
            "met": ratio is not None and ratio >= TARGET_C32_X_PEER,
        }
    )
    wp_cpu = get_path(res, "waypost", "levels", "32", "server_cpu_ms_per_cycle")
    floor_cpu = get_path(res, "floor", "SqliteSaver", "cpu_ms_per_cycle")
    ratio = round(wp_cpu / floor_cpu, 2) if wp_cpu and floor_cpu else None
    t.append(
        {
            "name": "c=32 server CPU per cycle vs SqliteSaver floor",
            "value": ratio,
            "unit": "x",
            "target": f"<= {TARGET_C32_CPU_X_FLOOR:g}x",
            "detail": f"{wp_cpu} vs {floor_cpu} ms",
            "met": ratio is not None and ratio <= TARGET_C32_CPU_X_FLOOR,
        }
    )
    wins = get_path(res, "windows", "windows") or []
    first = wins[0]["cycles_per_s"] if wins else None
    last = wins[-1]["cycles_per_s"] if wins else None
    ratio = round(last / first, 3) if first and last is not None else None
    t.append(
        {
            "name": f"c=32 last window vs first ({len(wins)} windows)",
            "value": ratio,
            "unit": "x",
            "target": f">= {1 - TARGET_WINDOW_DROP:.2f}x",
            "detail": f"{last} vs {first} cycles/s",
            "met": ratio is not None and ratio >= 1 - TARGET_WINDOW_DROP,
        }
    )
    mem = res.get("memory") or {}
    delta = mem.get("delta_mb")
    reached = mem.get("waiting_large")
    full = reached is not None and reached >= (mem.get("requested_large") or 0)
    t.append(
        {
            "name": f"RSS {mem.get('requested_large')} waiting threads - RSS {mem.get('requested_small')}",
            "value": delta,
            "unit": "MB",
            "target": f"<= {TARGET_MEMORY_MB:g} MB",
            "detail": f"{mem.get('rss_kb_small')} kB at {mem.get('waiting_small')} -> "
            f"{mem.get('rss_kb_large')} kB at {reached} waiting"
            + ("" if full else f"; only {reached} of {mem.get('requested_large')} reached"),
            "met": delta is not None and full and delta <= TARGET_MEMORY_MB,
        }
    )
    return t


def table(res: dict[str, Any]) -> str:
    lines = main_table(res) if _main_ran(res) else []
    if "scaled" in res:
        lines += scaled_table(res)
    if "inbox" in res:
        lines += inbox_table(res)
    return "\n".join(lines)


def main_table(res: dict[str, Any]) -> list[str]:
    lines = []
    hdr = f"{'':<28}{'cycles/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'CPU ms/cyc':>12}{'errors':>8}"
    lines += ["", "In-process floor (no server, concurrency 1)", hdr]
    for name, r in (res.get("floor") or {}).items():
        c = r["latency_ms"]["cycle"]
        lines.append(
            f"{name:<28}{r['cycles_per_s']:>10}{c.get('p50', '-'):>10}{c.get('p95', '-'):>10}"
            f"{r.get('cpu_ms_per_cycle')!s:>12}{r['errors']:>8}"
        )
    for key, title in (("waypost", "Waypost (embedded SQLite)"), ("peer", "langgraph dev (inmem)")):
        srv = res.get(key) or {}
        if "levels" not in srv:
            lines += ["", f"{title}: {srv.get('skipped', 'not run')}"]
            continue
        lines += ["", title, hdr]
        for c, r in srv["levels"].items():
            cyc = r["latency_ms"]["cycle"]
            lines.append(
                f"{'c=' + c:<28}{r['cycles_per_s']:>10}{cyc.get('p50', '-'):>10}{cyc.get('p95', '-'):>10}"
                f"{r.get('server_cpu_ms_per_cycle')!s:>12}{r.get('errors', 0):>8}"
            )
    win = res.get("windows") or {}
    if win.get("windows"):
        lines += [
            "",
            f"Waypost c=32, consecutive windows ({win['waiting_threads_before']} threads waiting at start)",
            hdr,
        ]
        for i, r in enumerate(win["windows"], 1):
            cyc = r["latency_ms"]["cycle"]
            err = r.get("errors") if i == 1 else ""
            lines.append(
                f"{'window ' + str(i):<28}{r['cycles_per_s']:>10}{cyc.get('p50', '-'):>10}{cyc.get('p95', '-'):>10}"
                f"{r.get('server_cpu_ms_per_cycle')!s:>12}{err!s:>8}"
            )
    mem = res.get("memory") or {}
    if mem:
        lines += [
            "",
            "Waypost resident memory (VmRSS)",
            f"  at start: {mem.get('rss_kb_start')} kB;"
            f" {mem.get('waiting_small')} waiting: {mem.get('rss_kb_small')} kB;"
            f" {mem.get('waiting_large')} waiting: {mem.get('rss_kb_large')} kB",
        ]
    lines += ["", "Targets (embedded mode)", f"{'':<46}{'ratio':>10}{'target':>12}  result"]
    for t in res["targets"]:
        v = "-" if t["value"] is None else f"{t['value']}{'' if t['unit'] == 'MB' else 'x'}"
        if t["unit"] == "MB" and t["value"] is not None:
            v = f"{t['value']} MB"
        lines.append(f"{t['name']:<46}{v:>10}{t['target']:>12}  {'MET' if t['met'] else 'MISSED'}  ({t['detail']})")
    return lines


def markdown(res: dict[str, Any]) -> str:
    """The README's tables, from one result."""
    m = res["meta"]["machine"]
    out = [
        f"Run `{res['meta']['timestamp']}` on {m['cpus']} cores ({m['cpu_model']}), {m['mem_total_gib']} GiB, "
        f"Python {m['python']}; Waypost at `{(res['meta']['git']['commit'] or '?')[:10]}`"
        + (" (src modified)" if res["meta"]["git"].get("src_dirty") else "")
        + f"; CPU {m.get('cpu_busy_before', 0):.0%} busy just before the run"
        + (
            f"; the {res['meta']['only']} section alone (`--only {res['meta']['only']}`)."
            if not _main_ran(res)
            else "."
        ),
    ]
    if _main_ran(res):
        out += main_markdown(res)
    if "scaled" in res:
        out += scaled_markdown(res)
    if "inbox" in res:
        out += inbox_markdown(res)
    return "\n".join(out) + "\n"


def main_markdown(res: dict[str, Any]) -> list[str]:
    """The floor, the load phases, memory and their targets."""

    def lat(r: dict[str, Any] | None, k: str) -> str:
        v = get_path(r, "latency_ms", "cycle", k)
        return "-" if v is None else f"{v:.1f}"

    def num(v: Any, fmt: str = "{:.1f}") -> str:
        return "-" if v is None else fmt.format(v)

    out = [
        "",
        "| | concurrency | cycles/s | cycle p50 ms | cycle p95 ms | server CPU ms/cycle | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in (res.get("floor") or {}).items():
        out.append(
            f"| in-process `{name}` (floor) | 1 | {num(r['cycles_per_s'])} | {lat(r, 'p50')} | {lat(r, 'p95')} "
            f"| {num(r.get('cpu_ms_per_cycle'))} (whole process) | {r['errors']} |"
        )
    for key, title in (("waypost", "Waypost"), ("peer", "`langgraph dev`")):
        for c, r in (get_path(res, key, "levels") or {}).items():
            out.append(
                f"| {title} | {c} | {num(r['cycles_per_s'])} | {lat(r, 'p50')} | {lat(r, 'p95')} "
                f"| {num(r.get('server_cpu_ms_per_cycle'))} | {r.get('errors', 0)} |"
            )
    wins = get_path(res, "windows", "windows") or []
    for i, r in enumerate(wins, 1):
        out.append(
            f"| Waypost, window {i} of {len(wins)} | 32 | {num(r['cycles_per_s'])} | {lat(r, 'p50')} | {lat(r, 'p95')} "
            f"| {num(r.get('server_cpu_ms_per_cycle'))} | {r.get('errors') if i == 1 else ''} |"
        )
    mem = res.get("memory") or {}
    out += [
        "",
        "| target (embedded mode) | measured | target | result |",
        "|---|---:|---:|---|",
    ]
    for t in res["targets"]:
        v = "-" if t["value"] is None else (f"{t['value']} MB" if t["unit"] == "MB" else f"{t['value']}x")
        out.append(f"| {t['name']} ({t['detail']}) | {v} | {t['target']} | {'met' if t['met'] else '**missed**'} |")
    if mem:
        out += [
            "",
            f"Waypost RSS: {num(mem.get('rss_kb_start'), '{:,}')} kB at start, "
            f"{num(mem.get('rss_kb_small'), '{:,}')} kB with {mem.get('waiting_small')} threads waiting, "
            f"{num(mem.get('rss_kb_large'), '{:,}')} kB with {mem.get('waiting_large')} "
            f"(of {mem.get('requested_large')} requested).",
        ]
    return out


# The scaled section's targets (bench/scaled.py), each a ratio of figures from the same run.
TARGET_PG_X_AEGRA_REDIS = 4.0  # PostgreSQL + Redis, one process, c=32 >= 4x Aegra's Redis mode
TARGET_PG_X_EMBEDDED = 0.7  # ... and >= 0.7x Waypost embedded
TARGET_PG_C1_P50_X_EMBEDDED = 2.0  # c=1 p50 within 2x of embedded
TARGET_TWO_X_ONE = 1.5  # two processes >= 1.5x one, where the machine has the cores
TARGET_TAKEOVER_S = 10.0  # kill -9 of a run's holder to the run going on elsewhere


def _ratio(a: Any, b: Any, digits: int = 2) -> float | None:
    return round(a / b, digits) if isinstance(a, int | float) and isinstance(b, int | float) and b else None


def scaled_targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """Targets of the scaled section; `value` None where a side was not measured ("not run")."""
    sc = res.get("scaled") or {}

    def level(key: str, c: str, *path: str) -> Any:
        r = get_path(sc, "setups", key, "levels", c)
        return None if r is None or r.get("failed") else get_path(r, *path)

    t: list[dict[str, Any]] = []

    def add(name: str, value: float | None, target: str, detail: str, met: bool, note: str = "") -> None:
        t.append(
            {"name": name, "value": value, "unit": "x", "target": target, "detail": detail, "met": met, "note": note}
        )

    pg32, aegra32, emb32 = (level(k, "32", "cycles_per_s") for k in ("pg1", "aegra_redis", "embedded"))
    v = _ratio(pg32, aegra32)
    add(
        "PG+Redis 1 process c=32 vs Aegra Redis mode",
        v,
        f">= {TARGET_PG_X_AEGRA_REDIS:g}x",
        f"{pg32} vs {aegra32} cycles/s",
        v is not None and v >= TARGET_PG_X_AEGRA_REDIS,
    )
    v = _ratio(pg32, emb32)
    add(
        "PG+Redis 1 process c=32 vs Waypost embedded",
        v,
        f">= {TARGET_PG_X_EMBEDDED:g}x",
        f"{pg32} vs {emb32} cycles/s",
        v is not None and v >= TARGET_PG_X_EMBEDDED,
    )
    pg1, emb1 = level("pg1", "1", "latency_ms", "cycle", "p50"), level("embedded", "1", "latency_ms", "cycle", "p50")
    v = _ratio(pg1, emb1)
    add(
        "PG+Redis 1 process c=1 cycle p50 vs embedded",
        v,
        f"<= {TARGET_PG_C1_P50_X_EMBEDDED:g}x",
        f"{pg1} ms vs {emb1} ms",
        v is not None and v <= TARGET_PG_C1_P50_X_EMBEDDED,
    )
    two32 = level("pg2", "32", "cycles_per_s")
    v = _ratio(two32, pg32)
    cpus = get_path(res, "meta", "machine", "cpus") or 0
    note = (
        f"{cpus} cores, shared by the load client and both servers: a second process can only add what "
        "the first leaves idle (waits on PostgreSQL and Redis), not a core of its own"
        if cpus < 4
        else ""
    )
    add(
        "PG+Redis 2 processes c=32 vs 1 process",
        v,
        f">= {TARGET_TWO_X_ONE:g}x",
        f"{two32} vs {pg32} cycles/s",
        v is not None and v >= TARGET_TWO_X_ONE,
        note,
    )
    tk = get_path(sc, "takeover", "pg2") or {}
    worst = tk.get("max_takeover_s")
    rounds = [r for r in tk.get("rounds", []) if "failed" not in r]
    all_taken = bool(rounds) and not tk.get("not_taken_over") and not tk.get("failed_rounds")
    t.append(
        {
            "name": "takeover after kill -9 (2 processes), worst round",
            "value": worst,
            "unit": "s",
            "target": f"< {TARGET_TAKEOVER_S:g} s",
            "detail": f"{len(rounds)} rounds: {', '.join(f'{x:.1f}' for x in tk.get('takeover_s') or [])} s; "
            f"node before the cut ran again in {tk.get('before_ran_again', '-')}"
            if rounds
            else "no round ran",
            "met": worst is not None and all_taken and worst < TARGET_TAKEOVER_S and not tk.get("before_ran_again"),
            "note": "",
        }
    )
    for key in ("embedded", "pg1", "pg2"):
        once = get_path(sc, "exactly_once", key) or {}
        applied = once.get("applied")
        t.append(
            {
                "name": f"exactly-once, {get_path(sc, 'setups', key, 'title') or key}",
                "value": max(applied) if applied else None,
                "unit": "applied",
                "target": "1 every round",
                "detail": f"applied per round {compact(applied)}; accepted {compact(once.get('accepted'))}",
                "met": bool(once.get("once_every_time")),
                "note": "",
            }
        )
    return t


def compact(values: list[Any] | None) -> str:
    """[1, 1, 2, 1] -> "1 x3, 2 x1": per-round figures in little room."""
    if not values:
        return "-"
    counts: dict[Any, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1

    def order(v: Any) -> tuple[int, float, str]:  # numbers by value, anything else after them
        return (0, float(v), "") if isinstance(v, int | float) else (1, 0.0, str(v))

    return ", ".join(f"{v} x{counts[v]}" for v in sorted(counts, key=order))


def _verdict(t: dict[str, Any]) -> str:
    return "not run" if t["value"] is None else "met" if t["met"] else "missed"


def _value(t: dict[str, Any]) -> str:
    if t["value"] is None:
        return "-"
    return {"x": f"{t['value']}x", "s": f"{t['value']} s"}.get(t["unit"], f"{t['value']}")


def scaled_markdown(res: dict[str, Any]) -> list[str]:
    sc = res.get("scaled") or {}
    out = ["", "### Scaled: PostgreSQL + Redis, and Aegra", ""]
    if sc.get("skipped"):
        return [*out, f"Not run: {sc['skipped']}."]
    ws = sc.get("waypost_scaled") or {}
    if not ws.get("available"):
        out += [f"Waypost scaled: not available in this build: {ws.get('error')}", ""]
    aegra = sc.get("aegra") or {}
    if aegra.get("skipped"):
        out += [f"Aegra: not run: {aegra['skipped']}.", ""]
    else:
        py = aegra.get("python") or {}
        versions = aegra.get("versions") or {}
        out += [
            f"Aegra {versions.get('aegra-api')} (langgraph {versions.get('langgraph')}) on Python {py.get('version')} "
            f"(found by {py.get('found_by')}), uvicorn `aegra_api.main:app`, one process, LOG_LEVEL=WARNING; "
            "default mode, and Redis mode (REDIS_BROKER_ENABLED=true). Each server has a fresh PostgreSQL "
            "schema (Waypost) or database (Aegra) and Redis key prefix. Read from its package: in Redis mode "
            "its `runs/wait` learns that a run ended by polling every 2 s (a Redis key, the database every "
            "other time), so a cycle of two waits takes about 4 s at any load; a dead worker's runs are "
            "queued again once their lease (30 s) has lapsed, by a reaper that runs every 15 s.",
            "",
        ]
    turns = next(
        (r["turns"] for st in (sc.get("setups") or {}).values() for r in st.get("levels", {}).values() if "turns" in r),
        None,
    )
    if turns:
        out += [
            f"At c=1 the Waypost setups ran side by side, each measured in {turns} turns taken one after "
            "the other (a slow stretch of the machine falls on all of them); the other rows one after the other.",
            "",
        ]
    out += [
        "| | processes | concurrency | cycles/s | cycle p50 ms | cycle p95 ms | server CPU ms/cycle | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in (sc.get("setups") or {}).values():
        if s.get("skipped"):
            why = "not available in this build (above)" if "in this build" in s["skipped"] else s["skipped"]
            out.append(f"| {s['title']} | {s['processes']} | | not run: {why} | | | | |")
            continue
        for c, r in s["levels"].items():
            cyc = get_path(r, "latency_ms", "cycle") or {}
            p50, p95 = cyc.get("p50"), cyc.get("p95")
            cpu = r.get("server_cpu_ms_per_cycle")
            rate = r["cycles_per_s"]
            rate_text = f"{rate:.2f}" if rate < 1 else f"{rate:.1f}"  # Aegra's Redis mode at c=1 is below 1
            out.append(
                f"| {s['title']} | {s['processes']} | {c} | {rate_text} "
                f"| {'-' if p50 is None else f'{p50:.1f}'} | {'-' if p95 is None else f'{p95:.1f}'} "
                f"| {'-' if cpu is None else f'{cpu:.1f}'} | {r.get('errors', 0)}"
                + (f" ({r['failed'][:80]})" if r.get("failed") else "")
                + " |"
            )
    once = sc.get("exactly_once") or {}
    if once:
        n = next(iter(once.values())).get("answers_per_round")
        out += [
            "",
            f"Exactly-once: one interrupt answered {n} times at once (same thread, same body, "
            '`POST /threads/{id}/runs`), per round; "applied" counts the node running past its interrupt '
            '(a mark it writes to a file), "in state" the answers in the thread\'s final state.',
            "",
            "| | rounds | accepted (2xx) | applied | answers in state | replies, all rounds | once every round |",
            "|---|---:|---|---|---|---|---|",
        ]
        for e in once.values():
            rounds = len(e.get("rounds", []))
            failed = f" ({e['failed_rounds']} failed)" if e.get("failed_rounds") else ""
            if e.get("failed"):
                failed += f" ({e['failed'][:100]})"
            replies = ", ".join(f"{k}: {v}" for k, v in sorted((e.get("status_codes") or {}).items()))
            out.append(
                f"| {e['title']} | {rounds}{failed} | {compact(e.get('accepted'))} | {compact(e.get('applied'))} "
                f"| {compact(e.get('answers_in_state'))} | {replies or '-'} "
                f"| {'yes' if e.get('once_every_time') else '**no**'} |"
            )
        samples = [(e["title"], e["refused_sample"]) for e in once.values() if e.get("refused_sample")]
        if samples:
            out += ["", "A refused answer was told: " + "; ".join(f"{t}: `{m[:160]}`" for t, m in samples) + "."]
    take = sc.get("takeover") or {}
    if take:
        sleep = next(iter(take.values())).get("sleep_s")
        out += [
            "",
            f"Takeover: a run's node sleeps {sleep:g} s; 0.5 s into it the process running it (the PID the node "
            "writes) gets SIGKILL. Seconds from the kill to the node starting again in the other process, and "
            "to the run reaching its interrupt.",
            "",
            "| | rounds | node again after, s | run at its interrupt after, s | node before the cut ran again |",
            "|---|---:|---|---|---:|",
        ]
        for e in take.values():
            rounds = [r for r in e.get("rounds", []) if "failed" not in r]
            ends = [r["run_end_s"] for r in rounds if r.get("run_end_s") is not None]
            fail = f" ({e['failed_rounds']} failed)" if e.get("failed_rounds") else ""
            fail += f" ({e['not_taken_over']} never taken over)" if e.get("not_taken_over") else ""
            out.append(
                f"| {e['title']} | {len(e.get('rounds', []))}{fail} | {', '.join(f'{x:.1f}' for x in e['takeover_s'])} "
                f"| {', '.join(f'{x:.1f}' for x in ends)} | {e.get('before_ran_again')} |"
            )
        for key, why in (sc.get("takeover_not_run") or {}).items():
            out.append(f"\nNo takeover for {get_path(sc, 'setups', key, 'title') or key}: {why}.")
    targets_ = sc.get("targets") or []
    if targets_:
        out += ["", "| scaled target | measured | target | result |", "|---|---:|---:|---|"]
        for t in targets_:
            note = f" {t['note']}." if t.get("note") else ""
            verdict = _verdict(t)
            out.append(
                f"| {t['name']} ({t['detail']}){note} | {_value(t)} | {t['target']} "
                f"| {verdict if verdict != 'missed' else '**missed**'} |"
            )
    return out


def scaled_table(res: dict[str, Any]) -> list[str]:
    sc = res.get("scaled") or {}
    if sc.get("skipped"):
        return ["", f"Scaled section: not run ({sc['skipped']})"]
    lines = ["", "Scaled: PostgreSQL + Redis, and Aegra"]
    ws = sc.get("waypost_scaled") or {}
    if not ws.get("available"):
        lines.append(f"  Waypost scaled: not available in this build: {ws.get('error')}")
    hdr = f"{'':<44}{'c':>4}{'cycles/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'CPU ms/cyc':>12}{'errors':>8}"
    lines.append(hdr)
    for s in (sc.get("setups") or {}).values():
        if s.get("skipped"):
            lines.append(f"{s['title']:<44}  not run: {s['skipped'][:100]}")
            continue
        for c, r in s["levels"].items():
            cyc = get_path(r, "latency_ms", "cycle") or {}
            lines.append(
                f"{s['title']:<44}{c:>4}{r['cycles_per_s']:>10}{cyc.get('p50', '-')!s:>10}{cyc.get('p95', '-')!s:>10}"
                f"{r.get('server_cpu_ms_per_cycle')!s:>12}{r.get('errors', 0)!s:>8}"
            )
    for e in (sc.get("exactly_once") or {}).values():
        lines.append(
            f"exactly-once {e['title']}: accepted {compact(e.get('accepted'))}; applied {compact(e.get('applied'))}"
        )
    for e in (sc.get("takeover") or {}).values():
        lines.append(f"takeover {e['title']}: {e.get('takeover_s')} s; before ran again {e.get('before_ran_again')}")
    lines += ["", f"{'Scaled targets':<52}{'value':>10}{'target':>14}  result"]
    for t in sc.get("targets") or []:
        lines.append(f"{t['name']:<52}{_value(t):>10}{t['target']:>14}  {_verdict(t).upper()}  ({t['detail']})")
    return lines


# The inbox section's targets (bench/inbox.py), absolute figures at a stated scale.
TARGET_INBOX_LIST_P95_MS = 50.0  # GET /interrupts?limit=20, p95
TARGET_INBOX_PG_ROWS = 1_000_000  # ... with this many threads waiting on PostgreSQL
TARGET_INBOX_SQLITE_ROWS = 100_000  # ... and this many on the embedded default
TARGET_ANSWER_P50_MS = 20.0  # answer sent -> the resumed node starting, p50, embedded

_TARGET_SHAPE = "newest first (default)"


def inbox_targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The inbox targets; `value` None where the part was not measured. A list measured on fewer
    rows than the target names (--quick) is reported, never met."""
    ib = res.get("inbox") or {}
    t: list[dict[str, Any]] = []
    for key, title, rows in (
        ("postgres", "PostgreSQL + Redis", TARGET_INBOX_PG_ROWS),
        ("sqlite", "embedded SQLite", TARGET_INBOX_SQLITE_ROWS),
    ):
        part = get_path(ib, "list", key) or {}
        shape = get_path(part, "shapes", _TARGET_SHAPE) or {}
        p95 = get_path(shape, "latency_ms", "p95")
        seeded = part.get("rows")
        full = isinstance(seeded, int) and seeded >= rows
        note = "" if full or seeded is None else f"measured with {seeded:,} rows, not the target's {rows:,}"
        if part.get("skipped") or part.get("failed"):
            note = f"not run: {part.get('skipped') or part.get('failed')}"
        p50, mx = get_path(shape, "latency_ms", "p50"), get_path(shape, "latency_ms", "max")
        t.append(
            {
                "name": f"GET /interrupts?limit=20 p95, {title}, {rows:,} waiting",
                "value": p95,
                "unit": "ms",
                "target": f"< {TARGET_INBOX_LIST_P95_MS:g} ms",
                "detail": f"p50 {p50} ms, max {mx} ms, {get_path(shape, 'latency_ms', 'n')} requests, "
                f"{shape.get('errors', '-')} errors",
                "met": p95 is not None and full and not shape.get("errors") and p95 < TARGET_INBOX_LIST_P95_MS,
                "below_scale": p95 is not None and not full,
                "note": note,
            }
        )
    ans = ib.get("answer") or {}
    p50 = get_path(ans, "answer_to_node_start_ms", "p50")
    t.append(
        {
            "name": "answer -> resumed node start p50, embedded",
            "value": p50,
            "unit": "ms",
            "target": f"< {TARGET_ANSWER_P50_MS:g} ms",
            "detail": f"p95 {get_path(ans, 'answer_to_node_start_ms', 'p95')} ms, {ans.get('answers', '-')} answers, "
            f"{ans.get('errors', '-')} errors",
            "met": p50 is not None and not ans.get("errors") and p50 < TARGET_ANSWER_P50_MS,
            "note": f"not run: {ans['failed']}" if ans.get("failed") else "",
        }
    )
    return t


def _inbox_verdict(t: dict[str, Any]) -> str:
    """As _verdict, and "below scale" for a list measured on fewer rows than its target names."""
    return "below scale" if t.get("below_scale") else _verdict(t)


def _inbox_value(t: dict[str, Any]) -> str:
    return "-" if t["value"] is None else f"{t['value']:.1f} ms"


def _total(r: dict[str, Any]) -> str:
    """The total a shape's responses gave: the number, or "> n" where counting stopped."""
    total = r.get("total")
    if not isinstance(total, int):
        return "-"
    return f"{total:,}" if r.get("total_exact") is not False else f"> {total:,}"


def _db_ms(probe: dict[str, Any] | None, what: str) -> str:
    v = get_path(probe, f"{what}_ms", "median")
    return "-" if v is None else f"{v:.1f}"


def inbox_markdown(res: dict[str, Any]) -> list[str]:
    ib = res.get("inbox") or {}
    out = ["", "### Inbox: GET /interrupts at scale, and answers", ""]
    if ib.get("skipped"):
        return [*out, f"Not run: {ib['skipped']}."]
    plan = get_path(res, "meta", "plan") or {}
    out += [
        "Threads waiting at an interrupt of the bench's review graph (bench/graphs/inbox_graph.py), seeded "
        "straight into Waypost's tables after `waypost migrate` (PostgreSQL: `INSERT ... SELECT generate_series`, "
        "then VACUUM ANALYZE; SQLite: one transaction): raised over 90 days, a fifth on a second graph "
        "(`triage`), seven in ten with assignees, a quarter with a deadline ahead (and its timers). A fresh "
        f"server, then per shape a warm-up and up to {plan.get('inbox_requests')} requests one at a time from "
        "httpx; every response checked (200, 20 items, the order, the `total`: exact, or marked inexact and "
        'below the true count). "page" and "count" are the two statements behind one request, run on the '
        'database alone (median); "count all" counts every match, as the total did before it stopped '
        "counting past offset + 10,000.",
        "",
        "| database | waiting | query | requests | p50 ms | p95 ms | max ms | errors | total "
        "| page ms (db) | count ms (db) | count all ms (db) |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key in ("postgres", "sqlite"):
        part = get_path(ib, "list", key) or {}
        if part.get("skipped") or part.get("failed"):
            out.append(
                f"| {key} | {part.get('rows', '-')} | not run: {part.get('skipped') or part.get('failed')} |||||||||"
            )
            continue
        for name, r in (part.get("shapes") or {}).items():
            lat = r.get("latency_ms") or {}
            probe = get_path(part, "database_probe", name)
            query = "&".join(f"{k}={v}" for k, v in r["query"].items())
            capped = " (capped)" if r.get("capped") else ""
            out.append(
                f"| {part['database']} | {part['rows']:,} | {name}: `{query}` | {lat.get('n')}{capped} "
                f"| {lat.get('p50', '-')} | {lat.get('p95', '-')} | {lat.get('max', '-')} | {r['errors']} "
                f"| {_total(r)} | {_db_ms(probe, 'list')} | {_db_ms(probe, 'count')} | {_db_ms(probe, 'count_all')} |"
            )
    ans = ib.get("answer") or {}
    if ans.get("failed"):
        out += ["", f"Answers: not run: {ans['failed']}."]
    elif ans:
        out += [
            "",
            f"Answers, embedded default, a fresh server: {ans['answers']} threads (after {ans['warmup']} warm-up) "
            "each waiting at the interrupt, answered one at a time with `POST /interrupts/{id}/answer`; the resumed "
            "node writes time.time() on its first line into the state, read after the run by `join`.",
            "",
            "| | answers | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, title in (
            ("answer_to_node_start_ms", "answer sent -> resumed node starts"),
            ("answer_response_ms", "the answer request's response"),
            ("answer_to_run_end_ms", "answer sent -> run ended (join returned)"),
        ):
            v = ans.get(key) or {}
            out.append(
                f"| {title} | {v.get('n', 0)} | {v.get('p50', '-')} | {v.get('p95', '-')} | {v.get('max', '-')} |"
            )
        if ans.get("errors"):
            out.append(f"\n{ans['errors']} errors, e.g. `{(ans.get('error_samples') or [''])[0][:160]}`.")
    targets_ = ib.get("targets") or []
    if targets_:
        out += ["", "| inbox target | measured | target | result |", "|---|---:|---:|---|"]
        for t in targets_:
            note = f" {t['note']}." if t.get("note") else ""
            verdict = _inbox_verdict(t)
            out.append(
                f"| {t['name']} ({t['detail']}){note} | {_inbox_value(t)} | {t['target']} "
                f"| {verdict if verdict != 'missed' else '**missed**'} |"
            )
    return out


def inbox_table(res: dict[str, Any]) -> list[str]:
    ib = res.get("inbox") or {}
    if ib.get("skipped"):
        return ["", f"Inbox section: not run ({ib['skipped']})"]
    lines = ["", "Inbox: GET /interrupts (sequential requests; page/count: the two statements on the database)"]
    lines.append(
        f"{'':<10}{'waiting':>10}  {'query':<24}{'n':>5}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'err':>5}"
        f"{'total':>14}{'page db':>9}{'count db':>9}{'all db':>9}"
    )
    for key in ("postgres", "sqlite"):
        part = get_path(ib, "list", key) or {}
        if part.get("skipped") or part.get("failed"):
            lines.append(f"{key:<10}  not run: {(part.get('skipped') or part.get('failed'))[:100]}")
            continue
        for name, r in (part.get("shapes") or {}).items():
            lat = r.get("latency_ms") or {}
            probe = get_path(part, "database_probe", name)
            lines.append(
                f"{key:<10}{part['rows']:>10,}  {name[:24]:<24}{lat.get('n', 0):>5}{lat.get('p50', '-')!s:>9}"
                f"{lat.get('p95', '-')!s:>9}{lat.get('max', '-')!s:>9}{r['errors']:>5}{_total(r):>14}"
                f"{_db_ms(probe, 'list'):>9}{_db_ms(probe, 'count'):>9}{_db_ms(probe, 'count_all'):>9}"
            )
    ans = ib.get("answer") or {}
    if ans.get("failed"):
        lines.append(f"answers: not run ({ans['failed'][:100]})")
    elif ans:
        s, r = ans.get("answer_to_node_start_ms") or {}, ans.get("answer_response_ms") or {}
        lines.append(
            f"answers (embedded, {ans.get('answers')}): answer -> node start p50 {s.get('p50')} ms, "
            f"p95 {s.get('p95')} ms; answer response p50 {r.get('p50')} ms, p95 {r.get('p95')} ms; "
            f"{ans.get('errors')} errors"
        )
    lines += ["", f"{'Inbox targets':<70}{'value':>10}{'target':>10}  result"]
    for t in ib.get("targets") or []:
        note = f"; {t['note']}" if t.get("note") else ""
        lines.append(
            f"{t['name']:<70}{_inbox_value(t):>10}{t['target']:>10}  {_inbox_verdict(t).upper()}  ({t['detail']}{note})"
        )
    return lines
