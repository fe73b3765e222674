"""What one run measures and for how long, and the command line that picks it."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_DIR = ROOT / "examples" / "seed"  # the graph every phase drives
RESULTS_DIR = ROOT / "bench" / "results"


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
        )


@dataclass(frozen=True)
class Options:
    """The command line, typed."""

    quick: bool
    no_peer: bool
    profile: bool
    out: Path


def parse_args(argv: list[str] | None, description: str) -> tuple[Plan, Options]:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help="short smoke run (results are not comparable)")
    ap.add_argument("--no-peer", action="store_true", help="skip langgraph dev")
    ap.add_argument("--profile", action="store_true", help="py-spy flame graph of Waypost's c=1 (skews it)")
    ap.add_argument("--out", type=Path, default=RESULTS_DIR, help="results folder (default %(default)s)")
    args = ap.parse_args(argv)
    options = Options(quick=args.quick, no_peer=args.no_peer, profile=args.profile, out=args.out)
    return (Plan.quick() if options.quick else Plan()), options
