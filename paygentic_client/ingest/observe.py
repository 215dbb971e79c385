"""What the engine sees, reported: the ingesters' metrics and batch spans (through
_runtime/ingest_telemetry.py, OpenTelemetry when it is installed) and the user's hooks
(on_rejected, on_stalled, through _runtime/hooks.py).

The engine is the one place that counts (engine.Observer): both drivers hand it a `Reporter`
and only close it. With OpenTelemetry's SDK an instrument call costs several µs (the SDK
freezes the attributes and takes a lock on each), as much as the rest of an event's delivery:
so submit() only adds 1 to an int, and the submitted counter is told the sum once per batch
sent (and at close); it lags what waits to be sent by at most a batch. The latency histogram
has no call for many values: it costs one record per delivered event, so the delivered events
of an answer are told to OpenTelemetry by `report_deliveries()`, which the drivers call where
they resolve the handles, outside the threaded driver's lock (a batch of 1000 records held it,
and every submit(), for milliseconds). Everything else is per batch.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._runtime import otel
from .._runtime.hooks import HookRunner, RejectedHook, StalledHook, StallWatch
from .._runtime.ingest_telemetry import (
    BatchDelivery,
    GaugeReading,
    IngesterKind,
    IngesterTelemetry,
    ingester_telemetry,
    reason_category,
)
from ..errors import ApiConnectionError, ApiError, EventRejectedError
from .core import Batch, FailAll, Resolved, Retry, Split, Verdict
from .engine import Observer
from .spool import SpoolStatus
from .stores import MemoryStore, SpoolStore, Store


def store_name(store: Store) -> str:
    """The `paygentic.store` attribute of an ingester's store: `memory`, `spool`, `outbox`
    (outbox.PostgresOutbox, not imported here: it needs psycopg), or `other`."""
    if isinstance(store, MemoryStore):
        return "memory"
    if isinstance(store, SpoolStore):
        return "spool"
    return "outbox" if type(store).__name__ == "PostgresOutbox" else "other"


class Reporter(Observer):
    """One engine's telemetry, hooks and stall watch (see the module docstring)."""

    def __init__(
        self,
        ingester: IngesterKind,
        store: Store,
        *,
        on_rejected: RejectedHook | None,
        on_stalled: StalledHook | None,
        stall: StallWatch,
    ) -> None:
        self.telemetry = ingester_telemetry(ingester, store_name(store))
        # Latencies cost a histogram record per event: only for a reporter that keeps them.
        self._timed = type(self.telemetry) is not IngesterTelemetry
        self.hooks = HookRunner(on_rejected, on_stalled)
        self._submitted = 0  # not yet told to the submitted counter
        # Answers not yet told (events delivered, their latencies): a deque, whose append and
        # popleft need no lock between the thread that appends and the one that reports.
        self._deliveries: deque[tuple[int, Sequence[float]]] = deque()
        self.stall = stall
        self.watches_stalls = on_stalled is not None

    def watch(
        self,
        backlog: Callable[[], tuple[int, float | None]],
        clock: Callable[[], float],
        spool_status: Callable[[], SpoolStatus] | None = None,
    ) -> None:
        """The gauges read the engine's backlog (Engine.backlog, safe from any thread: they
        read it on the metric reader's) and age it by the engine's clock; with a spool, its
        counts (spool_status: Spool.status, behind the driver's store gate)."""

        def read() -> GaugeReading:
            depth, oldest = backlog()
            age = 0.0 if oldest is None else max(0.0, clock() - oldest)
            if spool_status is None:
                return GaugeReading(depth, age)
            try:
                status = spool_status()
            except Exception:  # closed meanwhile, or the disk failed: no spool figures
                return GaugeReading(depth, age)
            return GaugeReading(depth, age, status.pending, status.rejected)

        self.telemetry.watch(read)

    def close_telemetry(self) -> None:
        """The last submitted events are counted, and the gauges stop reading this ingester
        (it is closed, or replaced after a fork)."""
        self._count_submitted()
        self.report_deliveries()
        self.telemetry.close()

    def report_deliveries(self) -> None:
        """Tell OpenTelemetry about the answers seen so far (see the module docstring)."""
        deliveries = self._deliveries
        while deliveries:
            try:
                count, latencies = deliveries.popleft()
            except IndexError:  # another sender took the last one
                return
            self.telemetry.delivered(count, latencies)

    def forget(self) -> None:
        """In a forked child: the parent's ingester is reported by the parent, not here."""
        self.telemetry.close()

    @property
    def has_hooks(self) -> bool:
        return self.hooks.on_rejected is not None or self.hooks.on_stalled is not None

    def close_hooks(self, timeout: float | None) -> bool:
        """Let the hooks already reported run, for at most timeout seconds (blocks)."""
        return self.hooks.close(timeout=timeout)

    # -- what the engine calls ----------------------------------------------------------------

    def submitted(self, count: int) -> None:
        self._submitted += count

    def attempt_started(self, size: int) -> BatchDelivery:
        self._count_submitted()
        return self.telemetry.batch_started(size)

    def _count_submitted(self) -> None:
        count, self._submitted = self._submitted, 0
        if count:
            self.telemetry.submitted(count)

    def attempt_ended(
        self,
        delivery: BatchDelivery,
        batch: Batch[Any],
        verdict: Verdict,
        accepted: Mapping[Any, float],
        now: float,
    ) -> None:
        if isinstance(verdict, Retry):
            error_type = retry_error_type(verdict)
            delivery.finished("retry", error_type)
            self.telemetry.retried(error_type)
            self.stall.failed(verdict.reason)
            return
        if isinstance(verdict, Split):  # sent again, in halves: each half is a batch
            delivery.finished("retry", "413")
            return
        self.stall.succeeded(now)  # an answer about the events: delivery works
        if isinstance(verdict, FailAll):
            error = verdict.error
            status = error.status_code if isinstance(error, ApiError) else None
            delivery.finished("refused", str(status) if status else otel.error_type(error))
            self._rejected([(key, str(error)) for key in batch.keys])
            return
        self._answered(delivery, batch, verdict, accepted, now)

    def trouble(self, cause: str) -> None:
        self.stall.failed(cause)

    def stall_due(self, now: float, oldest: float | None) -> float | None:
        stall = self.stall.check(now, oldest)
        if stall is not None:
            self.hooks.stalled(stall)
        return self.stall.deadline(oldest)

    # -- the answer's events ------------------------------------------------------------------

    def _answered(
        self,
        delivery: BatchDelivery,
        batch: Batch[Any],
        verdict: Resolved,
        accepted: Mapping[Any, float],
        now: float,
    ) -> None:
        outcomes = verdict.outcomes
        # Comprehensions, not one loop over all three: without telemetry (the default) only
        # the first runs, and it is the cheapest pass there is over a batch's outcomes.
        rejected = [
            (key, _reason(outcome))
            for key, outcome in zip(batch.keys, outcomes, strict=True)
            if isinstance(outcome, Exception)
        ]
        latencies: list[float] = []
        if self._timed:
            latencies = [
                now - at
                for row, outcome in zip(batch.rows, outcomes, strict=True)
                if not isinstance(outcome, Exception) and (at := accepted.get(row)) is not None
            ]
        delivery.finished("partly_rejected" if rejected else "delivered")
        self._deliveries.append((len(batch.keys) - len(rejected), latencies))
        if rejected:
            self._rejected(rejected)

    def _rejected(self, rejected: list[tuple[str, str]]) -> None:
        """Count the rejected events by reason, and tell on_rejected about each."""
        by_category: dict[str, int] = {}
        for key, reason in rejected:
            category = reason_category(reason)
            by_category[category] = by_category.get(category, 0) + 1
            self.hooks.rejected(key, reason)
        for category, count in by_category.items():
            self.telemetry.rejected(count, category)


def _reason(outcome: Exception) -> str:
    """What an on_rejected hook and the rejected counter are told about a rejected event."""
    reason = outcome.reason if isinstance(outcome, EventRejectedError) else None
    return reason or str(outcome)


def retry_error_type(verdict: Retry) -> str:
    """`error.type` of a batch to be sent again: the HTTP status, or the exception's class
    (the httpx error under an ApiConnectionError)."""
    if verdict.status is not None:
        return str(verdict.status)
    error = verdict.error
    if error is None:
        return "other"
    if isinstance(error, ApiConnectionError) and error.__cause__ is not None:
        return otel.error_type(error.__cause__)
    return otel.error_type(error)
