"""Benchmark the ingesters end to end against a local sandbox process.

Measures events per second from the first submit() to the last acknowledgement (every
future resolved), for UsageIngester and AsyncUsageIngester, next to a baseline measured in
the same run against the same kind of server: the same kind of events sent one
`create_usage_event.sync` at a time. Also prints, for reference, the server's own ceiling:
the same events in pre-serialised 1000-event batches posted with bare httpx, two at a time
(no client, no ingester), and for each line the CPU this process (the client) spent per
event. Each figure gets a fresh sandbox process with an empty database.

The handles build their UsageEvent on the first result(): callers that submit and move on
never pay for it, and the "every result() read" line shows what reading them all adds.
Issue 14's target: both ingesters at least 0.8x the ceiling measured in the same run. Every
ingester run is measured between two runs of the ceiling, and its ratio is to their mean: this
VM's speed drifts by up to 2x within a minute, and a ceiling measured only before an ingester
made the ratios of one run spread 0.65-1.06. With --rounds N each ingester is measured N times
and its ratio is the median of its N ratios. A short run of each ingester first warms the
process up (imports that would otherwise be timed in the first round: httpcore's and anyio's
modules are compiled on first use where no bytecode is cached).

"server busy" is the sandbox process's CPU time over the run's wall time (from /proc, so
Linux): 100% means the client kept the server working all along, and the events/s of a run
at 100% differ from the ceiling's only by the server's own speed at that moment (its CPU per
event moved by up to 25% between consecutive runs on this VM).

With a spool (issue 12): UsageIngester(spool=...) at the default process-crash durability,
its events/s as a share of the in-memory UsageIngester's (target: at least 50%), and beside
it what each durability level costs per event (one committed append, measured alone).

OpenTelemetry (issue 27): last, the OpenTelemetry SDK is configured as an application would
(bench_otel.install_sdk: spans exported as they end to an exporter that counts, an in-memory
metric reader) and each ingester runs with the instrumentation on and with PAYGENTIC_OTEL=off,
alternately (off, on, off, ...: each run with it on between two runs without, its ratio to
their mean, the median over --rounds). Target: at least 0.9x. The rows check that the metrics
counted every event (the delivered counter) and one batch span per batch.

The spool with concurrent producers (issue 26, scripts/bench_spool_producers.py): 8 threads
at process-crash and at power-loss durability, 100 asyncio tasks, one producer with
submit_many() of 1000-event lists; each spooled as a ratio of the in-memory ingester with the
same producers in the same run (--producer-events per run).

Usage: scripts/bench-ingest [--events N] [--baseline-events N] [--rounds N]
                            [--producer-events N] [--no-otel] [--only-otel] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import bench_otel
import bench_spool_producers
import httpx
from bench_ingest_support import Figure, make_events, median_figure, timed
from paygentic_sandbox import DEMO_TOKEN, SandboxProcess

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester
from paygentic_client._runtime import ingest_telemetry
from paygentic_client._runtime.otel import SWITCH_VARIABLE
from paygentic_client.api.usage_events import create_usage_event
from paygentic_client.ingest.spool import Durability, Spool
from paygentic_client.models import CreateUsageEventRequest

TARGET_OF_CEILING = 0.8  # issue 14: each ingester at least 0.8x the ceiling of the same run
SMOKE_PRODUCER_EVENTS = 500  # per run of the spool's figures in a --smoke run
TARGET_WITH_OTEL = 0.9  # issue 27: with the SDK configured, at least 0.9x of without


def one_at_a_time(url: str, events: list[CreateUsageEventRequest]) -> None:
    with AuthenticatedClient(base_url=url, token=DEMO_TOKEN) as client:
        for event in events:
            create_usage_event.sync(client=client, body=event)


def threaded(url: str, events: list[CreateUsageEventRequest], *, read_results: bool) -> None:
    with (
        AuthenticatedClient(base_url=url, token=DEMO_TOKEN) as client,
        UsageIngester(client) as ingester,
    ):
        handles = [ingester.submit(event) for event in events]
    # close() returned: every handle is resolved (acknowledged or failed).
    assert all(handle.done() and handle.exception() is None for handle in handles)
    if read_results:  # what a caller that wants every created UsageEvent pays on top
        assert all(handle.result().idempotency_key for handle in handles)


def spooled(url: str, events: list[CreateUsageEventRequest], durability: Durability) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        AuthenticatedClient(base_url=url, token=DEMO_TOKEN) as client,
        UsageIngester(client, spool=Path(tmp) / "spool.db", durability=durability) as ingester,
    ):
        handles = [ingester.submit(event) for event in events]
        assert ingester.flush(timeout=None)
    assert all(handle.done() and handle.exception() is None for handle in handles)


def append_cost(durability: Durability, count: int) -> float:
    """µs of wall time per committed Spool.append (one event, its own commit)."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Spool(Path(tmp) / "s.db", durability=durability) as spool,
    ):
        payload = b"x" * 300
        started = time.perf_counter()
        for n in range(count):
            spool.append(f"k{n}", payload)
        return 1e6 * (time.perf_counter() - started) / count


def asynchronous(url: str, events: list[CreateUsageEventRequest]) -> None:
    async def main() -> None:
        async with (
            AuthenticatedClient(base_url=url, token=DEMO_TOKEN) as client,
            AsyncUsageIngester(client) as ingester,
        ):
            handles = [await ingester.submit(event) for event in events]
        assert all(handle.done() and handle.exception() is None for handle in handles)

    asyncio.run(main())


def raw_batches(url: str, events: list[CreateUsageEventRequest]) -> Callable[[], None]:
    """The server's ceiling: bodies built before the clock starts, two posts in flight."""
    bodies = [
        json.dumps({"events": [e.to_dict() for e in events[i : i + 1000]]}).encode()
        for i in range(0, len(events), 1000)
    ]
    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Content-Type": "application/json"}

    def run() -> None:
        with httpx.Client(base_url=url, headers=headers) as http, ThreadPoolExecutor(2) as pool:
            for response in pool.map(lambda b: http.post("/v0/usage/batch", content=b), bodies):
                assert response.status_code == 201, response.text[:200]

    return run


def on_fresh_sandbox(prepare: Callable[[str], Callable[[], None]], count: int) -> Figure:
    """Time prepare(url)() against a sandbox of its own, so that every figure starts from an
    empty database (the sandbox's inserts get slower as its tables grow)."""
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(db=Path(tmp) / "bench.db") as server:
        return timed(prepare(server.url), count, server.pid)


def otel_rows(
    ingesters: dict[str, Callable[[str, list[CreateUsageEventRequest]], None]],
    count: int,
    rounds: int,
) -> dict[str, tuple[Figure, Figure, list[float]]]:
    """Each ingester with the SDK configured and without (see the module docstring): the
    median figures on and off, and the ratio of each round."""
    exporter, reader = bench_otel.install_sdk()  # for good: global providers are set once
    results: dict[str, tuple[Figure, Figure, list[float]]] = {}
    for name, run in ingesters.items():

        def switched(value: str, run: Callable[..., None] = run) -> Figure:
            os.environ[SWITCH_VARIABLE] = value
            events = make_events(f"otel{value}", count)
            return on_fresh_sandbox(lambda url: partial(run, url, events), count)

        switched("on")  # the warm-up: the SDK's first instruments and spans, not recorded
        delivered_before, spans_before = delivered(reader), exporter.spans
        offs, ons, ratios = [switched("off")], [], []
        for _ in range(rounds):
            ons.append(switched("on"))
            offs.append(switched("off"))
            around = (offs[-2].events_per_second + offs[-1].events_per_second) / 2
            ratios.append(ons[-1].events_per_second / around)
        counted = delivered(reader) - delivered_before
        assert counted == rounds * count, f"{name}: the metrics counted {counted} delivered"
        assert exporter.spans > spans_before, f"{name}: no span recorded"
        results[name] = (median_figure(ons), median_figure(offs), ratios)
    os.environ.pop(SWITCH_VARIABLE, None)
    return results


def delivered(reader: Any) -> int:
    """The ingesters' delivered counter so far (cumulative: the reader's default)."""
    data = reader.get_metrics_data()
    return sum(
        int(point.value)
        for resource in (data.resource_metrics if data else ())
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == ingest_telemetry.DELIVERED
        for point in metric.data.data_points
    )


def verdict(ratio: float) -> str:
    return f"target {TARGET_OF_CEILING}x: {'OK' if ratio >= TARGET_OF_CEILING else 'BELOW'}"


def print_otel_rows(with_otel: dict[str, tuple[Figure, Figure, list[float]]], smoke: bool) -> None:
    for name, (on, off, otel_ratios) in with_otel.items():
        ratio = statistics.median(otel_ratios)
        spread = (
            f" (rounds {min(otel_ratios):.2f}-{max(otel_ratios):.2f})"
            if len(otel_ratios) > 1
            else ""
        )
        target = f"target >= {TARGET_WITH_OTEL}x: " + (
            "OK" if ratio >= TARGET_WITH_OTEL else "BELOW"
        )
        print_row(f"{name}, PAYGENTIC_OTEL=off", off)
        print_row(
            f"{name}, OpenTelemetry SDK",
            on,
            f"  {ratio:5.2f}x of off{spread}  {'' if smoke else target}".rstrip(),
        )


def print_row(name: str, figure: Figure, extra: str = "") -> None:
    print(
        f"{name:<40} {figure.events_per_second:>10,.0f}  "
        f"{figure.client_cpu_per_event:>13,.1f} µs  {figure.server_busy:>11.0%}{extra}"
    )


INGESTERS: dict[str, Callable[[str, list[CreateUsageEventRequest]], None]] = {
    "UsageIngester": partial(threaded, read_results=False),
    "AsyncUsageIngester": asynchronous,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per ingester run")
    parser.add_argument("--baseline-events", type=int, default=1_000)
    parser.add_argument(
        "--rounds", type=int, default=1, help="interleaved rounds of the ceiling and ingesters"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a run that only shows it works (scripts/test): no verdicts against the targets, "
        "which a short run on a busy machine cannot support",
    )
    parser.add_argument(
        "--no-otel", action="store_true", help="skip the rows with the OpenTelemetry SDK"
    )
    parser.add_argument(
        "--producer-events",
        type=int,
        default=20_000,
        help="events per run of the spool's figures with concurrent producers (at most "
        "--events): a run at power-loss durability makes about 1,000 events/s here",
    )
    parser.add_argument(
        "--only-otel", action="store_true", help="only the rows with the OpenTelemetry SDK"
    )
    args = parser.parse_args()
    n = args.events
    if args.only_otel:
        with_otel = otel_rows(INGESTERS, n, args.rounds)
        print(f"events per run: {n}; a fresh sandbox for each; {args.rounds} round(s)")
        print_otel_rows(with_otel, args.smoke)
        return 0
    baseline = on_fresh_sandbox(
        lambda url: partial(one_at_a_time, url, make_events("one", args.baseline_events)),
        args.baseline_events,
    )
    ingesters = INGESTERS

    def ingester_figure(name: str, count: int) -> Figure:
        run = ingesters[name]
        return on_fresh_sandbox(lambda url: partial(run, url, make_events(name, count)), count)

    def ceiling_figure() -> Figure:
        return on_fresh_sandbox(lambda url: raw_batches(url, make_events("raw", n)), n)

    for name in ingesters:
        ingester_figure(name, min(n, 2000))  # the warm-up, not recorded
    # ceiling, ingester, ceiling, ingester, ..., ceiling: each ingester between two ceilings.
    ceilings = [ceiling_figure()]
    figures: dict[str, list[Figure]] = {name: [] for name in ingesters}
    ratios: dict[str, list[float]] = {name: [] for name in ingesters}
    for _ in range(args.rounds):
        for name in ingesters:
            figure = ingester_figure(name, n)
            ceilings.append(ceiling_figure())
            around = (ceilings[-2].events_per_second + ceilings[-1].events_per_second) / 2
            figures[name].append(figure)
            ratios[name].append(figure.events_per_second / around)
    others = {
        "UsageIngester, every result() read": on_fresh_sandbox(
            lambda url: partial(threaded, url, make_events("res", n), read_results=True), n
        ),
        "UsageIngester, spool (process-crash)": on_fresh_sandbox(
            lambda url: partial(spooled, url, make_events("spl", n), "process-crash"), n
        ),
    }
    levels: list[tuple[Durability, int]] = [("process-crash", 5000), ("power-loss", 300)]
    costs = {durability: append_cost(durability, count) for durability, count in levels}
    # A smoke run shows that the figures work: a few hundred events each, one sandbox.
    producer_events = min(n, args.producer_events, SMOKE_PRODUCER_EVENTS if args.smoke else n)
    producers = bench_spool_producers.measure_all(
        producer_events, args.rounds, one_sandbox=args.smoke
    )
    with_otel = {} if args.no_otel else otel_rows(ingesters, n, args.rounds)
    print(
        f"events per run: {n} (baseline: {args.baseline_events}); a fresh sandbox for each; "
        f"{args.rounds} round(s), the ceiling measured {args.rounds * 2 + 1} times"
    )
    print(f"{'':<40} {'events/s':>10}  {'client CPU/event':>16}  {'server busy':>11}")

    row = print_row
    ceiling = median_figure(ceilings)
    row("one create at a time (baseline)", baseline)
    row("bare httpx, pre-built batches (ceiling)", ceiling)
    for name in ingesters:
        figure, ratio = median_figure(figures[name]), statistics.median(ratios[name])
        spread = ""
        if args.rounds > 1:
            spread = f" (rounds {min(ratios[name]):.2f}-{max(ratios[name]):.2f})"
        row(
            name,
            figure,
            f"  {figure.events_per_second / baseline.events_per_second:6.1f}x baseline  "
            f"{ratio:5.2f}x ceiling{spread}  {'' if args.smoke else verdict(ratio)}".rstrip(),
        )
    for name, figure in others.items():
        row(
            name,
            figure,
            f"  {figure.events_per_second / baseline.events_per_second:6.1f}x baseline  "
            f"{figure.events_per_second / ceiling.events_per_second:5.2f}x ceiling",
        )
    share = (
        others["UsageIngester, spool (process-crash)"].events_per_second
        / median_figure(figures["UsageIngester"]).events_per_second
    )
    print(
        f"spool (process-crash) / in-memory UsageIngester: {share:.0%}"
        + ("" if args.smoke else f" (target >= 50%: {'ok' if share >= 0.5 else 'BELOW TARGET'})")
    )
    for durability, cost in costs.items():
        print(f"  one committed append, {durability} durability: {cost:,.1f} µs/event")
    bench_spool_producers.report(producers, smoke=args.smoke)
    print_otel_rows(with_otel, args.smoke)
    return 0


if __name__ == "__main__":
    sys.exit(main())
