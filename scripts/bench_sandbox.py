"""Benchmark the sandbox: server time of a 1000-event batch and of a single create.

Server time is measured in-process by calling the ASGI application directly (request
bytes in, response bytes out, SQLite file with WAL, as in production use); end-to-end time
goes through a real `python -m paygentic_sandbox` process over HTTP with httpx. Each is
printed next to its budget (issue 4: < 50 ms per 1000-event batch, < 2 ms per create) and
next to a baseline measured in the same run: validating the same events with the
pure-Python `jsonschema`, the validator the sandbox does not use because of this.

Listing (issue 14): `list_usage_events.sync_all` (limit 100) against a sandbox process, timed
over one customer's first 10,000 events, over all 100,000 of them, and again over the first
10,000 once 300,000 events of other customers of the same merchant share the table and the
time range. The ratios of wall times are printed next to their targets (100,000 vs 10,000:
≤ 12×, so linear; with the other events vs without: ≤ 1.5×, so blind to them), with their
range over the rounds and the same ratios of CPU time, the sandbox process's and the
client's: on a busy machine a wall time also holds the time either side waited for a core.

Usage: scripts/bench-sandbox [--quick] [--only timing|listing]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from paygentic_sandbox import DEMO_MERCHANT_ID, DEMO_TOKEN, SandboxProcess, create_app
from paygentic_sandbox.app import SandboxApp, tune_garbage_collector
from paygentic_sandbox.spec import spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from paygentic_client import AuthenticatedClient
from paygentic_client.api.usage_events import list_usage_events

BATCH_BUDGET_MS = 50.0
CREATE_BUDGET_MS = 2.0
AUTH = [(b"authorization", b"Bearer " + DEMO_TOKEN.encode())]


def event() -> dict[str, Any]:
    return {
        "idempotencyKey": uuid.uuid4().hex,
        "customerId": f"cus_{uuid.uuid4().hex[:6]}",
        "merchantId": DEMO_MERCHANT_ID,
        "timestamp": "2024-01-15T10:30:00Z",
        "properties": [
            {"billableMetricId": "bm_input_tokens", "quantity": 1500, "price": "0.000003"},
            {"billableMetricId": "bm_output_tokens", "quantity": 800.5, "price": "0.000015"},
        ],
        "metadata": {"model_name": "claude-3-opus"},
    }


async def call(app: SandboxApp, path: str, body: bytes) -> tuple[int, bytes]:
    """One POST through the ASGI interface, as uvicorn would make it."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [*AUTH, (b"content-type", b"application/json")],
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[arg-type]
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def times_ms(run: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def server_times(db: Path, batches: int, creates: int) -> tuple[list[float], list[float]]:
    app = create_app(str(db))
    tune_garbage_collector()  # as `python -m paygentic_sandbox` does
    loop = asyncio.new_event_loop()

    def batch() -> None:
        body = json.dumps({"events": [event() for _ in range(1000)]}).encode()
        started = time.perf_counter()
        status, _ = loop.run_until_complete(call(app, "/v0/usage/batch", body))
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 201, status

    def create() -> None:
        body = json.dumps(event()).encode()
        started = time.perf_counter()
        status, _ = loop.run_until_complete(call(app, "/v0/usage", body))
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 201, status

    timings: list[float] = []
    for _ in range(batches + 1):
        batch()
    batch_times = timings[1:]  # the first one warms caches up
    timings = []
    for _ in range(creates + 10):
        create()
    create_times = timings[10:]
    app.store.close()
    loop.close()
    return batch_times, create_times


def end_to_end_times(db: Path, batches: int, creates: int) -> tuple[list[float], list[float]]:
    with SandboxProcess(db=db, tokens={DEMO_TOKEN: DEMO_MERCHANT_ID}) as server:
        headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Content-Type": "application/json"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
            bodies = [
                json.dumps({"events": [event() for _ in range(1000)]}) for _ in range(batches + 1)
            ]
            client.post("/v0/usage/batch", content=bodies.pop())
            batch_ms = times_ms(
                lambda: client.post("/v0/usage/batch", content=bodies.pop()), batches
            )
            create_ms = times_ms(
                lambda: client.post("/v0/usage", content=json.dumps(event())), creates
            )
    return batch_ms, create_ms


def jsonschema_baseline_ms(repeat: int) -> float:
    """Validating 1000 events with the pure-Python jsonschema, for comparison."""
    uri = "urn:paygentic:openapi"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(spec(), default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": uri + "#/components/schemas/CreateUsageEventRequest"},
        registry=registry,
        format_checker=FormatChecker(),
    )
    events = [event() for _ in range(1000)]
    return statistics.median(times_ms(lambda: [validator.is_valid(e) for e in events], repeat))


LIST_LIMIT = 100  # the API's largest page
LINEAR_TARGET = 12.0
BLIND_TARGET = 1.5
LIST_T0 = datetime.datetime(2024, 1, 15, tzinfo=datetime.UTC)
LIST_ROUNDS = 6  # even: each order of the listings (see listing_samples) as often


@dataclass(frozen=True)
class ListingSizes:
    fewer: int  # one customer's events listed first (10,000)
    more: int  # all of that customer's events (100,000)
    others: int  # other customers' events added to the table afterwards (300,000)


def _seed(url: str, customer: str, first: int, count: int, spacing_us: int) -> None:
    """`count` events of `customer`, `spacing_us` apart from LIST_T0 + first * spacing_us,
    posted in ready-made 1000-event batches with bare httpx (seeding is not measured)."""
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Content-Type": "application/json"}
    with httpx.Client(base_url=url, headers=headers, timeout=120) as http:
        for start in range(first, first + count, 1000):
            events = []
            for n in range(start, min(start + 1000, first + count)):
                at = LIST_T0 + datetime.timedelta(microseconds=n * spacing_us)
                events.append(
                    {
                        "idempotencyKey": f"{customer}_{n:08d}",
                        "customerId": customer,
                        "merchantId": DEMO_MERCHANT_ID,
                        "timestamp": at.isoformat(),
                        "properties": [{"billableMetricId": "bm_api_calls", "quantity": 1}],
                    }
                )
            response = http.post("/v0/usage/batch", content=json.dumps({"events": events}))
            assert response.status_code == 201, response.text[:200]


def _iterate_ms(client: AuthenticatedClient, customer: str, events: int, end_us: int) -> float:
    """Time of one sync_all over `customer`'s events in [LIST_T0, LIST_T0 + end_us)."""
    started = time.perf_counter()
    count = 0
    for _ in list_usage_events.sync_all(
        client=client,
        start_time=LIST_T0,
        end_time=LIST_T0 + datetime.timedelta(microseconds=end_us - 1),
        customer_id=customer,
        limit=LIST_LIMIT,
    ):
        count += 1
    elapsed = (time.perf_counter() - started) * 1000
    assert count == events, (count, events)
    return elapsed


# A CPU ratio is shown only when its base holds this many clock ticks: within 10%.
MIN_CPU_TICKS = 10


def clock_tick_ms() -> float:
    return 1000 / os.sysconf("SC_CLK_TCK")


def process_cpu_ms(pid: int) -> float | None:
    """CPU time (user + system, all threads) a process has used so far, from Linux's
    /proc/PID/stat (in clock ticks, 10 ms as a rule); None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # The fields after the command name (in parentheses, which may hold spaces):
            # the 14th and 15th of the line, utime and stime, are the 12th and 13th here.
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) * clock_tick_ms()


@dataclass
class Samples:
    """One listing's measurements, one per round: wall time and the CPU time spent on each
    side (ms); `sandbox_cpu` stays empty where process_cpu_ms has nothing to read."""

    wall: list[float]
    sandbox_cpu: list[float]
    client_cpu: list[float]


@dataclass(frozen=True)
class Listing:
    name: str
    sandbox: SandboxProcess
    run: Callable[[], float]


def _measure(listing: Listing, into: Samples) -> None:
    sandbox_before = process_cpu_ms(listing.sandbox.pid)
    client_before = time.process_time()
    into.wall.append(listing.run())
    into.client_cpu.append((time.process_time() - client_before) * 1000)
    sandbox_after = process_cpu_ms(listing.sandbox.pid)
    if sandbox_before is not None and sandbox_after is not None:
        into.sandbox_cpu.append(sandbox_after - sandbox_before)


def listing_samples(tmp: Path, sizes: ListingSizes, rounds: int) -> dict[str, Samples]:
    """Each listing measured in `rounds` interleaved rounds: one sandbox holds only the
    customer's events, a second one the customer's first `fewer` events and the others' (so
    that a busy neighbour on a shared machine moves both sides of a ratio). Odd rounds run
    the listings in reverse order, so an even number of rounds gives each order as often.
    The client's CPU time is a control: its work per event is the same in every listing, so
    where its ratios stray from 10× and 1× the machine did, not the sandbox."""
    customer, spacing = "cus_listed", 1_000_000  # one event a second
    fewer_end = sizes.fewer * spacing
    tokens = {DEMO_TOKEN: DEMO_MERCHANT_ID}
    with (
        SandboxProcess(db=tmp / "alone.db", tokens=tokens) as alone,
        SandboxProcess(db=tmp / "shared.db", tokens=tokens) as shared,
        AuthenticatedClient(base_url=alone.url, token=DEMO_TOKEN) as alone_client,
        AuthenticatedClient(base_url=shared.url, token=DEMO_TOKEN) as shared_client,
    ):
        _seed(alone.url, customer, 0, sizes.more, spacing)
        _seed(shared.url, customer, 0, sizes.fewer, spacing)
        # Other customers' events, spread over the same time range as the customer's.
        _seed(shared.url, "cus_other", 0, sizes.others, fewer_end // sizes.others)
        # The base of both ratios in the middle: each ratio's two sides run back to back.
        listings = [
            Listing(
                "fewer, with others",
                shared,
                lambda: _iterate_ms(shared_client, customer, sizes.fewer, fewer_end),
            ),
            Listing(
                "fewer",
                alone,
                lambda: _iterate_ms(alone_client, customer, sizes.fewer, fewer_end),
            ),
            Listing(
                "more",
                alone,
                lambda: _iterate_ms(alone_client, customer, sizes.more, sizes.more * spacing),
            ),
        ]
        for listing in listings:  # warm-up: connections, caches
            listing.run()
        samples = {listing.name: Samples([], [], []) for listing in listings}
        for round_ in range(rounds):
            for listing in listings if round_ % 2 == 0 else listings[::-1]:
                _measure(listing, samples[listing.name])
    return samples


@dataclass(frozen=True)
class Ratio:
    """One target's ratio of `over` to `base`: the median of the rounds' wall-time ratios
    (the verdict), their range, and the ratios of the CPU times summed over all rounds
    (sums, because one listing's CPU time is a few clock ticks)."""

    wall: float
    lowest: float
    highest: float
    sandbox_cpu: float | None
    client_cpu: float

    @staticmethod
    def of(over: Samples, base: Samples) -> Ratio:
        walls = [a / b for a, b in zip(over.wall, base.wall, strict=True)]
        sandbox = None
        if over.sandbox_cpu and sum(base.sandbox_cpu) >= MIN_CPU_TICKS * clock_tick_ms():
            sandbox = sum(over.sandbox_cpu) / sum(base.sandbox_cpu)
        return Ratio(
            statistics.median(walls),
            min(walls),
            max(walls),
            sandbox,
            sum(over.client_cpu) / sum(base.client_cpu),
        )


def print_listing(sizes: ListingSizes, samples: dict[str, Samples], *, judged: bool = True) -> None:
    rounds = len(samples["fewer"].wall)
    print(f"\nlisting with sync_all (limit {LIST_LIMIT}), medians of {rounds} interleaved rounds:")
    labels = {
        "fewer": f"{sizes.fewer:,} events of one customer",
        "more": f"{sizes.more:,} events of one customer",
        "fewer, with others": f"the same {sizes.fewer:,} with {sizes.others:,} others",
    }
    print(f"  {'':<40}{'wall':>9}{'sandbox CPU':>13}{'client CPU':>12}")
    for name, label in labels.items():
        listing = samples[name]
        sandbox = (
            f"{statistics.median(listing.sandbox_cpu):.0f} ms" if listing.sandbox_cpu else "n/a"
        )
        print(
            f"  {label + ':':<40}{statistics.median(listing.wall):>6.0f} ms{sandbox:>13}"
            f"{statistics.median(listing.client_cpu):>9.0f} ms"
        )
    for what, over, target in (
        (f"{sizes.more:,} vs {sizes.fewer:,} events", "more", LINEAR_TARGET),
        (
            f"{sizes.fewer:,} with {sizes.others:,} others vs without",
            "fewer, with others",
            BLIND_TARGET,
        ),
    ):
        ratio = Ratio.of(samples[over], samples["fewer"])
        # One round of a smoke run supports no verdict.
        verdict = ("ok" if ratio.wall <= target else "OVER") if judged else ""
        judgement = f" (target <= {target:g}x) {verdict}" if verdict else ""
        sandbox = "n/a" if ratio.sandbox_cpu is None else f"{ratio.sandbox_cpu:.2f}x"
        print(
            f"  ratio {what}: {ratio.wall:.2f}x{judgement}; "
            f"rounds {ratio.lowest:.2f}-{ratio.highest:.2f}x; "
            f"CPU: sandbox {sandbox}, client {ratio.client_cpu:.2f}x"
        )
    print(
        "(CPU ratios: CPU times summed over the rounds, the sandbox's read from /proc; n/a "
        f"without /proc or under {MIN_CPU_TICKS} clock ticks)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="few repetitions (a smoke run)")
    parser.add_argument("--only", action="append", choices=["timing", "listing"])
    args = parser.parse_args()
    wanted = set(args.only or ["timing", "listing"])
    if "timing" in wanted:
        print_timing(args.quick)
    if "listing" in wanted:
        sizes = (
            ListingSizes(300, 3_000, 9_000)
            if args.quick
            else ListingSizes(10_000, 100_000, 300_000)
        )
        with tempfile.TemporaryDirectory() as tmp:
            samples = listing_samples(Path(tmp), sizes, 1 if args.quick else LIST_ROUNDS)
        print_listing(sizes, samples, judged=not args.quick)
    return 0


def print_timing(quick: bool) -> None:
    batches, creates = (3, 50) if quick else (20, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        batch_ms, create_ms = server_times(Path(tmp) / "server.db", batches, creates)
        e2e_batch_ms, e2e_create_ms = end_to_end_times(Path(tmp) / "e2e.db", batches, creates // 5)
    baseline_ms = jsonschema_baseline_ms(1 if quick else 3)
    print(f"{'measure':<44}{'median':>10}{'best':>10}{'budget':>10}{'ratio':>8}")
    rows = [
        ("server time, batch of 1000 events", batch_ms, BATCH_BUDGET_MS),
        ("server time, single create", create_ms, CREATE_BUDGET_MS),
        ("end to end over HTTP, batch of 1000 events", e2e_batch_ms, None),
        ("end to end over HTTP, single create", e2e_create_ms, None),
    ]
    for name, samples, budget in rows:
        value = statistics.median(samples)
        ratio = f"{value / budget:.2f}" if budget else ""
        shown = f"{budget:.1f} ms" if budget else ""
        print(f"{name:<44}{value:>7.2f} ms{min(samples):>7.2f} ms{shown:>10}{ratio:>8}")
    print("(ratio: median / budget)")
    print(
        f"baseline: pure-Python jsonschema validating the same 1000 events alone takes "
        f"{baseline_ms:.1f} ms, {baseline_ms / statistics.median(batch_ms):.1f}x the "
        "sandbox's whole batch"
    )


if __name__ == "__main__":
    sys.exit(main())
