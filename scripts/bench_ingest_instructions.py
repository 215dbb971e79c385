"""The ingesters' own cost per event, in instructions (issue 24): repeatable on a loaded
machine, where the wall-clock ratios of scripts/bench-ingest move by more than the effect.

Each row runs in its own interpreter under valgrind's cachegrind, twice: with 0 and with N
events after the same warm-up (200 events); the difference over N is the row's instructions
per event (interpreter start-up, imports, the warm-up and the close cancel out). The rows: a
UsageIngester (thread) and an AsyncUsageIngester (asyncio), in memory, submitting events one
at a time and closed at the end (every event delivered), through an httpx.MockTransport that
answers every batch with a 201 that echoes its events as the created ones, as the API does
(so the replay check takes its usual path), made once per distinct batch (so the server
costs next to nothing). Batches are full ones of 1000 (flush_interval an hour: the timer never
cuts one short under valgrind's slowness) of the same 1000 events, so each run sends the
same batches.

--against DIR measures the paygentic_client package found in DIR too (e.g. a `git archive`
of main), in the same run, and prints this checkout's count over its count per row.

Usage: scripts/bench-ingest-instructions [--events N] [--against DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
from pathlib import Path

import cachegrind

HERE = Path(__file__).resolve().parent
ROWS = ("thread", "asyncio")
WARMUP = 200


def canned_transport() -> object:
    """A MockTransport answering each batch: every event created (echoed), made once per
    distinct batch (known by its length and first bytes)."""
    import httpx

    answers: dict[tuple[int, bytes], bytes] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        content = request.content
        seen = (len(content), content[:200])
        if seen not in answers:
            events = json.loads(content)["events"]
            body = {"object": "batchUsageEvents", "successful": events, "failed": []}
            answers[seen] = json.dumps(body).encode()
        return httpx.Response(201, content=answers[seen])

    return httpx.MockTransport(answer)


def run(row: str, count: int) -> None:
    import bench_ingest_support

    from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester

    events = itertools.cycle(bench_ingest_support.make_events("ins", 1000))
    total = WARMUP + count
    client = AuthenticatedClient(
        base_url="https://api.bench.invalid",
        token="tok_bench",
        httpx_args={"transport": canned_transport()},
    )
    if row == "thread":
        with UsageIngester(client, flush_interval=3600) as ingester:
            handles = [ingester.submit(next(events)) for _ in range(total)]
        assert all(handle.exception() is None for handle in handles)
        return

    async def main() -> None:
        async with AsyncUsageIngester(client, flush_interval=3600) as ingester:
            handles = [await ingester.submit(next(events)) for _ in range(total)]
        assert all(handle.exception() is None for handle in handles)

    asyncio.run(main())


def instructions(row: str, count: int, against: str | None) -> int:
    """Instructions of a whole interpreter running the row with count events (cachegrind)."""
    arguments = [__file__, "--child", row, "--events", str(count)]
    return cachegrind.instructions(arguments, [str(HERE), *([against] if against else [])])


def per_event(row: str, count: int, against: str | None) -> float:
    return (instructions(row, count, against) - instructions(row, 0, against)) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events measured per row")
    parser.add_argument("--against", help="a directory holding another paygentic_client")
    parser.add_argument("--child", choices=ROWS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run(args.child, args.events)
        return 0
    print(f"instructions per event (cachegrind, {args.events} after {WARMUP} of warm-up)")
    print(
        f"{'ingester':<10} {'this checkout':>14}"
        + (f" {'--against':>12} {'ratio':>7}" if args.against else "")
    )
    for row in ROWS:
        mine = per_event(row, args.events, None)
        line = f"{row:<10} {mine:>14,.0f}"
        if args.against:
            theirs = per_event(row, args.events, args.against)
            line += f" {theirs:>12,.0f} {mine / theirs:>6.3f}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
