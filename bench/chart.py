"""latest.png: throughput by concurrency, one cycle at c=1, the consecutive windows and memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.report import TARGET_MEMORY_MB, TARGET_TAKEOVER_S, TARGET_WINDOW_DROP, get_path


def chart(res: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scaled = res.get("scaled") or {}
    with_scaled = any(s.get("levels") for s in (scaled.get("setups") or {}).values())
    fig, axes = plt.subplots(3 if with_scaled else 2, 2, figsize=(13, 13.5 if with_scaled else 9))
    m = res["meta"]["machine"]
    fig.suptitle(
        f"Waypost benchmark, seed HIL cycle — {res['meta']['timestamp']} — {m['cpus']} cores, {m['cpu_model']}",
        fontsize=11,
    )

    # (a) throughput by concurrency
    ax = axes[0][0]
    levels = ["1", "8", "32"]
    width = 0.38
    for i, (key, label, color) in enumerate(
        (("waypost", "Waypost", "tab:blue"), ("peer", "langgraph dev", "tab:orange"))
    ):
        vals = [get_path(res, key, "levels", c, "cycles_per_s") or 0 for c in levels]
        errs = [get_path(res, key, "levels", c, "errors") or 0 for c in levels]
        xs = [j + (i - 0.5) * width for j in range(len(levels))]
        bars = ax.bar(xs, vals, width, label=label, color=color)
        ax.bar_label(
            bars,
            [f"{v:.1f}" + (f"\n{e} errors" if e else "") for v, e in zip(vals, errs, strict=True)],
            fontsize=8,
            color="black",
        )
    for name, style in (("AsyncSqliteSaver", "--"), ("SqliteSaver", ":")):
        v = get_path(res, "floor", name, "cycles_per_s")
        if v:
            ax.axhline(v, linestyle=style, color="gray", linewidth=1, label=f"in-process {name} (c=1)")
    ax.set_xticks(range(len(levels)), [f"c={c}" for c in levels])
    ax.set_ylabel("cycles/s (higher is better)")
    ax.set_title("Throughput by concurrency")
    ax.legend(fontsize=8)

    # (b) c=1 latency
    ax = axes[0][1]
    names, p50, p95 = [], [], []
    for label, path_ in (
        ("floor async", ("floor", "AsyncSqliteSaver")),
        ("floor sync", ("floor", "SqliteSaver")),
        ("Waypost", ("waypost", "levels", "1")),
        ("langgraph dev", ("peer", "levels", "1")),
    ):
        c = get_path(res, *path_, "latency_ms", "cycle") or {}
        if c.get("p50") is not None:
            names.append(label)
            p50.append(c["p50"])
            p95.append(c["p95"])
    xs = list(range(len(names)))
    b1 = ax.bar([x - 0.2 for x in xs], p50, 0.4, label="p50", color="tab:green")
    b2 = ax.bar([x + 0.2 for x in xs], p95, 0.4, label="p95", color="tab:olive")
    ax.bar_label(b1, fmt="%.1f", fontsize=8)
    ax.bar_label(b2, fmt="%.1f", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(xs, names)
    ax.set_ylabel("cycle latency, ms (log; lower is better)")
    ax.set_title("One cycle at concurrency 1")
    ax.legend(fontsize=8)

    # (c) windows
    ax = axes[1][0]
    wins = get_path(res, "windows", "windows") or []
    if wins:
        vals = [w["cycles_per_s"] for w in wins]
        bars = ax.bar([f"window {i}" for i in range(1, len(wins) + 1)], vals, color="tab:blue")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        if wins[0].get("errors"):
            ax.text(
                0.02,
                0.95,
                f"{wins[0]['errors']} errors over the {len(wins)} windows",
                transform=ax.transAxes,
                fontsize=8,
                color="red",
                va="top",
            )
        ax.axhline(
            vals[0] * (1 - TARGET_WINDOW_DROP),
            color="red",
            linestyle="--",
            linewidth=1,
            label="target floor: first window -10%",
        )
        ax.legend(fontsize=8)
        ax.set_title(
            f"Waypost c=32, {len(wins)} consecutive {wins[0]['seconds']:.0f} s windows "
            f"({res['windows']['waiting_threads_before']} threads waiting)",
            fontsize=10,
        )
    ax.set_ylabel("cycles/s")
    ax.set_ylim(bottom=0)

    # (d) memory
    ax = axes[1][1]
    mem = res.get("memory") or {}
    if mem.get("rss_kb_large"):
        labels = ["start", f"{mem['waiting_small']} waiting", f"{mem['waiting_large']} waiting"]
        vals = [mem["rss_kb_start"] / 1024, mem["rss_kb_small"] / 1024, mem["rss_kb_large"] / 1024]
        bars = ax.bar(labels, vals, color="tab:purple")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        ax.set_title(f"Waypost RSS (delta {mem['delta_mb']} MB; target <= {TARGET_MEMORY_MB:g} MB)", fontsize=10)
    ax.set_ylabel("VmRSS, MiB")

    if with_scaled:
        scaled_panels(res, axes[2][0], axes[2][1])

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def scaled_panels(res: dict[str, Any], ax_load: Any, ax_take: Any) -> None:
    """(e) the scaled setups' throughput at each level; (f) the takeover after kill -9, with
    exactly-once in the title."""
    sc = res["scaled"]
    # A colour per setup, the same whichever setups ran.
    colors = {
        "embedded": "tab:blue",
        "pg1": "tab:cyan",
        "pg2": "tab:green",
        "aegra": "tab:red",
        "aegra_redis": "tab:orange",
    }
    setups = [(k, s) for k, s in sc["setups"].items() if s.get("levels")]
    levels = sorted({c for _, s in setups for c in s["levels"]}, key=int)
    width = 0.8 / max(1, len(setups))
    for i, (key, s) in enumerate(setups):
        vals = [get_path(s, "levels", c, "cycles_per_s") or 0 for c in levels]
        xs = [j + (i - (len(setups) - 1) / 2) * width for j in range(len(levels))]
        bars = ax_load.bar(xs, vals, width, label=s["title"], color=colors.get(key, "tab:gray"))
        ax_load.bar_label(bars, [f"{v:.2f}" if v < 1 else f"{v:.1f}" for v in vals], fontsize=7)
    ax_load.set_yscale("log")
    ax_load.set_xticks(range(len(levels)), [f"c={c}" for c in levels])
    ax_load.set_ylabel("cycles/s (log; higher is better)")
    ax_load.set_title("Scaled: throughput by setup", fontsize=10)
    ax_load.legend(fontsize=7)

    take = sc.get("takeover") or {}
    for i, e in enumerate(take.values()):
        times = e.get("takeover_s") or []
        ax_take.scatter([i] * len(times), times, label=e["title"], zorder=3)
    ax_take.axhline(TARGET_TAKEOVER_S, color="red", linestyle="--", linewidth=1, label="target: < 10 s")
    ax_take.set_xticks(range(len(take)), [e["title"].replace(", ", "\n", 1) for e in take.values()], fontsize=8)
    ax_take.set_ylabel("kill -9 to the node running again, s")
    ax_take.set_ylim(bottom=0)
    once = ", ".join(
        f"{key} {max(e['applied']) if e.get('applied') else '-'}" for key, e in (sc.get("exactly_once") or {}).items()
    )
    ax_take.set_title(f"Takeover after kill -9\nexactly-once, most applications of one answer: {once}", fontsize=9)
    ax_take.legend(fontsize=7)
