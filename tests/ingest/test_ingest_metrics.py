"""The ingesters' metrics, batch spans and hooks after known runs against the sandbox app (in
this process), read with the SDK's in-memory reader and exporter (support/otel_capture.py).

The reporter and the hooks' machinery (paygentic_client/_runtime/ingest_telemetry.py and
hooks.py) are tested alone in test_ingest_telemetry.py and test_hooks.py; here the engine
reports through them (paygentic_client/ingest/observe.py).
"""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
from typing import Any

import pytest
from opentelemetry.trace import SpanKind
from support.inprocess_sandbox import InProcessFactory, InProcessSandbox
from support.otel_capture import OtelCapture
from support.sandbox_fixture import MERCHANT_ID

from paygentic_client import AsyncUsageIngester, UsageIngester
from paygentic_client._runtime import ingest_telemetry as names
from paygentic_client._runtime.retries import RetryPolicy
from paygentic_client.errors import IngesterClosedError
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

# Whole deliveries of thousands of events, ~1-4 s each on this machine: the slow tier, so that
# `scripts/test --fast` stays under its minute.
pytestmark = pytest.mark.slow
FAST = RetryPolicy(backoff_initial=0.001, backoff_max=0.01)
EVENTS = 5000
WAIT = 30.0


def event(n: int, *, quantity: float = 1) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"evt_{n:06d}",
        customer_id="cus_abc123xyz",
        merchant_id=MERCHANT_ID,
        timestamp=datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=quantity)],
    )


def deliver(
    kind: str, sandbox: InProcessSandbox, events: list[CreateUsageEventRequest], **options: Any
) -> None:
    """Every event through one ingester of `kind`, closed at the end."""
    if kind == "thread":
        with UsageIngester(sandbox.client(retry_policy=FAST), **options) as ingester:
            for item in events:
                ingester.submit(item)
        return

    async def main() -> None:
        client = sandbox.async_client(retry_policy=FAST)
        async with AsyncUsageIngester(client, **options) as ingester:
            for item in events:
                await ingester.submit(item)

    asyncio.run(main())


def total(otel: OtelCapture, name: str, **attributes: str) -> float:
    return float(
        sum(
            point.value
            for point in otel.points(name)
            if all(point.attributes.get(key) == value for key, value in attributes.items())
        )
    )


KINDS = ["thread", "asyncio"]


@pytest.mark.parametrize("kind", KINDS)
def test_every_event_is_counted_submitted_and_delivered_once(
    kind: str, otel: OtelCapture, in_process_sandbox: InProcessFactory
) -> None:
    deliver(kind, in_process_sandbox(), [event(n) for n in range(EVENTS)])

    memory = {"paygentic.ingester": kind, "paygentic.store": "memory"}
    assert total(otel, names.SUBMITTED, **memory) == EVENTS
    assert total(otel, names.DELIVERED, **memory) == EVENTS
    assert sum(p.count for p in otel.points(names.DELIVERY_LATENCY)) == EVENTS
    batches = [span for span in otel.spans() if span.name == names.BATCH_SPAN]
    assert sum(p.count for p in otel.points(names.BATCH_DURATION)) == len(batches) >= 5
    assert {span.attributes["paygentic.batch.outcome"] for span in batches if span.attributes} == {
        "delivered"
    }
    # Each batch span is the parent of its HTTP attempt.
    attempts = [span for span in otel.spans() if span.kind is SpanKind.CLIENT]
    batch_ids = {span.context.span_id for span in batches}
    assert attempts and all(span.parent and span.parent.span_id in batch_ids for span in attempts)


@pytest.mark.parametrize("kind", KINDS)
def test_two_rejected_events_are_counted_by_reason_and_reported_to_on_rejected(
    kind: str, otel: OtelCapture, in_process_sandbox: InProcessFactory
) -> None:
    rejected: list[tuple[str | None, str]] = []
    events = [event(0), event(1, quantity=0), event(2), event(3, quantity=0.5)]
    deliver(
        kind,
        in_process_sandbox(),
        events,
        on_rejected=lambda key, reason: rejected.append((key, reason)),
    )

    assert total(otel, names.REJECTED, **{"paygentic.reason": "validation"}) == 2
    assert total(otel, names.DELIVERED) == 2
    assert sorted(str(key) for key, _ in rejected) == ["evt_000001", "evt_000003"]
    assert all(reason.startswith("properties[0].quantity") for _, reason in rejected)


@pytest.mark.parametrize("kind", KINDS)
def test_a_503_storm_counts_retried_batches_by_status(
    kind: str, otel: OtelCapture, in_process_sandbox: InProcessFactory
) -> None:
    sandbox = in_process_sandbox(rates={"503": 0.5}, seed=5)
    deliver(kind, sandbox, [event(n) for n in range(500)], max_batch_size=50)

    assert total(otel, names.RETRIED, **{"error.type": "503"}) > 0
    assert total(otel, names.DELIVERED) == 500


def test_on_stalled_fires_once_while_every_batch_fails(
    in_process_sandbox: InProcessFactory,
) -> None:
    sandbox = in_process_sandbox(rates={"503": 1.0})
    stalled: list[tuple[str, datetime.datetime]] = []
    fired = threading.Event()

    def on_stalled(cause: str, since: datetime.datetime) -> None:
        stalled.append((cause, since))
        fired.set()

    hooks: dict[str, Any] = {"on_stalled": on_stalled, "stalled_after": 0.2}
    ingester = UsageIngester(sandbox.client(retry_policy=FAST), **hooks)
    ingester.submit(event(0))
    ingester.flush(timeout=0)
    assert fired.wait(WAIT)
    ingester.close(timeout=0)

    ((cause, since),) = stalled
    assert "503" in cause and since.tzinfo is not None


def gauge(otel: OtelCapture, name: str, kind: str) -> float:
    """The gauge's latest value for the spool ingesters of `kind`."""
    values = [
        point.value
        for point in otel.points(name)
        if point.attributes.get("paygentic.ingester") == kind
        and point.attributes.get("paygentic.store") == "spool"
    ]
    assert values, f"no {name} for {kind}"
    return float(values[-1])


@pytest.mark.parametrize("kind", KINDS)
def test_the_gauges_show_what_waits_while_every_batch_fails(
    kind: str, otel: OtelCapture, in_process_sandbox: InProcessFactory, tmp_path: Any
) -> None:
    sandbox = in_process_sandbox(rates={"503": 1.0})
    spool = tmp_path / "events.spool"

    def waiting(read: Any) -> None:
        assert gauge(otel, names.QUEUE_DEPTH, kind) == 3
        assert gauge(otel, names.SPOOL_PENDING, kind) == 3
        assert gauge(otel, names.SPOOL_REJECTED, kind) == 0
        assert gauge(otel, names.OLDEST_AGE, kind) >= read

    if kind == "thread":
        ingester = UsageIngester(sandbox.client(retry_policy=FAST), spool=spool)
        handles = [ingester.submit(event(n)) for n in range(3)]
        waiting(0.0)
        time.sleep(0.05)  # no race: the age only grows while every batch fails
        waiting(0.05)
        seen = depths(otel, kind)
        ingester.close(timeout=0)
        assert all(isinstance(h.exception(), IngesterClosedError) for h in handles)
    else:

        async def main() -> int:
            client = sandbox.async_client(retry_policy=FAST)
            ingester = AsyncUsageIngester(client, spool=spool)
            futures = [await ingester.submit(event(n)) for n in range(3)]
            waiting(0.0)
            await asyncio.sleep(0.05)
            waiting(0.05)
            seen = depths(otel, kind)
            await ingester.close(timeout=0)
            assert all(isinstance(f.exception(), IngesterClosedError) for f in futures)
            return seen

        seen = asyncio.run(main())
    assert depths(otel, kind) == seen  # closed: its gauges are read no more


def depths(otel: OtelCapture, kind: str) -> int:
    """How many queue-depth points the ingesters of `kind` reported so far (a read collects)."""
    points = otel.points(names.QUEUE_DEPTH)
    return sum(1 for point in points if point.attributes.get("paygentic.ingester") == kind)
