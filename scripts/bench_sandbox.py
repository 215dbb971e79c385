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
time range. The ratios are printed next to their targets (100,000 vs 10,000: ≤ 12×, so
linear; with the other events vs without: ≤ 1.5×, so blind to them).

Usage: scripts/bench-sandbox [--quick] [--only timing|listing]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
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


def listing_times(tmp: Path, sizes: ListingSizes, rounds: int) -> dict[str, float]:
    """Median times (ms) of each listing, and the medians of the paired ratios, over `rounds`
    interleaved rounds: one sandbox holds only the customer's events, a second one the
    customer's first `fewer` events and the others' (so that a busy neighbour on a shared
    machine moves both sides of a ratio)."""
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
        listings: dict[str, Callable[[], float]] = {
            "fewer": lambda: _iterate_ms(alone_client, customer, sizes.fewer, fewer_end),
            "more": lambda: _iterate_ms(alone_client, customer, sizes.more, sizes.more * spacing),
            "fewer, with others": lambda: _iterate_ms(
                shared_client, customer, sizes.fewer, fewer_end
            ),
        }
        for listing in listings.values():  # warm-up: connections, caches
            listing()
        samples: dict[str, list[float]] = {name: [] for name in listings}
        for round_ in range(rounds):
            names = list(listings) if round_ % 2 == 0 else list(listings)[::-1]
            for name in names:
                samples[name].append(listings[name]())
    times = {name: statistics.median(values) for name, values in samples.items()}
    for ratio, over in (("linear", "more"), ("blind", "fewer, with others")):
        pairs = zip(samples[over], samples["fewer"], strict=True)
        times[ratio] = statistics.median(a / b for a, b in pairs)
    return times


def print_listing(sizes: ListingSizes, times: dict[str, float]) -> None:
    linear, blind = times["linear"], times["blind"]
    print(f"\nlisting with sync_all (limit {LIST_LIMIT}), medians of interleaved rounds:")
    print(f"  {sizes.fewer:,} events of one customer: {times['fewer']:.0f} ms")
    print(f"  {sizes.more:,} events of one customer: {times['more']:.0f} ms")
    print(
        f"  the same {sizes.fewer:,} with {sizes.others:,} other events of the merchant: "
        f"{times['fewer, with others']:.0f} ms"
    )
    for what, ratio, target in (
        (f"{sizes.more:,} vs {sizes.fewer:,} events", linear, LINEAR_TARGET),
        (f"{sizes.fewer:,} with {sizes.others:,} others vs without", blind, BLIND_TARGET),
    ):
        verdict = "ok" if ratio <= target else "OVER"
        print(f"  ratio {what}: {ratio:.2f}x (target <= {target:g}x) {verdict}")


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
            times = listing_times(Path(tmp), sizes, 1 if args.quick else 5)
        print_listing(sizes, times)
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
