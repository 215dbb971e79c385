"""The ingesters' reporter on OpenTelemetry (see ingest_telemetry.py for what it reports).

The instruments are made once per meter provider and shared by every ingester reporting
through it: an observable gauge cannot be unregistered, so one callback per gauge reads every
live ingester (a `WeakSet`, left by `close()`), summing the counts of ingesters with the same
attributes and taking the oldest of their ages.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace
from opentelemetry.metrics import CallbackOptions, MeterProvider, Observation
from opentelemetry.trace import SpanKind, Status, StatusCode, TracerProvider

from . import ingest_telemetry as names
from .ingest_telemetry import BatchDelivery, GaugeReading, IngesterKind, IngesterTelemetry
from .otel import SCOPE
from .version import VERSION

# Batch durations and delivery latencies: from a quick local batch to minutes of outage.
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

Attributes = dict[str, str]


class _Instruments:
    """The instruments of one meter provider, and the ingesters its gauges read."""

    def __init__(self, provider: MeterProvider | None) -> None:
        meter = (
            provider.get_meter(SCOPE, VERSION)
            if provider is not None
            else metrics.get_meter(SCOPE, VERSION)
        )
        self.live: weakref.WeakSet[OtelIngesterTelemetry] = weakref.WeakSet()
        self.submitted = meter.create_counter(
            names.SUBMITTED, unit="{event}", description="Events accepted by submit()."
        )
        self.delivered = meter.create_counter(
            names.DELIVERED, unit="{event}", description="Events the API stored."
        )
        self.rejected = meter.create_counter(
            names.REJECTED, unit="{event}", description="Events the API rejected, by reason."
        )
        self.retried = meter.create_counter(
            names.RETRIED, unit="{batch}", description="Batches to be sent again, by error."
        )
        self.batch_duration = meter.create_histogram(
            names.BATCH_DURATION,
            unit="s",
            description="Time to deliver one batch (one attempt).",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        self.latency = meter.create_histogram(
            names.DELIVERY_LATENCY,
            unit="s",
            description="Time from submit() returning to the API's answer, per event.",
            explicit_bucket_boundaries_advisory=SECONDS_BUCKETS,
        )
        gauges: list[tuple[str, str, str, Callable[[GaugeReading], float | None], bool]] = [
            (names.QUEUE_DEPTH, "{event}", "Events accepted and not yet answered.",
             lambda r: r.queue_depth, False),
            (names.OLDEST_AGE, "s", "Age of the oldest event not yet answered.",
             lambda r: r.oldest_age, True),
            (names.SPOOL_PENDING, "{event}", "Events in the spool waiting to be sent.",
             lambda r: r.spool_pending, False),
            (names.SPOOL_REJECTED, "{event}", "Events in the spool that the API rejected.",
             lambda r: r.spool_rejected, False),
        ]  # fmt: skip
        for name, unit, description, field, oldest in gauges:
            meter.create_observable_gauge(
                name, [self._callback(field, oldest)], unit=unit, description=description
            )

    def _callback(
        self, field: Callable[[GaugeReading], float | None], oldest: bool
    ) -> Callable[[CallbackOptions], Iterable[Observation]]:
        def observe(options: CallbackOptions) -> Iterable[Observation]:
            totals: dict[tuple[str, str], float] = {}
            for reporter in list(self.live):
                value = reporter.read(field)
                if value is None:
                    continue
                key = reporter.key
                if key in totals:
                    value = max(totals[key], value) if oldest else totals[key] + value
                totals[key] = value
            return [
                Observation(value, {names.INGESTER: ingester, names.STORE: store})
                for (ingester, store), value in totals.items()
            ]

        return observe


_instruments: dict[MeterProvider | None, _Instruments] = {}
_instruments_lock = threading.Lock()


def instruments(provider: MeterProvider | None) -> _Instruments:
    with _instruments_lock:
        found = _instruments.get(provider)
        if found is None:
            found = _instruments[provider] = _Instruments(provider)
        return found


class OtelIngesterTelemetry(IngesterTelemetry):
    """One ingester's reporter on OpenTelemetry."""

    def __init__(
        self,
        ingester: IngesterKind,
        store: str,
        meter_provider: MeterProvider | None,
        tracer_provider: TracerProvider | None,
    ) -> None:
        self.key = (ingester, store)
        self.attributes: Attributes = {names.INGESTER: ingester, names.STORE: store}
        self.instruments = instruments(meter_provider)
        provider = tracer_provider if tracer_provider is not None else trace.get_tracer_provider()
        self.tracer = provider.get_tracer(SCOPE, VERSION)
        self._read: Callable[[], GaugeReading] | None = None

    def submitted(self, count: int = 1) -> None:
        self.instruments.submitted.add(count, self.attributes)

    def delivered(self, count: int, latencies: Sequence[float]) -> None:
        self.instruments.delivered.add(count, self.attributes)
        record = self.instruments.latency.record
        attributes = self.attributes
        for seconds in latencies:
            record(seconds, attributes)

    def rejected(self, count: int, reason: str) -> None:
        self.instruments.rejected.add(count, {**self.attributes, names.REASON: reason})

    def retried(self, error_type: str) -> None:
        self.instruments.retried.add(1, {**self.attributes, names.ERROR_TYPE: error_type})

    def batch_started(self, size: int) -> BatchDelivery:
        return _OtelBatchDelivery(self, size)

    def batch(
        self, duration: float, size: int, outcome: str, error_type: str | None = None
    ) -> None:
        _OtelBatchDelivery(self, size, took=duration).finished(outcome, error_type)

    def watch(self, read: Callable[[], GaugeReading]) -> None:
        self._read = read
        self.instruments.live.add(self)

    def close(self) -> None:
        self.instruments.live.discard(self)

    def read(self, field: Callable[[GaugeReading], float | None]) -> float | None:
        read = self._read
        return None if read is None else field(read())


class _OtelBatchDelivery(BatchDelivery):
    """A batch's span (started now, or `took` seconds ago) and its duration."""

    def __init__(
        self, reporter: OtelIngesterTelemetry, size: int, took: float | None = None
    ) -> None:
        self._reporter = reporter
        self._took = took
        self._started = time.perf_counter()
        start = time.time_ns() - (0 if took is None else int(took * 1e9))
        # A root span: a batch mixes events of many callers, whose spans have long ended.
        self._span = reporter.tracer.start_span(
            names.BATCH_SPAN,
            context=otel_context.Context(),
            kind=SpanKind.INTERNAL,
            attributes={**reporter.attributes, names.BATCH_SIZE: size},
            start_time=start,
        )

    @contextmanager
    def current(self) -> Iterator[None]:
        # No exception event on the span: its message may carry what a log line may not.
        with trace.use_span(
            self._span, end_on_exit=False, record_exception=False, set_status_on_exception=False
        ):
            yield

    def finished(self, outcome: str, error_type: str | None = None) -> None:
        took = time.perf_counter() - self._started if self._took is None else self._took
        span = self._span
        span.set_attribute(names.BATCH_OUTCOME, outcome)
        if error_type is not None:
            span.set_attribute(names.ERROR_TYPE, error_type)
        if outcome in names.FAILED_OUTCOMES:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        self._reporter.instruments.batch_duration.record(took, self._reporter.attributes)
