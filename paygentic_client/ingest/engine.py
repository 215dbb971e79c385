"""The delivery engine of both ingesters: every piece of delivery state, and no I/O.

One `Engine` owns what is delivered and when: the events this process submitted and their
handles, the events waiting to be claimed (how many, how many bytes, since when), the batches
in flight, the retry schedule, the counters, the stall, and the lifecycle. It never sends,
sleeps, reads a clock of its own or touches SQLite. Like httpx's `auth_flow`, its work is
generators that yield what to do and receive what came of it:

    Send(body, delivery) -> the httpx.Response, or the exception the send raised (sent
                        within `delivery.current()`, so that its HTTP span nests in the
                        batch's)
    Wait(until)      -> None, at `until` (a time of the injected clock) or when woken
    StoreCall(call)  -> what call() returned, or the exception it raised
    Resolve(pairs)   -> (created, failed): how many handles this resolved

A driver (threaded.py, aio.py) runs `sender()` in each of its max_in_flight threads or
tasks and `finish()` at close, and only moves bytes and time. Everything else a driver calls
(`submit`, `flush`, `close`, `abandon`, `stats`) returns at once. The engine is not
thread-safe: a threaded driver holds one lock around every call into it and every step of
its generators, and releases it while it performs an action; asyncio runs it on one loop.
`wake` (given by the driver) is called whenever a waiting sender or submit() may go on.

Delivery, in all four combinations (threads or asyncio, memory or spool):
- A batch is claimed from the store once a full one waits, its oldest event waited
  flush_interval, or flush() or close() asks; with a spool, also every flush_interval (for
  events other processes left).
- Only an answer about the events rejects them: a `failed` entry of a 207, a whole-batch 400
  or 422, or a single event answered 413 (a larger batch answered 413 is sent in halves).
  Anything else (no answer, 3xx, 401, 403, 404, 409, 425, 429, 5xx, a bug) keeps the events
  and sends the same bytes again under the client's retry policy, until the close deadline.
- A store that fails (a full disk) never stops a sender: it waits, tries again, and says why
  in stats() and at close.
"""

from __future__ import annotations

import enum
import logging
import math
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

import httpx

from .._runtime.ingest_telemetry import BatchDelivery
from .._runtime.replay import SentFields
from ..errors import IngesterClosedError
from .core import (
    AnswerBody,
    Batch,
    Counters,
    FailAll,
    FailureLog,
    IngestStats,
    Resolved,
    Retry,
    Split,
    Verdict,
    batch_body,
    claim_budget,
    too_large,
    undelivered_message,
    verdict_of_exception,
    verdict_of_response,
)
from .stores import Outcome, Row, Store

logger = logging.getLogger("paygentic_client.ingest")

H = TypeVar("H")
T = TypeVar("T")

# While closing with a spool, how often a sender looks for its events' answers that another
# process may leave (at most; flush_interval if shorter).
CLOSING_POLL: Final = 0.05


# -- actions ------------------------------------------------------------------------------------


NO_DELIVERY: Final = BatchDelivery()


@dataclass(frozen=True, slots=True)
class Send:
    """POST this batch body once (no retries of the client's own), within
    `delivery.current()` (the batch's span, when traced)."""

    body: bytes
    delivery: BatchDelivery = NO_DELIVERY


@dataclass(frozen=True, slots=True)
class Wait:
    """Wait until this time of the engine's clock, or until woken (None: until woken)."""

    until: float | None


@dataclass(frozen=True, slots=True)
class StoreCall:
    """Call this store method (it blocks, and may raise)."""

    call: Callable[[], Any]


@dataclass(frozen=True, slots=True)
class Resolve(Generic[H]):
    """Resolve each handle with its outcome (created JSON, its position in answer, or an
    error) unless its caller cancelled it; answer with (created, failed) counts."""

    pairs: list[tuple[H, Any]]
    answer: AnswerBody | None = None


Action = Send | Wait | StoreCall | Resolve[Any]
Flow = Generator[Action, Any, T]


# -- the lifecycle --------------------------------------------------------------------------------


class Lifecycle(enum.Enum):
    OPEN = "open"  # takes events; claims full or aged batches
    FLUSHING = "flushing"  # as open, and claims what waits now, even a partial batch
    CLOSING = "closing"  # takes no events; claims everything; senders end when done
    ABANDONED = "abandoned"  # the close deadline passed: nothing more is sent
    CLOSED = "closed"  # finished: what was left failed, the store is closed

    # Members are singletons that compare by identity: hashing by identity (in C) is as
    # correct, and `state in ACCEPTING`, which submit() asks for every event, then calls no
    # Python-level Enum.__hash__.
    __hash__ = object.__hash__


OPEN, FLUSHING, CLOSING, ABANDONED, CLOSED = Lifecycle

# (state, what happened) -> the next state. Anything not here is not a change.
TRANSITIONS: Final[dict[tuple[Lifecycle, str], Lifecycle]] = {
    (OPEN, "flush"): FLUSHING,
    (FLUSHING, "drained"): OPEN,
    (OPEN, "close"): CLOSING,
    (FLUSHING, "close"): CLOSING,
    (CLOSING, "deadline"): ABANDONED,
    (OPEN, "finish"): CLOSED,
    (FLUSHING, "finish"): CLOSED,
    (CLOSING, "finish"): CLOSED,
    (ABANDONED, "finish"): CLOSED,
}
ACCEPTING: Final = frozenset({OPEN, FLUSHING})


class Observer:
    """Where an ingester's delivery is seen: the engine calls it, observe.py reports what it
    sees as metrics, spans and hooks. This one sees nothing. Each method is called with the
    driver's lock held (or on the loop): keep them quick.

    watches_stalls: whether the engine should ask `stall_due` on each turn of a sender.
    """

    watches_stalls = False

    def submitted(self, count: int) -> None:
        """count events were accepted."""

    def attempt_started(self, size: int) -> BatchDelivery:
        """A batch of size events is about to be sent (on every attempt); the driver sends it
        within what this returns."""
        return NO_DELIVERY

    def attempt_ended(
        self,
        delivery: BatchDelivery,
        batch: Batch[Any],
        verdict: Verdict,
        accepted: Mapping[Any, float],
        now: float,
    ) -> None:
        """The attempt's verdict (Split only for a batch sent again in halves). accepted: when
        each event of this process that waits was accepted (by row; a mapping the engine
        keeps changing, so read it now)."""

    def trouble(self, cause: str) -> None:
        """Delivery failed without a batch's answer (the store failed; a bug)."""

    def stall_due(self, now: float, oldest: float | None) -> float | None:
        """Report a stall if delivery has stalled (the oldest waiting event was accepted at
        `oldest`, None when none waits); the time to ask again (None: no need)."""
        return None


@dataclass(frozen=True)
class Settings:
    max_batch_size: int
    max_batch_bytes: int
    flush_interval: float
    max_queue: int


class LeaseSchedule:
    """When a batch that is being retried needs its claim renewed: once a third of the lease
    has passed since the claim or the last renewal. A renewal happens only between attempts,
    so the other two thirds cover an attempt and a wait that run long; a claim that ran out
    lets another process take the rows over and send the same keys again."""

    __slots__ = ("_clock", "_interval", "_last")

    def __init__(self, lease: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._interval = lease / 3
        self._last = clock()  # the claim

    def due(self) -> bool:
        """Whether the claim should be renewed now."""
        return self._clock() - self._last > self._interval

    def renewed(self) -> None:
        """The claim was renewed just now."""
        self._last = self._clock()


class Engine(Generic[H]):
    """All of one ingester's delivery state (see the module docstring).

    store: where events wait (stores.py). client: its retry_policy paces retries, and its
    token is kept out of error messages. clock: monotonic seconds. wake: called when a
    waiting sender or submit() may go on.
    """

    def __init__(
        self,
        store: Store,
        client: Any,
        settings: Settings,
        *,
        clock: Callable[[], float],
        wake: Callable[[], None],
        observer: Observer | None = None,
    ) -> None:
        self.store = store
        self._client = client
        self._settings = settings
        self._clock = clock
        self._wake = wake
        self._observer = observer if observer is not None else Observer()
        self._budget = claim_budget(settings.max_batch_bytes)
        # A store that is not inline may still answer some calls without I/O (a spool's
        # journal: its own events, in memory): the engine makes those itself, sparing the
        # driver a call outside the lock (in asyncio, a thread hop each way).
        self._claim_now: Callable[[int, int], Batch[Row] | None] | None = getattr(
            store, "claim_now", None
        )
        self._settle_now: Callable[[Batch[Row], Sequence[Outcome]], bool] | None = getattr(
            store, "settle_now", None
        )
        self._poll = settings.flush_interval if store.shared else math.inf
        self.state = OPEN
        self.counters = Counters()
        self.failures = FailureLog(logger, clock=clock)
        self._handles: dict[Row, H] = {}  # this process's unresolved events
        self._keys: dict[Row, str] = {}  # and their keys (for the close's log line)
        # And when each was accepted, in that order (the oldest first): the delivery latency,
        # the oldest age and the stall.
        self._accepted: dict[Row, float] = {}
        self._unclaimed = 0  # this process's events not yet claimed (approximately, shared)
        self._unclaimed_bytes = 0  # their payloads, plus one byte each
        self._unclaimed_since = 0.0  # when the oldest of them was submitted (about)
        self._in_flight = 0  # batches claimed and not yet settled
        self._next_poll = clock() + self._poll  # a shared store: the next look for others'
        self._changes = 0  # how many times the store said others added events (store_changed)
        self._store_failures = 0  # in a row
        self._retrying: set[Batch[Row]] = set()  # batches between failed sends
        self._stalled_since: float | None = None  # since the first failure after a success

    # -- what the drivers call (each returns at once) --------------------------------------

    def accepting(self) -> bool:
        return self.state in ACCEPTING

    def has_room(self) -> bool:
        """Whether submit() may add an event now (max_queue counts what waits in memory)."""
        return not self.store.bounded or self._unclaimed < self._settings.max_queue

    def busy(self) -> bool:
        """Whether a batch is with the senders (a producer then gives them turns)."""
        return self._in_flight > 0

    def submit(
        self,
        key: str,
        payload: bytes,
        identity: SentFields | None,
        handle: H,
        row: Row | None = None,
    ) -> bool:
        """Take an event and its handle; True when it woke the senders. row: what the driver
        already appended it as (asyncio appends to a spool in a thread first)."""
        if row is None:
            if self.state not in ACCEPTING:
                raise IngesterClosedError("the ingester is closed", key)
            row = self.store.append(key, payload, identity)
        self._handles[row] = handle
        self._keys[row] = key
        now = self._accepted[row] = self._clock()
        self.counters.submitted += 1
        self._observer.submitted(1)
        unclaimed = self._unclaimed = self._unclaimed + 1
        was_over = self._unclaimed_bytes > self._budget
        self._unclaimed_bytes += len(payload) + 1
        if unclaimed == 1:
            self._unclaimed_since = now
        elif unclaimed != self._settings.max_batch_size and (
            was_over or self._unclaimed_bytes <= self._budget
        ):
            return False
        # The first event (a sender must start its flush_interval), or the one that made a
        # full batch (by count or by bytes). Not each event after it: a sender that is not
        # busy was woken then and claims what follows too, and a wake per event cost asyncio
        # a loop turn per event while its senders were busy (~10% of its CPU per event).
        self._wake()
        return True

    def flush(self) -> list[H]:
        """Claim what waits now, even a partial batch (and, with a spool, look for answers
        other processes left); the handles of every event submitted so far."""
        self._move("flush")
        self._wake()
        return list(self._handles.values())

    def close(self) -> None:
        """Take no more events; claim everything; senders end once this process's events
        are resolved."""
        self._move("close")
        self._next_poll = self._clock()
        self._wake()

    def store_changed(self) -> None:
        """The store says other processes added events (a NOTIFY of the outbox): look for
        them now rather than at the next poll."""
        self._changes += 1
        self._next_poll = self._clock()
        self._wake()

    def abandon(self) -> None:
        """The close deadline passed: send nothing more; batches in hand are given back."""
        self._move("deadline")
        self._wake()

    def pending(self) -> list[H]:
        return list(self._handles.values())

    def stats(self) -> IngestStats:
        since = self._stalled_since
        stalled_for = None if since is None else max(0.0, self._clock() - since)
        cause = None if since is None else self.failures.last_reason
        return self.counters.snapshot(stalled_for, cause)

    def last_cause(self) -> str:
        return self.failures.last_reason or "no answer yet"

    def backlog(self) -> tuple[int, float | None]:
        """How many of this process's events wait for an answer, and when the oldest of them
        was accepted (None: none waits). Safe to call from any thread (a metric reader's)."""
        accepted = self._accepted
        for _ in range(3):
            try:
                return len(accepted), next(iter(accepted.values()), None)
            except RuntimeError:  # the driver changed it meanwhile (another thread): again
                continue
        return len(accepted), None

    # -- the flows the drivers run ---------------------------------------------------------

    def sender(self) -> Flow[None]:
        """One sender: waits for work, claims a batch, delivers it until answered or
        abandoned; ends when closing leaves nothing of this process's, or at abandon."""
        while True:
            while True:
                state = self.state
                if state is ABANDONED or state is CLOSED:
                    return
                if state is CLOSING and not self._handles:
                    return
                now = self._clock()
                due = self._claim_due(now)
                if due is not None and due <= now:
                    break
                yield Wait(self._watch_stall(now, due))
            batch = yield from self._claim()
            if batch is None:
                continue  # the store failed; it waited already
            if not batch:
                yield from self._take_answers()
                continue
            self._in_flight += 1
            try:
                yield from self._deliver(batch)
            finally:
                self._in_flight -= 1
            if self.state is CLOSING:
                self._wake()  # a sender waiting for the last answers may end now

    def finish(self, senders_stopped: bool) -> Flow[None]:
        """At close, after the senders ended or the deadline passed: the last answers other
        processes left, then every event of this process still unresolved fails (and is
        logged with its key); the store is closed unless a sender still uses it."""
        yield from self._take_answers()
        left = dict(self._handles)
        if left:
            cause = self.last_cause()
            words = self.store.left(cause)
            keys = [self._keys[row] for row in left]
            logger.log(words.level, undelivered_message(keys, words.why))
            last_error = self.failures.last_error
            pairs = [
                (handle, words.error(self._keys[row], last_error)) for row, handle in left.items()
            ]
            _, failed = yield Resolve(pairs)
            self.counters.failed += failed
            self._forget(left)
        self._unclaimed = self._unclaimed_bytes = 0
        self._move("finish")
        if senders_stopped:
            closed = yield from self._call(self.store.close)
            if isinstance(closed, Exception):
                logger.warning("could not close the store: %s", closed)

    # -- claiming --------------------------------------------------------------------------

    def _claim_due(self, now: float) -> float | None:
        """When this sender should claim next (now or earlier: at once); None: when woken."""
        state = self.state
        unclaimed = self._unclaimed
        if state is FLUSHING:
            return now
        if unclaimed >= self._settings.max_batch_size or self._unclaimed_bytes > self._budget:
            return now
        if state is CLOSING:
            return now if unclaimed else (self._next_poll if self.store.shared else None)
        due = self._unclaimed_since + self._settings.flush_interval if unclaimed else math.inf
        due = min(due, self._next_poll)
        return None if due == math.inf else due

    def _claim(self) -> Flow[Batch[Row] | None]:
        """A batch from the store: empty when nothing was there to claim; None when the
        store failed (after waiting to try again)."""
        counted = self._unclaimed
        changes = self._changes
        max_size = self._settings.max_batch_size
        quick = self._claim_now(max_size, self._budget) if self._claim_now else None
        claimed = (
            quick
            if quick is not None
            else (yield from self._call(self.store.claim, max_size, self._budget))
        )
        now = self._clock()
        if isinstance(claimed, Exception):
            yield from self._store_trouble("could not claim events", claimed)
            return None
        self._worked()
        if not claimed:
            # None of the `counted` events thought unclaimed was there: another process holds
            # them or answered them. Counting them still would claim again at once, in a loop.
            self._unclaimed = max(0, self._unclaimed - counted)
            self._next_poll = now + (
                min(self._poll, CLOSING_POLL) if self.state is CLOSING else self._poll
            )
        else:
            own = sum(1 for row in claimed.rows if row in self._handles)
            self._unclaimed = max(0, self._unclaimed - own)
            self._next_poll = now + self._poll
        if self._changes != changes:  # told of new events during the claim: it may miss them
            self._next_poll = now
        if self._unclaimed:
            self._unclaimed_bytes = max(0, self._unclaimed_bytes - claimed.nbytes - len(claimed))
            self._unclaimed_since = now
        else:
            self._unclaimed_bytes = 0
        if self.state is FLUSHING and len(claimed) < max_size:
            self._move("drained")
        self._wake()  # room for submit(), and another sender may claim the rest
        return claimed

    # -- delivering --------------------------------------------------------------------------

    def _deliver(self, batch: Batch[Row]) -> Flow[None]:
        """Send the batch until it is answered, then settle it; at abandon, give it back."""
        try:
            yield from self._until_answered(batch)
        finally:  # also when the driver drops the flow (a cancelled task)
            self._retrying.discard(batch)

    def _until_answered(self, batch: Batch[Row]) -> Flow[None]:
        size = len(batch)
        lease = LeaseSchedule(self.store.lease, self._clock)
        body: bytes | None = None
        attempt = 1
        said_unexpected = False
        while self.state is not ABANDONED:
            try:
                if body is None:
                    body = batch_body(batch)
            except Exception as error:  # a bug: the events are kept, and tried again
                if not said_unexpected:
                    logger.exception("delivering a batch%s failed unexpectedly", self.store.where)
                said_unexpected = True
                bug = Retry(f"unexpected error: {error}", error=error)
                self._observer.trouble(bug.reason)
                verdict: Verdict = bug
            else:
                delivery = self._observer.attempt_started(size)
                verdict = yield from self._send(body, batch, delivery)
                if isinstance(verdict, Split) and size == 1:
                    verdict = too_large(batch, verdict.error)
                self._observer.attempt_ended(
                    delivery, batch, verdict, self._accepted, self._clock()
                )
            if not isinstance(verdict, Retry):
                # Answered (a 413 too): this batch no longer keeps delivery stalled.
                self._retrying.discard(batch)
                if isinstance(verdict, Split):
                    first, second = batch.halves()
                    yield from self._deliver(first)
                    yield from self._deliver(second)
                else:
                    yield from self._settle(batch, verdict)
                return
            if verdict.unexpected and not said_unexpected:
                logger.error("a batch%s could not be sent: %s", self.store.where, verdict.error)
                said_unexpected = True
            self._retrying.add(batch)
            self.counters.retried_batches += 1
            delay = self._client.retry_policy.wait_before(attempt, verdict.retry_after)
            self._stalled()
            self.failures.failed(size, verdict, delay)
            attempt += 1
            yield from self._pause(delay)
            if self.state is not ABANDONED and lease.due():
                renewed = yield from self._call(self.store.renew, batch)
                if isinstance(renewed, Exception):
                    logger.warning("could not renew a claim: %s", renewed)
                else:
                    lease.renewed()
        released = yield from self._call(self.store.release, batch)
        if isinstance(released, Exception):  # its lease runs out instead
            logger.warning("could not give back a claim: %s", released)

    def _send(self, body: bytes, batch: Batch[Row], delivery: BatchDelivery) -> Flow[Verdict]:
        answer = yield Send(body, delivery)
        if isinstance(answer, httpx.Response):
            return verdict_of_response(answer, batch, self._client)
        return verdict_of_exception(answer)

    def _settle(self, batch: Batch[Row], verdict: Resolved | FailAll) -> Flow[None]:
        """Record the answer in the store (until it works, or abandon), then resolve this
        process's handles: a handle never says created while its row is still pending."""
        size = len(batch)
        outcomes: list[Outcome]
        outcomes = (
            list(verdict.outcomes) if isinstance(verdict, Resolved) else [verdict.error] * size
        )
        handles = self._handles
        mine = [row in handles for row in batch.rows]
        while not (self._settle_now and self._settle_now(batch, outcomes)):
            settled = yield from self._call(self.store.settle, batch, outcomes, mine)
            if not isinstance(settled, Exception):
                break
            yield from self._store_trouble("could not record the API's answer", settled)
            if self.state is ABANDONED:
                return  # still pending in the store: the next ingester sends it again
        self._worked()
        answer = verdict.answer if isinstance(verdict, Resolved) else None
        # The handles keep the answer's bytes, not a dict per event.
        results: list[Any] = answer.positions(outcomes) if answer is not None else outcomes
        pairs = [
            (handles[row], result)
            for row, result in zip(batch.rows, results, strict=True)
            if row in handles
        ]
        delivered, failed = yield Resolve(pairs, answer)
        self._forget(batch.rows)
        counters = self.counters
        counters.delivered += delivered
        counters.failed += failed
        if self.state is not CLOSED:  # else finish() failed this process's handles
            counters.recovered += size - len(pairs)

    def _take_answers(self) -> Flow[None]:
        """Resolve the handles of this process's events that another process answered."""
        answers = yield from self._call(self.store.answers_for_me)
        if isinstance(answers, Exception):
            logger.warning("could not read the answers other processes left: %s", answers)
            return
        pairs = [(self._handles[row], outcome) for row, outcome in answers if row in self._handles]
        if not pairs:
            return
        delivered, failed = yield Resolve(pairs)
        self._forget([row for row, _ in answers])
        self.counters.delivered += delivered
        self.counters.failed += failed

    def _forget(self, rows: Iterable[Row]) -> None:
        """These events are resolved (or were never this process's)."""
        handles, keys, accepted = self._handles, self._keys, self._accepted
        for row in rows:
            if handles.pop(row, None) is not None:
                del keys[row]
                del accepted[row]

    # -- waiting, the store, the stall -------------------------------------------------------

    def _pause(self, delay: float) -> Flow[None]:
        """Wait delay seconds, or less if abandoned meanwhile."""
        until = self._clock() + delay
        while self.state is not ABANDONED and (now := self._clock()) < until:
            yield Wait(self._watch_stall(now, until))

    def _watch_stall(self, now: float, until: float | None) -> float | None:
        """Let the observer report a stall; until, or earlier if a stall is due before."""
        if not self._observer.watches_stalls:
            return until
        due = self._observer.stall_due(now, self.backlog()[1])
        if due is None:
            return until
        return due if until is None else min(due, until)

    def _call(self, method: Callable[..., T], *args: Any) -> Flow[T | Exception]:
        """A store method's result (or the exception it raised): called here when the store
        is inline, else by the driver."""
        if self.store.inline:
            return method(*args)
        result: T | Exception = yield StoreCall(lambda: method(*args))
        return result

    def _store_trouble(self, doing: str, error: Exception) -> Flow[None]:
        """The store failed: say so (rate-limited), count the stall, wait as the retry
        policy says, and let the caller try again."""
        self._store_failures += 1
        delay = self._client.retry_policy.backoff(self._store_failures)
        self._stalled()
        self.failures.trouble(f"{doing}: {error}", error, delay)
        self._observer.trouble(f"{doing}: {error}")
        yield from self._pause(delay)

    def _worked(self) -> None:
        """The store worked; delivery is not stalled unless a batch still waits to retry."""
        self._store_failures = 0
        if not self._retrying:
            self._stalled_since = None

    def _stalled(self) -> None:
        if self._stalled_since is None:
            self._stalled_since = self._clock()

    def _move(self, happened: str) -> None:
        self.state = TRANSITIONS.get((self.state, happened), self.state)
