#!/usr/bin/env python3
"""Waypost benchmark: one command, one run, every figure beside its alternatives.

    make bench            (= .venv/bin/python bench/run.py)

What one run measures, on this machine, in this order:

1. The in-process floor: the seed graph (examples/seed/graph.py) driven directly by langgraph
   with AsyncSqliteSaver and SqliteSaver on a temporary file, no server. A cycle is
   invoke-to-interrupt + resume, each on a new thread id.
2. Waypost (`waypost serve`, embedded SQLite default, fresh temporary database) and the
   official development server (`langgraph dev` from `langgraph-cli[inmem]`, installed by this
   script into bench/.venv-peer), each on a free random loopback port, driven by the same
   asyncio + httpx client at concurrency 1, 8 and 32: a fresh server per level, Waypost then
   langgraph dev at each level, so the two sides of a ratio are measured back to back. A cycle is
   POST /threads -> POST /threads/{id}/runs/wait (input, to the interrupt)
   -> POST /threads/{id}/runs/wait (command resume); every response is checked.
3. A second fresh Waypost: resident memory (VmRSS) at start, after 100 and after 10,000
   threads left waiting at an interrupt (created at concurrency 32), then concurrency 32 for
   four consecutive windows of one continuous load, on top of those waiting threads.

4. The scaled section (bench/scaled.py): Waypost on PostgreSQL + Redis with one and with two
   processes, beside Waypost embedded and Aegra (installed into bench/.venv-aegra, default
   mode and Redis mode) at concurrency 1 and 32; exactly-once under 20 concurrent answers to
   one interrupt; the takeover of a run after kill -9 of the process holding it.
5. The inbox section (bench/inbox.py): GET /interrupts with 1,000,000 threads waiting on
   PostgreSQL + Redis and 100,000 on the embedded default (rows seeded straight into the
   tables), and the time from POST /interrupts/{id}/answer to the resumed node starting.

It writes bench/results/<UTC timestamp>.json, bench/results/latest.json, latest.md (the README's
tables) and latest.png, and prints a summary table with the targets.
Servers are started in their own session and stopped by their own PID only.
Not part of the test suite. Options: --quick (a short smoke run), --no-peer, --profile
(py-spy flame graph of Waypost's c=1 window, if py-spy is installed), --no-scaled, --no-aegra,
--aegra-python PATH, --no-inbox, --only inbox|scaled (that section alone; written to
latest-<section>.json and .md so the full run's latest.* stay as they are).

This file only puts the phases in order; what each does lives in the bench package beside it
(see bench/__init__.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# `python bench/run.py` puts bench/ on the path, not the repository root that the bench package
# and the helpers shared with the tests (tests/) are imported from.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chart import chart
from bench.floor import run_floor
from bench.inbox import measure_inbox
from bench.load import measure_servers
from bench.log import log
from bench.meta import cpu_busy, describe
from bench.plan import parse_args
from bench.report import inbox_targets, scaled_targets, table, targets, write_results
from bench.scaled import measure_scaled
from bench.servers import peer_versions, stopped_at_exit


def main(argv: list[str] | None = None) -> int:
    plan, options = parse_args(argv, description=__doc__.split("\n\n")[0])
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    res: dict[str, Any] = {"bench": "waypost-bench", "version": 1, "meta": describe(stamp, options.quick, plan)}
    args = sys.argv[1:] if argv is None else argv
    res["meta"]["command"] = "make bench" + (f" BENCH_ARGS='{' '.join(args)}'" if args else "")
    only = options.only
    peer = None if options.no_peer or only else peer_versions()
    res["meta"]["peer_versions"] = peer
    res["meta"]["only"] = only

    busy = cpu_busy()
    res["meta"]["machine"]["cpu_busy_before"] = busy
    if busy > 0.15:
        log(f"warning: the machine is {busy:.0%} busy before the bench starts; figures will be noisy")
    if not only:
        res["floor"] = run_floor(plan)

    peer_skipped = "--no-peer" if options.no_peer else "not installed" if peer is None else None
    profile_dir = options.out / "profile" if options.profile else None
    with tempfile.TemporaryDirectory(prefix="waypost-bench-") as tmp, stopped_at_exit() as servers:
        if not only:
            res.update(measure_servers(plan, Path(tmp), servers, peer_skipped, profile_dir))
        if only in (None, "scaled"):
            if options.no_scaled:
                res["scaled"] = {"skipped": "--no-scaled"}
            else:
                res["scaled"] = measure_scaled(plan, options, Path(tmp), servers)
        if only in (None, "inbox"):
            if options.no_inbox:
                res["inbox"] = {"skipped": "--no-inbox"}
            else:
                res["inbox"] = measure_inbox(plan, Path(tmp), servers)

    res["targets"] = [] if only else targets(res)
    if "scaled" in res:
        res["scaled"]["targets"] = scaled_targets(res)
    if "inbox" in res:
        res["inbox"]["targets"] = inbox_targets(res)
    res["meta"]["machine"]["loadavg_end"] = os.getloadavg()
    res["meta"]["duration_s"] = round(time.monotonic() - started, 1)

    path = write_results(res, options.out, latest=f"latest-{only}" if only else "latest")
    print(table(res))
    if only:  # the chart draws the full run's sections
        print(f"\nresults: {path}, {options.out / f'latest-{only}.json'}  ({res['meta']['duration_s']} s)")
        return 0
    chart(res, options.out / "latest.png")
    print(
        f"\nresults: {path}, {options.out / 'latest.json'}, {options.out / 'latest.png'}"
        f"  ({res['meta']['duration_s']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
