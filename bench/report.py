"""The run's outputs: the targets, bench/results/<timestamp>.json and latest.json (everything),
latest.md (the README's tables) and the summary table printed at the end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The targets, each a ratio of two figures measured in the same run.
TARGET_C1_P50_X_FLOOR = 3.0  # Waypost c=1 cycle p50 <= 3x the AsyncSqliteSaver floor
TARGET_C32_X_PEER = 2.0  # Waypost c=32 throughput >= 2x the dev server's
TARGET_WINDOW_DROP = 0.10  # last c=32 window within 10% of the first
TARGET_MEMORY_MB = 50.0  # RSS(10,000 waiting) - RSS(100 waiting) <= 50 MB


def write_results(res: dict[str, Any], out: Path) -> Path:
    """Write <timestamp>.json, latest.json and latest.md into `out`; returns the first."""
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(res, indent=2, default=str) + "\n"
    path = out / f"{res['meta']['timestamp']}.json"
    path.write_text(text)
    (out / "latest.json").write_text(text)
    (out / "latest.md").write_text(markdown(res))
    return path


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
    lines += ["", "Targets (issue #5)", f"{'':<46}{'ratio':>10}{'target':>12}  result"]
    for t in res["targets"]:
        v = "-" if t["value"] is None else f"{t['value']}{'' if t['unit'] == 'MB' else 'x'}"
        if t["unit"] == "MB" and t["value"] is not None:
            v = f"{t['value']} MB"
        lines.append(f"{t['name']:<46}{v:>10}{t['target']:>12}  {'MET' if t['met'] else 'MISSED'}  ({t['detail']})")
    return "\n".join(lines)


def markdown(res: dict[str, Any]) -> str:
    """The README's tables, from one result."""
    m = res["meta"]["machine"]

    def lat(r: dict[str, Any] | None, k: str) -> str:
        v = get_path(r, "latency_ms", "cycle", k)
        return "-" if v is None else f"{v:.1f}"

    def num(v: Any, fmt: str = "{:.1f}") -> str:
        return "-" if v is None else fmt.format(v)

    out = [
        f"Run `{res['meta']['timestamp']}` on {m['cpus']} cores ({m['cpu_model']}), {m['mem_total_gib']} GiB, "
        f"Python {m['python']}; Waypost at `{(res['meta']['git']['commit'] or '?')[:10]}`"
        + (" (src modified)" if res["meta"]["git"].get("src_dirty") else "")
        + f"; CPU {m.get('cpu_busy_before', 0):.0%} busy just before the run.",
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
        "| target (issue #5) | measured | target | result |",
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
    return "\n".join(out) + "\n"
