"""What one run measures and for how long, and the command line that picks it."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "examples" / "seed"  # the graph every phase drives
RESULTS_DIR = ROOT / "bench" / "results"
# The scaled section's graphs: the seed again, and the ones its correctness checks observe.
SCALED_CONFIG = ROOT / "bench" / "graphs" / "scaled.json"
# The inbox section's graph (bench/graphs/inbox_graph.py), served as `review` and `triage`.
INBOX_CONFIG = ROOT / "bench" / "graphs" / "inbox.json"


@dataclass
class Plan:
    floor_warmup: float = 2.0
    floor_seconds: float = 10.0
    # concurrency -> (warmup s, measured s)
    waypost_levels: dict[int, tuple[float, float]] = field(
        default_factory=lambda: {1: (2.0, 15.0), 8: (2.0, 15.0), 32: (3.0, 15.0)}
    )
    # The dev server takes ~2 s per cycle at c=1 (its queue polls every 0.5 s): a longer window there.
    peer_levels: dict[int, tuple[float, float]] = field(
        default_factory=lambda: {1: (2.0, 30.0), 8: (3.0, 20.0), 32: (3.0, 20.0)}
    )
    memory_small: int = 100
    memory_large: int = 10_000
    memory_cap_s: float = 300.0  # give up filling at this point and report what was reached
    stall_abort_s: float = 45.0  # ... or when no thread reached its interrupt for this long
    windows: int = 4
    window_seconds: float = 15.0
    window_warmup: float = 3.0
    request_timeout: float = 30.0
    drain_cap_s: float = 30.0  # in-flight cycles get this long after a window ends
    # The scaled section (bench/scaled.py): every setup at each of these levels (warm-up, seconds
    # measured), back to back; at c=1 the Waypost setups side by side, in this many turns each.
    scaled_levels: dict[int, tuple[float, float]] = field(default_factory=lambda: {1: (2.0, 15.0), 32: (3.0, 15.0)})
    scaled_turns: int = 6
    # Aegra's Redis mode answers runs/wait by polling every 2 s (~4 s a cycle at c=1): a longer
    # window, so its figure rests on more than a handful of cycles.
    aegra_levels: dict[int, tuple[float, float]] = field(default_factory=lambda: {1: (2.0, 30.0), 32: (3.0, 20.0)})
    once_repeats: int = 10  # exactly-once: this many interrupts ...
    once_answers: int = 20  # ... each answered this many times at once
    takeover_repeats: int = 4  # Waypost, two processes: kill -9 the run's holder this many times
    aegra_takeover_repeats: int = 2  # Aegra's lease is 30 s and its reaper runs every 15 s: fewer
    takeover_sleep_s: float = 4.0  # how long the killed node takes
    takeover_cap_s: float = 120.0  # give up waiting for a takeover after this long
    # The inbox section (bench/inbox.py): threads waiting at an interrupt, seeded straight into
    # the tables, listed by GET /interrupts; then answers timed to the resumed node's start.
    inbox_pg_rows: int = 1_000_000
    inbox_sqlite_rows: int = 100_000
    inbox_warmup: int = 30  # requests before the timed ones (a third of it for the other shapes)
    inbox_requests: int = 300  # timed requests per shape, one at a time
    inbox_shape_cap_s: float = 60.0  # a slow shape stops after this much timed time
    inbox_probe_repeats: int = 23  # the page and count statements on the database, per shape
    inbox_answers: int = 200
    inbox_answer_warmup: int = 10

    @classmethod
    def quick(cls) -> Plan:
        return cls(
            floor_warmup=0.5,
            floor_seconds=2.0,
            waypost_levels={1: (0.5, 3.0), 8: (0.5, 3.0), 32: (0.5, 3.0)},
            peer_levels={1: (0.5, 5.0), 8: (0.5, 4.0), 32: (0.5, 4.0)},
            memory_small=100,
            memory_large=1_000,
            memory_cap_s=60.0,
            stall_abort_s=20.0,
            windows=4,
            window_seconds=3.0,
            window_warmup=0.5,
            drain_cap_s=15.0,
            scaled_levels={1: (0.5, 3.0), 32: (0.5, 3.0)},
            scaled_turns=2,
            aegra_levels={1: (0.5, 8.0), 32: (0.5, 5.0)},
            once_repeats=2,
            takeover_repeats=1,
            aegra_takeover_repeats=1,
            takeover_cap_s=90.0,
            inbox_pg_rows=20_000,
            inbox_sqlite_rows=5_000,
            inbox_warmup=9,
            inbox_requests=60,
            inbox_shape_cap_s=20.0,
            inbox_probe_repeats=8,
            inbox_answers=30,
            inbox_answer_warmup=3,
        )


# What --only can pick: sections that stand alone (the floor and the servers' load phases do not:
# their targets are ratios between them).
SECTIONS = ("inbox", "scaled")


@dataclass(frozen=True)
class Options:
    """The command line, typed."""

    quick: bool
    no_peer: bool
    profile: bool
    out: Path
    no_scaled: bool = False
    no_aegra: bool = False
    aegra_python: str | None = None
    no_inbox: bool = False
    only: str | None = None  # run this section alone


def parse_args(argv: list[str] | None, description: str) -> tuple[Plan, Options]:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="short smoke run (results are not comparable)")
    ap.add_argument("--no-peer", action="store_true", help="skip langgraph dev")
    ap.add_argument("--profile", action="store_true", help="py-spy flame graph of Waypost's c=1 (skews it)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder (default %(default)s)")
    ap.add_argument("--no-scaled", action="store_true", help="skip the scaled section (PostgreSQL + Redis, Aegra)")
    ap.add_argument("--no-aegra", action="store_true", help="skip Aegra in the scaled section")
    ap.add_argument("--aegra-python", help="Python >= 3.12 to install Aegra with (default: searched for)")
    ap.add_argument("--no-inbox", action="store_true", help="skip the inbox section (GET /interrupts, answers)")
    ap.add_argument(
        "--only",
        choices=SECTIONS,
        help="run this section alone; its results go to latest-<section>.json/.md, not latest.*",
    )
    args = ap.parse_args(argv)
    if args.only == "inbox" and args.no_inbox:
        ap.error("--only inbox and --no-inbox contradict each other")
    options = Options(
        quick=args.quick,
        no_peer=args.no_peer,
        profile=args.profile,
        out=args.out,
        no_scaled=args.no_scaled,
        no_aegra=args.no_aegra,
        aegra_python=args.aegra_python,
        no_inbox=args.no_inbox,
        only=args.only,
    )
    return (Plan.quick() if options.quick else Plan()), options
