"""The ingesters' reporter (paygentic_client/_runtime/ingest_telemetry.py), read with the
SDK's in-memory reader and exporter: every metric of docs/monitoring.md under its exact name
and attributes, the batch spans, the gauges read by callback, and nothing at all when
OpenTelemetry is switched off. The engine calls it; these tests call it the way it will."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from support.client_harness import BASE_URL, TOKEN
from support.otel_capture import OtelCapture

from paygentic_client import AuthenticatedClient, errors
from paygentic_client._runtime import ingest_telemetry as names
from paygentic_client._runtime import otel as otel_switch
from paygentic_client._runtime.ingest_telemetry import (
    GaugeReading,
    IngesterTelemetry,
    ingester_telemetry,
    reason_category,
)
from paygentic_client._runtime.otel import error_type
from paygentic_client._runtime.transport import send

THREAD_MEMORY = {"paygentic.ingester": "thread", "paygentic.store": "memory"}


class Providers:
    """A meter and a tracer provider of this test's own (not the global ones)."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.meters = MeterProvider(metric_readers=[self.reader])
        self.exporter = InMemorySpanExporter()
        self.tracers = TracerProvider()
        self.tracers.add_span_processor(SimpleSpanProcessor(self.exporter))

    def reporter(self, ingester: names.IngesterKind, store: str) -> IngesterTelemetry:
        return ingester_telemetry(
            ingester, store, meter_provider=self.meters, tracer_provider=self.tracers
        )

    def points(self) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


@pytest.fixture
def providers() -> Iterator[Providers]:
    providers = Providers()
    yield providers
    providers.meters.shutdown()
    providers.tracers.shutdown()


def by_attributes(points: list[Any]) -> dict[frozenset[tuple[str, Any]], Any]:
    return {frozenset(point.attributes.items()): point for point in points}


def test_the_counters_count_with_the_ingester_and_store_attributes(
    providers: Providers,
) -> None:
    reporter = providers.reporter("thread", "memory")
    for _ in range(5000):
        reporter.submitted(1)
    reporter.delivered(4998, [0.01] * 4998)
    reporter.rejected(2, "validation")
    reporter.retried("httpx.ConnectError")
    reporter.retried("503")
    reporter.retried("503")

    points = providers.points()
    assert [(p.value, dict(p.attributes)) for p in points[names.SUBMITTED]] == [
        (5000, THREAD_MEMORY)
    ]
    assert [(p.value, dict(p.attributes)) for p in points[names.DELIVERED]] == [
        (4998, THREAD_MEMORY)
    ]
    assert [(p.value, dict(p.attributes)) for p in points[names.REJECTED]] == [
        (2, {**THREAD_MEMORY, "paygentic.reason": "validation"})
    ]
    retried = {p.attributes["error.type"]: p.value for p in points[names.RETRIED]}
    assert retried == {"httpx.ConnectError": 1, "503": 2}


def test_latencies_and_batch_durations_are_histograms_in_seconds(providers: Providers) -> None:
    reporter = providers.reporter("asyncio", "spool")
    reporter.delivered(3, [0.25, 0.5, 1.25])
    reporter.batch(0.75, 3, "delivered")

    points = providers.points()
    (latency,) = points[names.DELIVERY_LATENCY]
    assert (latency.count, latency.sum, latency.min, latency.max) == (3, 2.0, 0.25, 1.25)
    assert dict(latency.attributes) == {"paygentic.ingester": "asyncio", "paygentic.store": "spool"}
    (duration,) = points[names.BATCH_DURATION]
    assert (duration.count, duration.sum) == (1, 0.75)
    (span,) = providers.exporter.get_finished_spans()
    assert span.name == names.BATCH_SPAN and span.end_time and span.start_time
    assert span.end_time - span.start_time == pytest.approx(0.75e9, abs=1e6)
    assert dict(span.attributes or {}) == {
        "paygentic.ingester": "asyncio",
        "paygentic.store": "spool",
        "paygentic.batch.size": 3,
        "paygentic.batch.outcome": "delivered",
    }
    assert span.status.status_code is StatusCode.UNSET


def test_a_failed_batchs_span_is_an_error_with_its_type(providers: Providers) -> None:
    reporter = providers.reporter("thread", "memory")
    delivery = reporter.batch_started(1000)
    delivery.finished("retry", "httpx.ReadTimeout")

    (span,) = providers.exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes is not None and span.attributes["error.type"] == "httpx.ReadTimeout"
    assert span.attributes["paygentic.batch.outcome"] == "retry"
    (duration,) = providers.points()[names.BATCH_DURATION]
    assert duration.count == 1


def test_the_gauges_read_every_live_ingester_and_forget_a_closed_one(
    providers: Providers,
) -> None:
    first = providers.reporter("thread", "memory")
    second = providers.reporter("thread", "memory")
    spooled = providers.reporter("asyncio", "spool")
    first.watch(lambda: GaugeReading(queue_depth=10, oldest_age=2.5))
    second.watch(lambda: GaugeReading(queue_depth=5, oldest_age=7.0))
    spooled.watch(lambda: GaugeReading(3, 1.0, spool_pending=3, spool_rejected=2))

    points = providers.points()
    depth = by_attributes(points[names.QUEUE_DEPTH])
    age = by_attributes(points[names.OLDEST_AGE])
    spool = frozenset({("paygentic.ingester", "asyncio"), ("paygentic.store", "spool")})
    memory = frozenset(THREAD_MEMORY.items())
    # Two ingesters with the same attributes: their depths add up, the older age wins.
    assert (depth[memory].value, depth[spool].value) == (15, 3)
    assert (age[memory].value, age[spool].value) == (7.0, 1.0)
    assert [p.value for p in points[names.SPOOL_PENDING]] == [3]
    assert [p.value for p in points[names.SPOOL_REJECTED]] == [2]

    second.close()
    spooled.close()
    points = providers.points()
    assert [p.value for p in points[names.QUEUE_DEPTH]] == [10]
    assert names.SPOOL_PENDING not in points


def test_an_http_call_in_a_batchs_current_span_is_its_child(otel: OtelCapture) -> None:
    # Global providers (the `otel` fixture): the client's spans and the batch's, together.
    reporter = ingester_telemetry("thread", "memory")
    client = AuthenticatedClient(
        base_url=BASE_URL,
        token=TOKEN,
        httpx_args={"transport": httpx.MockTransport(lambda request: httpx.Response(201))},
    )
    delivery = reporter.batch_started(2)
    with client, delivery.current():
        send(client, {"method": "POST", "url": "/v0/usage/batch", "content": b"{}"})
    delivery.finished("delivered")

    spans = {span.kind: span for span in otel.spans()}
    batch, attempt = spans[SpanKind.INTERNAL], spans[SpanKind.CLIENT]
    assert batch.name == names.BATCH_SPAN and batch.parent is None
    assert attempt.parent is not None and attempt.parent.span_id == batch.context.span_id
    assert [p.count for p in otel.points(names.BATCH_DURATION)] == [1]


def test_a_batch_span_is_a_root_even_inside_a_callers_span(providers: Providers) -> None:
    reporter = providers.reporter("thread", "memory")
    tracer = providers.tracers.get_tracer("the application")
    with tracer.start_as_current_span("request handler"):
        reporter.batch_started(1).finished("delivered")

    spans = {span.name: span for span in providers.exporter.get_finished_spans()}
    assert spans[names.BATCH_SPAN].parent is None


def test_switched_off_the_reporter_records_nothing(
    providers: Providers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(otel_switch.SWITCH_VARIABLE, "off")
    reporter = providers.reporter("thread", "memory")
    reporter.submitted(3)
    reporter.batch_started(3).finished("delivered")
    reporter.watch(lambda: GaugeReading(3, 1.0))

    assert type(reporter) is IngesterTelemetry
    assert providers.points() == {} and providers.exporter.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("properties[0].quantity: must be >= 1", "validation"),
        ("customerId is required", "validation"),
        ("properties[0].quantity: 0 is less than the minimum of 1", "validation"),
        ("timestamp: 12 is not of type 'string'", "validation"),
        ("merchantId org_x: permission denied", "forbidden"),
        ("billable metric bm_x not found", "not_found"),
        ("the disk is on fire", "other"),
    ],
)
def test_a_rejection_reason_becomes_a_short_category(message: str, category: str) -> None:
    assert reason_category(message) == category


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (httpx.ReadTimeout("slow"), "httpx.ReadTimeout"),
        (ValueError("x"), "ValueError"),
        (errors.ApiConnectionError("x"), "paygentic_client.ApiConnectionError"),
    ],
)
def test_error_type_names_an_exception_as_users_import_it(error: Exception, named: str) -> None:
    assert error_type(error) == named
