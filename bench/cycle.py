"""The seed's human-in-the-loop cycle at concurrency 1 against a running server.

    make serve &   # or any server with the seed graph as "agent"
    .venv/bin/python bench/cycle.py --url http://127.0.0.1:8123 --cycles 500

One cycle = POST /threads, POST /threads/{id}/runs/wait with the input (stops at the
interrupt), POST /threads/{id}/runs/wait with Command(resume=...). Prints p50/p95 in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the helpers shared with the tests

from tests.stats import percentile

WARMUP = 20


async def cycle(client: httpx.AsyncClient) -> float:
    t0 = time.perf_counter()
    thread = (await client.post("/threads", json={})).json()
    runs = f"/threads/{thread['thread_id']}/runs/wait"
    first = (await client.post(runs, json={"assistant_id": "agent", "input": {"some_text": "original text"}})).json()
    assert first["__interrupt__"][0]["value"] == {"text_to_revise": "original text"}, first
    second = (await client.post(runs, json={"assistant_id": "agent", "command": {"resume": "Edited text"}})).json()
    assert second == {"some_text": "Edited text"}, second
    return (time.perf_counter() - t0) * 1000


async def main(url: str, cycles: int) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        for _ in range(WARMUP):
            await cycle(client)
        times = [await cycle(client) for _ in range(cycles)]
    p50, p95 = percentile(times, 50), percentile(times, 95)
    print(f"{cycles} cycles at c=1 against {url}: p50 {p50:.2f} ms, p95 {p95:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--cycles", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.url, args.cycles))
