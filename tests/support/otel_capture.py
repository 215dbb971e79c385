"""OpenTelemetry's SDK as the global providers, for the tests that read the client's spans and
metrics the way an application's exporter would.

    def test_x(otel: OtelCapture) -> None:
        ...                                   # calls through the client
        otel.spans()                          # the spans that ended since the test began
        otel.points("http.client.request.duration")   # the data points recorded since

The global providers can be set once per process, so the first test that asks for `otel` sets
them for the rest of the session. What keeps the other tests apart: spans reach the in-memory
exporter only while a test holds the fixture (a gate in front of it), and metrics are read
with delta temporality, the fixture reading (and dropping) what came before the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, ObservableGauge
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

DELTA: dict[type, AggregationTemporality] = {
    Counter: AggregationTemporality.DELTA,
    Histogram: AggregationTemporality.DELTA,
    ObservableGauge: AggregationTemporality.DELTA,
}


class _Gate(SpanProcessor):
    """Passes ended spans on while `open` (a test holds the fixture)."""

    def __init__(self, inner: SpanProcessor) -> None:
        self.inner = inner
        self.open = False

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        if self.open:
            self.inner.on_end(span)


class OtelCapture:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.gate = _Gate(SimpleSpanProcessor(self.exporter))
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(self.gate)
        self.reader = InMemoryMetricReader(preferred_temporality=DELTA)
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[self.reader]))

    def begin(self) -> None:
        self.exporter.clear()
        self.reader.get_metrics_data()
        self._points: dict[str, list[Any]] = {}
        self.gate.open = True

    def end(self) -> None:
        self.gate.open = False
        self.exporter.clear()

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def points(self, name: str) -> list[Any]:
        """The data points of the metric `name` recorded since the test began (each read
        collects a delta and keeps it)."""
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    self._points.setdefault(metric.name, []).extend(metric.data.data_points)
        return self._points.get(name, [])


_capture: OtelCapture | None = None
_lock = threading.Lock()


def installed() -> OtelCapture:
    global _capture
    with _lock:
        if _capture is None:
            _capture = OtelCapture()
        return _capture


@pytest.fixture
def otel() -> Iterator[OtelCapture]:
    capture = installed()
    capture.begin()
    try:
        yield capture
    finally:
        capture.end()
