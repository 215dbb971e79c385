"""The ingesters' metrics and batch spans: what the engine reports, whoever listens.

An ingester asks `ingester_telemetry("thread", "memory")` for its reporter once, and calls it
as things happen:

    telemetry.submitted(1)                      # submit() accepted an event
    telemetry.delivered(n, latencies)           # n events stored; each one's submit()-to-answer s
    telemetry.rejected(n, "validation")         # n events in a 207's `failed`, by short reason
    telemetry.retried("httpx.ConnectError")     # a batch will be sent again (error.type)
    delivery = telemetry.batch_started(size)    # a batch goes out: its span starts
    with delivery.current():                    #   the HTTP attempt spans nest under it
        response = send(...)
    delivery.finished("delivered")              # its span ends, its duration is recorded
    telemetry.watch(lambda: GaugeReading(...))  # the gauges read this on each collection
    telemetry.close()                           # the gauges stop reading it

Without OpenTelemetry (not installed, or PAYGENTIC_OTEL=off) the reporter is this module's
`IngesterTelemetry`, whose methods do nothing; with it, ingest_otel.py's, on the global meter
and tracer providers. The names and attributes are the ones docs/monitoring.md documents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from . import otel

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

IngesterKind = Literal["thread", "asyncio"]

# The metrics, exactly as docs/monitoring.md lists them.
SUBMITTED = "paygentic.ingest.events.submitted"
DELIVERED = "paygentic.ingest.events.delivered"
REJECTED = "paygentic.ingest.events.rejected"
RETRIED = "paygentic.ingest.batches.retried"
BATCH_DURATION = "paygentic.ingest.batch.duration"
DELIVERY_LATENCY = "paygentic.ingest.delivery.latency"
QUEUE_DEPTH = "paygentic.ingest.queue.depth"
OLDEST_AGE = "paygentic.ingest.oldest.age"
SPOOL_PENDING = "paygentic.ingest.spool.pending"
SPOOL_REJECTED = "paygentic.ingest.spool.rejected"
# The attributes.
INGESTER = "paygentic.ingester"
STORE = "paygentic.store"
REASON = "paygentic.reason"
ERROR_TYPE = "error.type"
# The span of a batch delivery and its own attributes.
BATCH_SPAN = "paygentic.ingest.batch"
BATCH_SIZE = "paygentic.batch.size"
BATCH_OUTCOME = "paygentic.batch.outcome"
# The outcomes of a batch: every event stored; stored but for some the API rejected; to be
# sent again (an error, no answer); refused as a whole (a 400 for the batch). The last two
# make the batch's span an error.
OUTCOMES = ("delivered", "partly_rejected", "retry", "refused")
FAILED_OUTCOMES = frozenset({"retry", "refused"})


class GaugeReading(NamedTuple):
    """What the gauges show for one ingester, read on each metric collection (on the metric
    reader's thread: the function that makes it must be safe to call from any thread).

    queue_depth: events accepted by submit() and not yet answered by the API.
    oldest_age: seconds since the oldest of them was accepted (0 when there is none).
    spool_pending / spool_rejected: rows of the spool file in each state; None without a spool.
    """

    queue_depth: int
    oldest_age: float
    spool_pending: int | None = None
    spool_rejected: int | None = None


class BatchDelivery:
    """One batch on its way (see the module docstring); this one records nothing."""

    @contextmanager
    def current(self) -> Iterator[None]:
        """Makes the batch's span the current one, for the spans of its HTTP attempts."""
        yield

    def finished(self, outcome: str, error_type: str | None = None) -> None:
        """The batch's answer: an outcome of OUTCOMES, and the error's type if it failed."""


class IngesterTelemetry:
    """An ingester's reporter that reports nothing: without OpenTelemetry, or switched off."""

    def submitted(self, count: int = 1) -> None:
        pass

    def delivered(self, count: int, latencies: Sequence[float]) -> None:
        pass

    def rejected(self, count: int, reason: str) -> None:
        pass

    def retried(self, error_type: str) -> None:
        pass

    def batch_started(self, size: int) -> BatchDelivery:
        return _NO_DELIVERY

    def batch(
        self, duration: float, size: int, outcome: str, error_type: str | None = None
    ) -> None:
        """A batch delivery reported after the fact: its duration in seconds, its size and
        outcome (a span that ended now and began `duration` ago)."""

    def watch(self, read: Callable[[], GaugeReading]) -> None:
        pass

    def close(self) -> None:
        pass


_NO_DELIVERY = BatchDelivery()


def ingester_telemetry(
    ingester: IngesterKind,
    store: str,
    *,
    meter_provider: MeterProvider | None = None,
    tracer_provider: TracerProvider | None = None,
) -> IngesterTelemetry:
    """The reporter of one ingester: `ingester` is `thread` or `asyncio`, `store` is where its
    events wait (`memory`, `spool`). The providers default to OpenTelemetry's global ones
    (tests pass their own)."""
    if not otel.enabled():
        return IngesterTelemetry()
    from .ingest_otel import OtelIngesterTelemetry

    return OtelIngesterTelemetry(ingester, store, meter_provider, tracer_provider)


def reason_category(message: Any) -> str:
    """A short, bounded category for a rejected event's reason (a metric attribute must not
    carry the API's free text, which may quote customer data): `validation`, `duplicate`,
    `not_found`, `forbidden`, or `other`."""
    text = str(message).lower()
    for words, category in _REASON_WORDS:
        if any(word in text for word in words):
            return category
    return "other"


# The API's field errors too, as the sandbox and the spec word them: "properties[0].quantity: 0
# is less than the minimum of 1", "... is not of type 'string'".
_VALIDATION_WORDS: tuple[str, ...] = ("invalid", "required", "must", "validation", "malformed")
_VALIDATION_WORDS += ("minimum", "maximum", "less than", "greater than", "not of type")
_REASON_WORDS = (
    (("duplicate", "already exists", "idempoten"), "duplicate"),
    (("not found", "unknown", "does not exist"), "not_found"),
    (("forbidden", "permission", "not allowed"), "forbidden"),
    (_VALIDATION_WORDS, "validation"),
)
