"""What the two drivers (threaded.py, aio.py) share, none of it I/O: the settings and their
checks, the store plan, the engine and its reporter, the encoding of submitted events, the
registration of appended ones, stats(), repr(), the close flow (driver_flows.py) and the start
afresh after fork(). A driver adds only how it moves bytes and time: its locks or its loop,
its sender threads or tasks, its waits.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from .._runtime.hooks import RejectedHook, StalledHook, StallWatch
from .._runtime.ingest_telemetry import IngesterKind
from .._runtime.replay import SentFields
from ..client import AuthenticatedClient, Client
from ..errors import QueueFullError
from ..models.create_usage_event_request import CreateUsageEventRequest
from .core import (
    YIELD_EVERY,
    AnswerBody,
    Default,
    IngestStats,
    check_settings,
    claim_budget,
    encode_billed,
)
from .driver_flows import CloseFlow, closing, deadline_of
from .engine import Engine, Resolve, Settings
from .observe import Reporter
from .store_plan import StorePlan
from .stores import Row, SpoolStore, Store, stop_nothing, watch

__all__ = ["Appended", "DriverBase", "Encoded", "Hooks"]

H = TypeVar("H")
T = TypeVar("T")

# A submitted event, encoded: its key, payload and billed fields.
Encoded = tuple[str, bytes, SentFields | None]
# An event on its way into a spool: its key, payload, billed fields and handle.
Appended = tuple[str, bytes, SentFields | None, H]


@dataclass(frozen=True)
class Hooks:
    on_rejected: RejectedHook | None
    on_stalled: StalledHook | None
    stalled_after: float


class DriverBase(Generic[H]):
    """The shared part of UsageIngester and AsyncUsageIngester (see the module docstring).

    A driver sets _guard (what it holds around every call into the engine: a lock, or
    nothing on an event loop) and _fork_locks (what a fork holds: _in_store and its own), and
    implements _restart().
    """

    kind: ClassVar[IngesterKind]
    _engine: Engine[H] | None
    _guard: AbstractContextManager[Any]
    _in_store: threading.Lock
    _unwatch: Callable[[], None]
    _fork_locks: tuple[threading.Lock, ...]

    def _setup(
        self,
        client: AuthenticatedClient | Client,
        settings: Settings,
        plan: StorePlan,
        hooks: Hooks,
        *,
        max_in_flight: int,
        submit_timeout: float,
        close_timeout: float | None,
    ) -> None:
        """The constructor's checks and settings; nothing is opened (see _restart)."""
        check_settings(
            settings.max_batch_size,
            settings.max_batch_bytes,
            settings.flush_interval,
            settings.max_queue,
            max_in_flight,
        )
        StallWatch(hooks.stalled_after)  # raises on a bad value, before anything is opened
        self._client = client
        self._settings = settings
        # The largest payload that fits in a batch alone: core.fits(0, 0, size, max_size=1,
        # max_bytes=max_batch_bytes) for every size up to it (computed once, not per event).
        self._largest_event = claim_budget(settings.max_batch_bytes) - 1
        self._plan = plan
        self._hooks = hooks
        self._max_in_flight = max_in_flight
        self._submit_timeout = submit_timeout
        self._close_timeout = close_timeout
        self._reporter: Reporter | None = None
        self._closed = False

    @staticmethod
    def resolver(pairs: Any, answer: AnswerBody | None) -> tuple[int, int]:
        """Resolve this driver's handles (handles.py), as the engine's Resolve action says."""
        raise NotImplementedError

    def _begin(self) -> None:
        """Start (or, after fork(), start afresh) on the store the plan says."""
        # Held around every store call made outside the engine's steps (a spool's): a fork
        # waits for it, so that no thread of this ingester is inside SQLite when the child
        # is made (a mutex SQLite held then would stay held in the child forever).
        self._in_store = threading.Lock()
        self._unwatch = stop_nothing  # until _watch_store
        self._restart()

    def _restart(self) -> None:
        """The driver's fresh locks, and a fresh engine on the plan's store (or none yet)."""
        raise NotImplementedError

    def _new_engine(self, store: Store, wake: Callable[[], None]) -> Engine[H]:
        """An engine on store, with its reporter (replacing a forked parent's)."""
        if self._reporter is not None:  # a forked child's: the parent's engine is gone
            self._reporter.forget()
        hooks = self._hooks
        reporter = self._reporter = Reporter(
            self.kind,
            store,
            on_rejected=hooks.on_rejected,
            on_stalled=hooks.on_stalled,
            stall=StallWatch(hooks.stalled_after),
        )
        engine: Engine[H] = Engine(
            store, self._client, self._settings, clock=time.monotonic, wake=wake, observer=reporter
        )
        spool = store.spool if isinstance(store, SpoolStore) else None
        status = None if spool is None else (lambda: self._gated(spool.status))
        reporter.watch(engine.backlog, time.monotonic, status)
        return engine

    # -- submitting ---------------------------------------------------------------------------

    def _encoded(self, event: CreateUsageEventRequest) -> Encoded:
        """The event's key, payload and billed fields; ValueError if it can never be sent."""
        key, payload, billed = encoded = encode_billed(event)
        if len(payload) > self._largest_event:
            raise ValueError(f"event {key!r} alone is larger than max_batch_bytes")
        return encoded

    def _queue_full(self, key: str) -> QueueFullError:
        return QueueFullError(
            f"the ingest queue stayed full for {self._submit_timeout} s; event {key!r} "
            "was not enqueued (the API is slow or unreachable, or events come faster "
            "than it takes them)"
        )

    @staticmethod
    def _turn_due(engine: Engine[H]) -> bool:
        """Whether a producer gives the senders a turn after this event: once every
        YIELD_EVERY events while a batch is with them (see core.YIELD_EVERY)."""
        return engine.counters.submitted % YIELD_EVERY == 0 and engine.busy()

    @staticmethod
    def _register(engine: Engine[H], events: list[Appended[H]], rows: Iterable[Row]) -> None:
        """Hand the engine events a spool took, and their handles."""
        for (key, payload, billed, handle), row in zip(events, rows, strict=True):
            engine.submit(key, payload, billed, handle, row)

    # -- what every driver answers the same way -----------------------------------------------

    def stats(self) -> IngestStats:
        engine = self._engine
        if engine is None:  # asyncio, before its spool is opened
            return IngestStats(submitted=0, delivered=0, failed=0, retried_batches=0, in_queue=0)
        with self._guard:
            return engine.stats()

    def __repr__(self) -> str:
        engine = self._engine
        state = ("closed" if self._closed else "open") if engine is None else engine.state.value
        return f"<{type(self).__name__} {state} {self.stats()}>"

    def _resolve(self, action: Resolve[H]) -> tuple[int, int]:
        counts = self.resolver(action.pairs, action.answer)
        assert self._reporter is not None
        self._reporter.report_deliveries()  # outside the lock: see observe.py
        return counts

    def _gated(self, work: Callable[[], T]) -> T:
        """work(), a store call, behind the fork's gate (see forks.py)."""
        with self._in_store:
            return work()

    def _watch_store(self, store: Store, post: Callable[[Callable[[], None]], object]) -> None:
        """Have the outbox's NOTIFY wake the senders at once (polling stays the fallback):
        post(method) runs method where the engine lives. Weakly: the watch's thread must not
        keep this ingester alive (and forked along, see forks.py)."""
        changed = weakref.WeakMethod(self._store_changed)

        def tell() -> None:
            bound = changed()
            if bound is not None:
                post(bound)

        self._unwatch = watch(store, tell)

    def _store_changed(self) -> None:
        """Other processes added events (the store's watch said so)."""
        engine = self._engine
        if engine is not None:
            with self._guard:
                engine.store_changed()

    def _closing(self, timeout: float | None | Default) -> CloseFlow | None:
        """The close flow (driver_flows.py) with this timeout; None when no engine was made."""
        self._closed = True
        engine, reporter = self._engine, self._reporter
        if engine is None or reporter is None:
            return None
        unwatch, self._unwatch = self._unwatch, stop_nothing
        return closing(engine, reporter, deadline_of(timeout, self._close_timeout), unwatch)

    # -- fork (see forks.py) --------------------------------------------------------------------

    def _hold_for_fork(self) -> None:
        """No engine step and no store call in flight while the child is made."""
        for lock in self._fork_locks:
            lock.acquire()

    def _release_after_fork(self) -> None:
        for lock in reversed(self._fork_locks):
            lock.release()

    def _after_fork_in_child(self) -> None:
        """In a forked child: a fresh engine and locks (the parent's may be held by a thread
        that does not exist here), no senders yet, and the store opened again; closed if it
        was closed (or closing) in the parent."""
        engine = self._engine
        self._plan.keep_parents(None if engine is None else engine.store)
        if self._closed or (engine is not None and not engine.accepting()):
            self._start_closed()
            return
        self._plan = self._plan.for_child()
        self._begin()

    def _start_closed(self) -> None:
        """A fresh memory engine, closed, and nothing opened: every submit() raises."""
        self._closed = True
        self._plan = StorePlan()
        self._begin()
        engine = self._engine
        assert engine is not None
        with self._guard:  # closing wakes the engine's waiters: a Condition asks for its lock
            engine.close()
