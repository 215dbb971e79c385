"""The ingesters' own cost per event, in instructions (issue 24): repeatable on a loaded
machine, where the wall-clock ratios of scripts/bench-ingest move by more than the effect.

Each row runs in its own interpreter under valgrind's cachegrind, twice: with 0 and with N
events after the same warm-up (200 events); the difference over N is the row's instructions
per event (interpreter start-up, imports, the warm-up and the close cancel out). The rows: a
UsageIngester (thread) and an AsyncUsageIngester (asyncio), in memory, submitting events one
at a time and closed at the end (every event delivered). Each batch is answered with a 201
shaped as the sandbox answers (every event created, with its id, consumerId, subscriptionId,
createdAt and billing; ids of seeded random hex), so that the replay check and the decoding
take their usual paths over an answer of the usual size. The first two rows answer through an
httpx.MockTransport, made once per distinct batch (so the server costs next to nothing); the
`-socket` rows through the client's own transport over a loopback socket to a canned server
in a process of its own (not measured): what the HTTP stack costs each driver (httpcore's
sync or async connections, anyio). Batches are full ones of 1000 (flush_interval an hour:
the timer never cuts one short under valgrind's slowness) of the same 1000 events, so each
run sends the same batches.

--against DIR measures the paygentic_client package found in DIR too (e.g. a `git archive`
of main), in the same run, and prints this checkout's count over its count per row.

Usage: scripts/bench-ingest-instructions [--events N] [--against DIR] [--rows ROW,...]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cachegrind

HERE = Path(__file__).resolve().parent
ROWS = ("thread", "asyncio", "thread-socket", "asyncio-socket")
WARMUP = 200
# What the sandbox shows of every event of the demo merchant's customer.
CONSUMER, SUBSCRIPTION = "org_c38e70281ac212a5f74d", "sub_3b8132c0fff6df8b12d8"
CREATED_AT = "2026-12-07T17:17:15.478656Z"


def batch_answer(content: bytes) -> bytes:
    """The sandbox's answer to a batch body: every event created (its ids seeded random hex
    in the sandbox's format, the same for the same body)."""
    draw = random.Random(len(content))
    successful = [
        {
            "id": f"usg_{0x18EF083D3E7FA420 + n:016x}{draw.getrandbits(32):08x}",
            "object": "usageEvent",
            "idempotencyKey": event["idempotencyKey"],
            "customerId": event["customerId"],
            "merchantId": event["merchantId"],
            "consumerId": CONSUMER,
            "subscriptionId": SUBSCRIPTION,
            "timestamp": event["timestamp"],
            "createdAt": CREATED_AT,
            "properties": event["properties"],
            "metadata": event.get("metadata"),
            "billing": {
                "billingEventId": f"bev_{draw.getrandbits(80):020x}",
                "currency": "USD",
                "price": 30000000,
                "totalTax": 0,
                "totalAmount": 30000000,
            },
        }
        for n, event in enumerate(json.loads(content)["events"])
    ]
    answer = {"object": "batchUsageEvents", "successful": successful, "failed": []}
    return json.dumps(answer, separators=(",", ":")).encode()


class Answers:
    """batch_answer() of each distinct body, made once (known by its length and first bytes)."""

    def __init__(self) -> None:
        self._made: dict[tuple[int, bytes], bytes] = {}

    def __call__(self, content: bytes) -> bytes:
        seen = (len(content), content[:200])
        if seen not in self._made:
            self._made[seen] = batch_answer(content)
        return self._made[seen]


def canned_transport() -> object:
    """A MockTransport answering every batch; the answers to the batches the rows send are made
    before the warm-up, in both runs of a row (with and without the measured events), so that
    making them cancels out (one answer of 1000 events cost ~30,000 instructions per measured
    event)."""
    import bench_ingest_support
    import httpx

    from paygentic_client.ingest.core import encode_event

    answers = Answers()
    payloads = [encode_event(e)[1] for e in bench_ingest_support.make_events("ins", 1000)]
    for size in (1000, WARMUP):  # the batches of --events N, N a multiple of 1000
        answers(b'{"events":[' + b",".join(payloads[:size]) + b"]}")

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, content=answers(request.content))

    return httpx.MockTransport(answer)


def serve() -> None:
    """The canned server of the -socket rows: HTTP/1.1 on a loopback port (printed), every
    request answered as a batch (keep-alive, any number of connections), until killed."""
    answers = Answers()

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                answer = answers(await reader.readexactly(length))
                writer.write(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(answer), answer)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(connection, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


@contextlib.contextmanager
def canned_server() -> Iterator[str]:
    """The URL of a canned server in a process of its own (valgrind does not follow it)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield f"http://127.0.0.1:{int(process.stdout.readline())}"
    finally:
        process.kill()
        process.wait()


def run(row: str, count: int) -> None:
    if row.endswith("-socket"):
        with canned_server() as url:
            deliver(row.removesuffix("-socket"), count, {"base_url": url})
    else:
        base_url = "https://api.bench.invalid"
        deliver(row, count, {"base_url": base_url, "httpx_args": {"transport": canned_transport()}})


def deliver(driver: str, count: int, client_args: dict[str, Any]) -> None:
    import bench_ingest_support

    from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester

    events = itertools.cycle(bench_ingest_support.make_events("ins", 1000))
    total = WARMUP + count
    if driver == "thread":
        with (
            AuthenticatedClient(token="tok_bench", **client_args) as client,
            UsageIngester(client, flush_interval=3600) as ingester,
        ):
            handles = [ingester.submit(next(events)) for _ in range(total)]
        assert all(handle.exception() is None for handle in handles)
        return

    async def main() -> None:
        async with (
            AuthenticatedClient(token="tok_bench", **client_args) as client,
            AsyncUsageIngester(client, flush_interval=3600) as ingester,
        ):
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
    parser.add_argument(
        "--events", type=int, default=2000, help="events measured per row (a multiple of 1000)"
    )
    parser.add_argument("--against", help="a directory holding another paygentic_client")
    parser.add_argument("--rows", default=",".join(ROWS), help="of: " + ", ".join(ROWS))
    parser.add_argument("--child", choices=ROWS, help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return 0
    if args.child:
        run(args.child, args.events)
        return 0
    rows = args.rows.split(",")
    if not set(rows) <= set(ROWS):
        parser.error(f"--rows: each of {', '.join(ROWS)}")
    print(f"instructions per event (cachegrind, {args.events} after {WARMUP} of warm-up)")
    print(
        f"{'ingester':<15} {'this checkout':>14}"
        + (f" {'--against':>12} {'ratio':>7}" if args.against else "")
    )
    for row in rows:
        mine = per_event(row, args.events, None)
        line = f"{row:<15} {mine:>14,.0f}"
        if args.against:
            theirs = per_event(row, args.events, args.against)
            line += f" {theirs:>12,.0f} {mine / theirs:>6.3f}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
