"""An optional py-spy flame graph of a server while it is under load (`--profile`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from bench.log import log


def start_profile(pid: int, out_dir: Path, warmup: float, seconds: float) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        log("--profile: py-spy not found (pip install py-spy); skipping")
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    # Starts with the warm-up; the flame graph covers warm-up + window.
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(warmup + seconds)),
            "--rate",
            "250",
            "--format",
            "flamegraph",
            "-o",
            str(out_dir / "waypost-c1.svg"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def finish_profile(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(timeout=5)
