"""Batching ingesters: submit usage events from hot paths, delivered exactly once in batches.

`UsageIngester` is for threaded code, `AsyncUsageIngester` (ingest_async.py, re-exported
here) for asyncio. Both enqueue an event without touching the network and hand back a future
that resolves to the created `UsageEvent` or fails with the reason.

Exactly once: every event carries an idempotency key, a batch that fails as a whole
(connection error, timeout, 408, 429, 5xx) is sent again with the same bytes until the API
answers it, and the API creates an event once per key. Events that the API rejects in a 207
fail their futures with `EventRejectedError` and are not retried. A batch refused as a whole
with another 4xx (400, 401, 403, 413, ...) fails the futures of all its events with the
`ApiError`.

How a batch is sent: each event is serialised to JSON once (orjson), in submit(), and a batch
body is those bytes joined. It goes out through the client's own httpx client
(`client.get_httpx_client()`), so the client's base URL, auth, headers, timeouts and
transports (with their retries) all apply. Going through
`batch_create_usage_events.sync_detailed` instead would rebuild every event's dict and
serialise it again for each send, and build every created UsageEvent of the answer, which
costs more than the network at high volume. The answer is read only as far as matching
outcomes to events needs; a handle builds its UsageEvent (the generated model's from_dict)
on the first result(). A refused batch's error is read by the generated parser.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import Final

from .._runtime.replay import SentFields
from .._runtime.transport import send
from ..client import AuthenticatedClient, Client
from ..errors import IngesterClosedError, QueueFullError
from ..models.create_usage_event_request import CreateUsageEventRequest
from .core import (
    DEFAULT_MAX_BATCH_BYTES,
    GIVE_UP_GRACE,
    MAX_BATCH_SIZE,
    YIELD_EVERY,
    AnswerBody,
    Batch,
    Counters,
    CreatedJson,
    FailAll,
    FailureLog,
    IngestStats,
    Resolved,
    Verdict,
    batch_body,
    check_settings,
    encode_billed,
    fits,
    send_kwargs,
    undelivered_message,
    verdict_of_exception,
    verdict_of_response,
)
from .handles import Completion, EventHandle, HandleMaker, resolve_handles, wait_handles
from .spool import DEFAULT_LEASE, Durability
from .spooled import SpoolSender

__all__ = ["DEFAULT_CLOSE_TIMEOUT", "DEFAULT_EXIT_TIMEOUT", "EventHandle", "UsageIngester"]

logger = logging.getLogger("paygentic_client.ingest")

# How long a still-open UsageIngester may spend delivering at interpreter exit.
DEFAULT_EXIT_TIMEOUT: Final = 10.0
# Batches a UsageIngester sends concurrently unless told otherwise (see max_in_flight).
DEFAULT_MAX_IN_FLIGHT: Final = 4
# How long close() (and leaving a `with` block) waits for delivery unless told otherwise: an
# unreachable API must not hang a program's exit forever, silently.
DEFAULT_CLOSE_TIMEOUT: Final = 30.0


class Default(enum.Enum):
    """The type of DEFAULT: close() without a timeout uses the ingester's close_timeout."""

    DEFAULT = "the ingester's close_timeout"


DEFAULT: Final = Default.DEFAULT


Handle = EventHandle
_Batch = Batch[Handle]


class UsageIngester:
    """Collects usage events into batches sent by background threads.

    client: the AuthenticatedClient (or Client) to send with; the ingester does not close it.
    max_batch_size: events per batch, at most 1000 (the API's limit).
    max_batch_bytes: the byte budget of a batch body; a batch is sent when the next event
        would not fit.
    flush_interval: the longest an event waits for its batch to fill, in seconds.
    max_queue: events that may wait for a sender; beyond it submit() blocks.
    submit_timeout: how long submit() blocks on a full queue before raising QueueFullError.
    max_in_flight: batches sent concurrently, default 4 (order across batches does not matter
        for billing, and sending the next batch while waiting for an answer doubles
        throughput; with 2, a sender waiting for the GIL after its answer let the server go
        idle: 0.69-0.79x of the server's ceiling where 4 reach 0.89-0.90x).
    exit_timeout: at interpreter exit an ingester that is still open is closed with this
        timeout (default DEFAULT_EXIT_TIMEOUT, 10 s); events still undelivered then are logged
        with their idempotency keys on the `paygentic_client.ingest` logger.
    close_timeout: the deadline of close() without an argument and of leaving a `with` block
        (default DEFAULT_CLOSE_TIMEOUT, 30 s; None: no deadline).
    spool: a file path: keep every submitted event in a durable SQLite spool there until
        the API's answer for it is known (see paygentic_client.ingest.spool); submit()
        returns once the event is committed, events an earlier process left there are
        delivered (stats().recovered), and several processes may share the file (a handle
        also resolves when another process delivered its event). The spool takes the
        queue's place: max_queue and submit_timeout do not apply. close() waits for this
        process's own events, not for what it recovers.
    durability: with a spool, "process-crash" (default: survives kill -9) or "power-loss"
        (an fsync per submit; survives a power cut).
    spool_lease: with a spool, the seconds another process waits before it takes over the
        events this one claimed and did not settle (a process that died).
    Between sends of a batch that failed as a whole it waits as the client's retry_policy
    says (the same backoff, statuses and Retry-After cap as a plain call), until it is closed.

    How: submit() adds the event to the batch being filled, under one lock, and hands a full
    batch to the senders; a timer thread hands on a batch that waited flush_interval. Nothing
    per event crosses a thread: at 20,000 events/s, a queue hop per event cost more CPU (and
    contention for the GIL) than the batching saved.
    """

    def __init__(
        self,
        client: AuthenticatedClient | Client,
        *,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        submit_timeout: float = 30.0,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        exit_timeout: float = DEFAULT_EXIT_TIMEOUT,
        close_timeout: float | None = DEFAULT_CLOSE_TIMEOUT,
        spool: str | os.PathLike[str] | None = None,
        durability: Durability = "process-crash",
        spool_lease: float = DEFAULT_LEASE,
    ) -> None:
        check_settings(max_batch_size, max_batch_bytes, flush_interval, max_queue, max_in_flight)
        self._spooled: SpoolSender | None = None
        if spool is not None:
            # The spool replaces the in-memory queue, batches and senders entirely.
            self._spooled = SpoolSender(
                client,
                spool,
                durability=durability,
                lease=spool_lease,
                max_batch_size=max_batch_size,
                max_batch_bytes=max_batch_bytes,
                flush_interval=flush_interval,
                max_in_flight=max_in_flight,
                new_handle=HandleMaker(max_batch_size),
                set_outcome=_set,
            )
        self._client = client
        self._max_batch_size = max_batch_size
        self._max_batch_bytes = max_batch_bytes
        self._flush_interval = flush_interval
        self._max_queue = max_queue
        self._submit_timeout = submit_timeout
        self._exit_timeout = exit_timeout
        self._close_timeout = close_timeout
        self._counters = Counters()
        # Guards the batch being filled, the count of waiting events, _pending and _closed.
        self._lock = threading.Lock()
        self._batch_started = threading.Condition(self._lock)  # the timer waits on it
        self._room = threading.Condition(self._lock)  # submit() waits on it when full
        self._batch: _Batch = Batch()
        self._completion = Completion()  # shared by the handles of the batch being filled
        self._batch_deadline = 0.0
        self._waiting = 0  # events in _batch or in _ready: not yet taken by a sender
        self._ready: queue.SimpleQueue[_Batch | None] = queue.SimpleQueue()
        self._pending: dict[Handle, str] = {}  # unresolved futures and their keys
        self._closed = False
        self._abandon = threading.Event()  # the close deadline passed: stop retrying
        self._timer = threading.Thread(
            target=self._send_on_time, name="paygentic-ingest-timer", daemon=True
        )
        self._senders = [
            threading.Thread(target=self._send_loop, name=f"paygentic-ingest-send-{n}", daemon=True)
            for n in range(max_in_flight)
        ]
        self._failures = FailureLog(logger)
        if self._spooled is None:
            for thread in self._threads():
                thread.start()
        _open_ingesters.add(self)

    # -- public API -------------------------------------------------------------------------

    def submit(self, event: CreateUsageEventRequest) -> Handle:
        """Enqueue an event; the future resolves to the created UsageEvent, or fails with
        EventRejectedError (the API rejected the event), an ApiError (the API refused its
        whole batch) or IngesterClosedError (closed before it was acknowledged).

        Raises QueueFullError when the queue stayed full for submit_timeout seconds, and
        IngesterClosedError after close().
        """
        key, payload, billed = encode_billed(event)
        size = len(payload)
        if not fits(0, 0, size, max_size=1, max_bytes=self._max_batch_bytes):
            raise ValueError(f"event {key!r} alone is larger than max_batch_bytes")
        if self._spooled is not None:
            handle: Handle = self._spooled.submit(key, payload)
            return handle
        with self._lock:
            if self._waiting >= self._max_queue:
                self._wait_for_room(key)
            if self._closed:
                raise IngesterClosedError("the ingester is closed", key)
            handle = self._add(key, payload, billed, size)
            self._pending[handle] = key
            self._counters.submitted += 1
            turn = self._counters.submitted % YIELD_EVERY == 0 and self._sending()
        if turn:
            time.sleep(0)  # the senders' turn for the GIL: see YIELD_EVERY
        return handle

    def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued now and wait until every event submitted so far is resolved
        (acknowledged or failed). Returns False if `timeout` seconds passed first."""
        if self._spooled is not None:
            return wait_handles(self._spooled.pending_handles(), timeout)
        with self._lock:
            waiting = list(self._pending)
            self._hand_on()
        return wait_handles(waiting, timeout)

    def close(self, timeout: float | None | Default = DEFAULT) -> None:
        """Flush, then stop the threads. Later submits raise IngesterClosedError.

        The deadline is `timeout` seconds (default: the constructor's close_timeout, 30 s
        unless set, which the context manager uses too; None waits as long as it takes).
        Events not acknowledged by then fail with IngesterClosedError, whose __cause__ is the
        last delivery failure, and a WARNING on the `paygentic_client.ingest` logger gives
        their count, the last cause and every idempotency key. With a spool they stay in it,
        for the next ingester.
        """
        if isinstance(timeout, Default):
            timeout = self._close_timeout
        if self._spooled is not None:
            with self._lock:
                if self._closed:
                    return
                self._closed = True
            self._spooled.close(None if timeout is None else time.monotonic() + timeout)
            _open_ingesters.discard(self)
            return
        with self._lock:
            if self._closed and not any(thread.is_alive() for thread in self._threads()):
                return
            self._closed = True
            self._hand_on()
            self._batch_started.notify()  # the timer sees _closed and ends
            self._room.notify_all()  # submits waiting for room raise IngesterClosedError
        for _ in self._senders:
            self._ready.put(None)  # after the last batch: each sender ends when it gets one
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads():
            thread.join(_remaining(deadline))
        if any(thread.is_alive() for thread in self._threads()):
            self._give_up()
        _open_ingesters.discard(self)

    def stats(self) -> IngestStats:
        if self._spooled is not None:
            return self._spooled.stats()
        with self._lock:
            return self._counters.snapshot()

    def __enter__(self) -> UsageIngester:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<UsageIngester {'closed' if self._closed else 'open'} {self.stats()}>"

    # -- filling batches (under self._lock) -------------------------------------------------

    def _add(self, key: str, payload: bytes, billed: SentFields, size: int) -> Handle:
        """Add an event to the batch being filled (handing that on first if the event does
        not fit) and make its handle, which shares the batch's Completion."""
        count = len(self._batch.keys)  # once: Batch.__len__ is a Python call
        if count and not fits(
            count,
            self._batch.nbytes,
            size,
            max_size=self._max_batch_size,
            max_bytes=self._max_batch_bytes,
        ):
            self._hand_on()
            count = 0
        if not count:
            self._batch_deadline = time.monotonic() + self._flush_interval
            self._batch_started.notify()
        handle = EventHandle(self._completion)
        self._batch.add(key, payload, handle, billed)
        self._waiting += 1
        if count + 1 >= self._max_batch_size:
            self._hand_on()
        return handle

    def _sending(self) -> bool:
        """Whether events are with the senders (handed on and not resolved). Under the lock."""
        return len(self._pending) > len(self._batch.keys)

    def _hand_on(self) -> None:
        """Give the batch being filled to the senders."""
        if self._batch:
            self._ready.put(self._batch)
            self._batch = Batch()
            self._completion = Completion()

    def _wait_for_room(self, key: str) -> None:
        def room_or_closed() -> bool:
            return self._waiting < self._max_queue or self._closed

        if not self._room.wait_for(room_or_closed, timeout=self._submit_timeout):
            raise QueueFullError(
                f"the ingest queue stayed full for {self._submit_timeout} s; event {key!r} "
                "was not enqueued (the API is slow or unreachable, or events come faster "
                "than it takes them)"
            )

    def _send_on_time(self) -> None:
        """The timer thread: hands on a batch whose first event has waited flush_interval."""
        with self._lock:
            while not self._closed:
                if not self._batch:
                    self._batch_started.wait()
                    continue
                remaining = self._batch_deadline - time.monotonic()
                if remaining > 0:
                    self._batch_started.wait(remaining)
                else:
                    self._hand_on()

    def _threads(self) -> list[threading.Thread]:
        return [self._timer, *self._senders]

    # -- sending batches (max_in_flight threads) --------------------------------------------

    def _send_loop(self) -> None:
        while (batch := self._ready.get()) is not None:
            with self._lock:
                self._waiting -= len(batch)
                self._room.notify_all()
            try:
                self._deliver(batch)
            except Exception as error:  # a bug must neither strand futures nor stop sending
                logger.exception("delivering a batch failed unexpectedly")
                self._resolve_all(batch, error)

    def _deliver(self, batch: _Batch) -> None:
        body = batch_body(batch)
        attempt = 1
        while not self._abandon.is_set():
            verdict = self._send(body, batch)
            if isinstance(verdict, Resolved):
                if verdict.answer is None:
                    self._resolve(batch, verdict.outcomes)
                else:  # the handles keep the answer's bytes, not a dict per event
                    self._resolve(batch, verdict.answer.positions(verdict.outcomes), verdict.answer)
                return
            if isinstance(verdict, FailAll):
                self._resolve_all(batch, verdict.error)
                return
            with self._lock:
                self._counters.retried_batches += 1
            delay = self._client.retry_policy.wait_before(attempt, verdict.retry_after)
            self._failures.failed(len(batch), verdict, delay)
            attempt += 1
            self._abandon.wait(delay)
        self._abandon_batch(batch)

    def _send(self, body: bytes, batch: _Batch) -> Verdict:
        try:
            response = send(self._client, send_kwargs(body), max_retries=0)
        except Exception as error:
            return verdict_of_exception(error)
        return verdict_of_response(response, batch, self._client)

    # -- resolving futures ------------------------------------------------------------------

    def _resolve(
        self,
        batch: _Batch,
        outcomes: Sequence[CreatedJson | int | Exception],
        answer: AnswerBody | None = None,
    ) -> None:
        delivered, failed = resolve_handles(zip(batch.handles, outcomes, strict=True), answer)
        with self._lock:
            for handle in batch.handles:
                self._pending.pop(handle, None)
            self._counters.delivered += delivered
            self._counters.failed += failed

    def _resolve_all(self, batch: _Batch, error: Exception) -> None:
        self._resolve(batch, [error] * len(batch))

    def _abandon_batch(self, batch: _Batch) -> None:
        why = f"the close deadline passed before the API answered; {self._last_cause()}"
        logger.error(undelivered_message(batch.keys, why))
        errors = [self._closed_error(key, "before it was acknowledged") for key in batch.keys]
        self._resolve(batch, errors)

    def _last_cause(self) -> str:
        return f"last cause: {self._failures.last_reason or 'no answer yet'}"

    def _closed_error(self, key: str, when: str) -> IngesterClosedError:
        """The error of an event given up on at close: the last delivery failure is both in
        the message and its __cause__."""
        error = IngesterClosedError(f"the ingester was closed {when} ({self._last_cause()})", key)
        error.__cause__ = self._failures.last_error
        return error

    def _give_up(self) -> None:
        """The close deadline passed: stop retrying and fail what is left, with a log line."""
        # Senders now fail each batch instead of sending it, so the pipeline drains at once;
        # a request already on the wire still gets its answer (bounded by the client timeout)
        # for up to GIVE_UP_GRACE seconds.
        self._abandon.set()
        grace_end = time.monotonic() + GIVE_UP_GRACE
        for thread in self._threads():
            thread.join(_remaining(grace_end))
        with self._lock:
            stuck = dict(self._pending)
        if stuck:
            why = f"still in flight at the close deadline; {self._last_cause()}"
            logger.error(undelivered_message(list(stuck.values()), why))
            _, failed = resolve_handles(
                (handle, self._closed_error(key, "while the event was in flight"))
                for handle, key in stuck.items()
            )
            with self._lock:
                for handle in stuck:
                    self._pending.pop(handle, None)
                self._counters.failed += failed


def _set(handle: Handle, outcome: CreatedJson | Exception) -> int:
    """Resolve a handle unless it already is; 1 if this call resolved it."""
    return sum(resolve_handles([(handle, outcome)]))


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


# Ingesters still open at interpreter exit: each gets exit_timeout seconds to deliver.
_open_ingesters: weakref.WeakSet[UsageIngester] = weakref.WeakSet()


@atexit.register
def _close_open_ingesters() -> None:
    for ingester in list(_open_ingesters):
        with contextlib.suppress(Exception):
            ingester.close(timeout=ingester._exit_timeout)
