"""What OpenTelemetry costs a call, in instructions (issue 27): repeatable on a loaded machine,
where the wall-clock ratios of `scripts/bench --only otel` move by more than the effect.

Each row runs in its own interpreter under valgrind's cachegrind, twice: with 0 and with N
calls after the same warm-up; the difference over N is the row's instructions per call
(interpreter start-up, imports and warm-up cancel out). The rows:
- off: section 1's create (scripts/bench.py) with PAYGENTIC_OTEL=off: the baseline;
- no-sdk: the same create with the API installed and no SDK configured;
- sdk: the same create with bench_otel.install_sdk() (spans exported as they end to an
  exporter that counts, an in-memory metric reader);
- and the SDK's own floor, with the SDK installed and our instrumentation off, per "call":
  an empty span started and ended (span), a span with the five attributes of an attempt's
  (span+attrs), one histogram measurement with four attributes (record), and the least any
  instrumentation of a create with two spans and one measurement can cost (floor: off's
  create plus one empty span, one span with attributes and one record, made by hand).

The ingesters' rows (--ingest, per event rather than per call: 2000 events after 200, with
the batches the flush timer and max_batch_size make): a UsageIngester submitting events and
closed at the end (every event delivered) through a MockTransport that answers every batch
with a canned 201 (so the server costs next to nothing), with PAYGENTIC_OTEL=off (ingest-off)
and with the SDK (ingest-sdk); and the SDK's floor per event, one record of the
delivery-latency histogram with its two attributes (latency record).

Usage: scripts/bench-otel-instructions [--calls N] [--only ROW]...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cachegrind

HERE = Path(__file__).resolve().parent
ROWS = ("off", "no-sdk", "sdk", "span", "span+attrs", "record", "floor")
INGEST_ROWS = ("ingest-off", "ingest-sdk", "latency record")
ALL_ROWS = ROWS + INGEST_ROWS
WARMUP = 200
ATTEMPT_ATTRIBUTES: dict[str, Any] = {
    "http.request.method": "POST",
    "server.address": "api.bench.invalid",
    "server.port": 443,
    "url.full": "https://api.bench.invalid/v0/usage",
    "url.template": "/v0/usage",
}


def ingest_workload(row: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """One event submitted to an ingester (see the module docstring), and what closes it."""
    import itertools

    import bench_ingest_support
    import bench_otel
    import httpx

    from paygentic_client import AuthenticatedClient, UsageIngester
    from paygentic_client._runtime.otel import SWITCH_VARIABLE

    os.environ[SWITCH_VARIABLE] = "on" if row == "ingest-sdk" else "off"
    bench_otel.install_sdk()
    if row == "latency record":
        from opentelemetry import context, metrics

        histogram = metrics.get_meter("floor").create_histogram("floor.latency", unit="s")
        attributes = {"paygentic.ingester": "thread", "paygentic.store": "memory"}
        empty = context.Context()
        return (lambda: histogram.record(0.01, attributes, empty)), lambda: None

    answers: dict[int, bytes] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        # In order, without keys (core.match_outcomes): one canned answer per batch size.
        count = request.content.count(b'"idempotencyKey"')
        if count not in answers:
            body = {"object": "batchUsageEvents", "successful": [{}] * count, "failed": []}
            answers[count] = json.dumps(body).encode()
        return httpx.Response(201, content=answers[count])

    client = AuthenticatedClient(
        base_url="https://api.bench.invalid",
        token="tok_bench",
        httpx_args={"transport": httpx.MockTransport(answer)},
    )
    ingester = UsageIngester(client)
    events = itertools.cycle(bench_ingest_support.make_events("ins", 1000))

    handles = []

    def submit() -> object:
        handles.append(ingester.submit(next(events)))
        return None

    def close() -> object:
        ingester.close()
        client.get_httpx_client().close()
        failed = [handle for handle in handles if not handle.done() or handle.exception()]
        assert not failed, f"{len(failed)} of {len(handles)} events not delivered"
        return None

    return submit, close


def workload(row: str) -> Callable[[], object]:
    """One call of the row (see the module docstring), set up as the row needs."""
    import bench
    import bench_otel
    import httpx

    from paygentic_client import AuthenticatedClient
    from paygentic_client._runtime.otel import SWITCH_VARIABLE
    from paygentic_client.api.usage_events import create_usage_event

    canned = json.dumps(bench.usage_event_json(0, nulls=True)).encode()
    headers = {"content-type": "application/json"}
    transport = httpx.MockTransport(lambda _: httpx.Response(201, content=canned, headers=headers))
    client = AuthenticatedClient(
        base_url=bench.BASE_URL, token=bench.TOKEN, httpx_args={"transport": transport}
    )
    body = bench.create_request(0)
    os.environ[SWITCH_VARIABLE] = "on" if row in ("no-sdk", "sdk") else "off"
    if row != "no-sdk" and row != "off":
        bench_otel.install_sdk()

    def create() -> object:
        return create_usage_event.sync(client=client, body=body)

    if row in ("off", "no-sdk", "sdk"):
        return create
    from opentelemetry import metrics, trace

    tracer = trace.get_tracer("floor")
    histogram = metrics.get_meter("floor").create_histogram("floor.duration", unit="s")
    measured: dict[str, Any] = {"http.request.method": "POST", "server.port": 443}
    measured |= {"server.address": "api.bench.invalid", "http.response.status_code": 201}

    def span() -> object:
        tracer.start_span("createUsageEvent").end()
        return None

    def span_attrs() -> object:
        tracer.start_span("POST /v0/usage", attributes=ATTEMPT_ATTRIBUTES).end()
        return None

    def record() -> object:
        histogram.record(0.001, measured)
        return None

    def floor() -> object:
        span()
        span_attrs()
        record()
        return create()

    return {"span": span, "span+attrs": span_attrs, "record": record, "floor": floor}[row]


def run(row: str, calls: int) -> None:
    call, finish = ingest_workload(row) if row in INGEST_ROWS else (workload(row), lambda: None)
    for _ in range(WARMUP):
        call()
    for _ in range(calls):
        call()
    finish()


def instructions(row: str, calls: int) -> int:
    """Instructions of a whole interpreter running `calls` calls of the row (cachegrind). A
    PYTHONPATH of the caller's comes after scripts/ (another checkout's paygentic_client
    there is measured instead of this one's: a before/after comparison)."""
    arguments = [__file__, "--child", row, "--calls", str(calls)]
    return cachegrind.instructions(arguments, [str(HERE), os.environ.get("PYTHONPATH", "")])


def table(rows: list[str], calls: int, baseline_row: str, unit: str) -> None:
    """Each row's instructions per call, and the ratio of the whole calls to the baseline's."""
    per_call = {row: (instructions(row, calls) - instructions(row, 0)) / calls for row in rows}
    baseline = per_call[baseline_row]
    print(f"instructions {unit} (cachegrind, {calls} after {WARMUP} of warm-up)")
    print(f"{'row':<16} {unit:>12} {'vs ' + baseline_row:>14}")
    for row, count in per_call.items():
        whole = row in ("off", "no-sdk", "sdk", "floor", "ingest-off", "ingest-sdk")
        ratio = f"{count / baseline:.3f}x" if whole else f"{count / baseline:+.3f}x"
        print(f"{row:<16} {count:>12,.0f} {ratio:>14}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=400, help="calls measured per row")
    parser.add_argument("--only", action="append", choices=ROWS, help="rows to run")
    parser.add_argument(
        "--ingest", action="store_true", help="the ingesters' rows (per event) instead"
    )
    parser.add_argument("--child", choices=ALL_ROWS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run(args.child, args.calls)
        return 0
    if args.ingest:
        table(list(INGEST_ROWS), args.calls, "ingest-off", "per event")
    else:
        wanted = [row for row in ROWS if row in (args.only or ROWS)]
        if "off" not in wanted:
            wanted.insert(0, "off")
        table(wanted, args.calls, "off", "per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
