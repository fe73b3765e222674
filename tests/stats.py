"""Latency statistics shared by the tests and the benchmarks, so every figure is computed one way."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0 to 100) of `values`, interpolating linearly between the two nearest
    ranks (numpy's default), so p50 is the median. Raises ValueError when there are no values."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize_ms(seconds: Iterable[float]) -> dict[str, Any]:
    """Durations given in seconds, summarized in milliseconds rounded to the microsecond:
    {"n": 0} when there are none."""
    ms = sorted(s * 1000.0 for s in seconds)
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50": round(percentile(ms, 50), 3),
        "p95": round(percentile(ms, 95), 3),
        "p99": round(percentile(ms, 99), 3),
        "mean": round(sum(ms) / len(ms), 3),
        "min": round(ms[0], 3),
        "max": round(ms[-1], 3),
    }
