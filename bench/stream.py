"""Streaming figures for Waypost: time to first event, and token events per second.

    .venv/bin/python bench/stream.py

Starts `waypost serve` on bench/graphs (a fresh SQLite file, a free port), then with the
official Python SDK: (1) the time from sending `runs.stream` on the seed graph to receiving
its first event (metadata) and its first values event, over 200 streams; (2) a fake chat
model streaming 5,000 tokens with stream_mode="messages-tuple", counting token events/s.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from langgraph_sdk import get_client  # noqa: E402
from tests.serverproc import ServerProcess  # noqa: E402
from tests.stats import percentile  # noqa: E402

STREAMS = 200
TOKENS = 5000


async def first_events(url: str) -> tuple[list[float], list[float]]:
    client = get_client(url=url, api_key=None)
    first, first_values = [], []
    for i in range(STREAMS + 10):
        thread = await client.threads.create()
        t0 = time.perf_counter()
        seen_first = None
        async for part in client.runs.stream(thread["thread_id"], "agent", input={"some_text": "x"}):
            now = time.perf_counter()
            if seen_first is None:
                seen_first = now - t0
            if part.event == "values":
                if i >= 10:  # warm-up
                    first.append(seen_first * 1000)
                    first_values.append((now - t0) * 1000)
                break
    return first, first_values


async def token_rate(url: str) -> tuple[int, float, float]:
    client = get_client(url=url, api_key=None)
    thread = await client.threads.create()
    tokens, t_first, t_last = 0, 0.0, 0.0
    t0 = time.perf_counter()
    async for part in client.runs.stream(
        thread["thread_id"],
        "tokens",
        input={"messages": [{"role": "user", "content": "go"}], "words": TOKENS},
        stream_mode="messages-tuple",
    ):
        if part.event == "messages":
            tokens += 1
            t_last = time.perf_counter() - t0
            if tokens == 1:
                t_first = t_last
    return tokens, t_first, tokens / (t_last - t_first)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(
            config=ROOT / "bench" / "graphs" / "langgraph.json",
            database_url=f"sqlite:///{tmp}/bench.sqlite",
            log_path=Path(tmp) / "bench.log",
        ).start()
        try:
            first, first_values = asyncio.run(first_events(server.url))
            tokens, t_first, rate = asyncio.run(token_rate(server.url))
        finally:
            server.stop()
    print(
        f"time to first event (metadata), {STREAMS} streams: p50 {percentile(first, 50):.2f} ms, "
        f"p95 {percentile(first, 95):.2f} ms"
    )
    print(
        f"time to first values event: p50 {percentile(first_values, 50):.2f} ms, "
        f"p95 {percentile(first_values, 95):.2f} ms"
    )
    print(f"token stream: {tokens} token events, first after {t_first * 1000:.1f} ms, {rate:,.0f} events/s")


if __name__ == "__main__":
    main()
