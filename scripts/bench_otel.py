"""scripts/bench's section 7: what OpenTelemetry costs a call (issue 27).

The same `create_usage_event.sync` through an in-process MockTransport, three ways:
- PAYGENTIC_OTEL=off: the instrumentation skipped (the baseline of both rows);
- the API installed and no SDK configured (the no-op every library user without an SDK gets);
- the SDK configured as an application would, with exporters that keep what they get in
  memory (a span processor that exports each span as it ends, to an exporter that counts;
  an in-memory metric reader): the cost of recording, not of shipping.

The switch is an environment variable read on every call, so candidate and baseline each set
it on every call (the same cost on both sides). Global providers can be set once per process:
the no-SDK row is measured first, then the SDK is installed for good, which is why `main` runs
this section last.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from paygentic_client._runtime.otel import SWITCH_VARIABLE


class CountingExporter(SpanExporter):
    """Keeps a count of the spans it is given (an in-memory exporter that does not grow)."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


def switched(value: str, call: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        os.environ[SWITCH_VARIABLE] = value
        return call()

    return run


def install_sdk() -> tuple[CountingExporter, InMemoryMetricReader]:
    exporter = CountingExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(tracer_provider)
    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    return exporter, reader


def duration_count(reader: InMemoryMetricReader) -> int:
    data = reader.get_metrics_data()
    return sum(
        point.count
        for resource in (data.resource_metrics if data else ())
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "http.client.request.duration"
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint)
    )
