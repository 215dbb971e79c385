"""Where submitted events wait for the API's answer: the store protocol the engine (engine.py)
delivers from, and its two implementations.

- MemoryStore: the process's memory (the default). Its calls are cheap and never fail, so
  the engine makes them itself, under its driver's lock.
- SpoolStore: a durable SQLite spool (spool.py), shared with other processes. Its calls
  block on SQLite and may fail (a full disk), so the engine asks its driver to make them
  (outside the lock; for asyncio, in a thread of their own) and hands them their result.

The engine does not know which one it has: it reads the flags and calls the methods below.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from .._runtime.jsonbody import decode_json
from .._runtime.replay import SentFields
from ..errors import EventRejectedError, IngesterClosedError, SpoolError
from .core import Batch, CreatedJson
from .journal import Journal
from .spool import Answer, Spool, SpooledEvent, os_error

__all__ = [
    "Left",
    "MemoryStore",
    "Outcome",
    "Row",
    "SpoolStore",
    "Store",
    "answers_for_others",
    "outcome_of",
    "reopen",
    "stop_nothing",
    "watch",
]

logger = logging.getLogger("paygentic_client.ingest")

# A stored event as its store knows it (hashable): in memory, its number; in a spool, its seq
# and its key (a spool may reuse a seq once its table has emptied, so the pair is the
# identity). In memory a plain int: a tuple per queued event would be one more object the
# garbage collector walks.
Row = Hashable
Outcome = CreatedJson | Exception


@dataclass(frozen=True)
class Left:
    """What close() says of events still undelivered at its deadline: the log level, the
    log line's reason, and the IngesterClosedError of each event."""

    level: int
    why: str
    message: str

    def error(self, key: str, cause: Exception | None) -> IngesterClosedError:
        error = IngesterClosedError(self.message, key)
        error.__cause__ = cause
        return error


class Store(Protocol):
    """inline: the engine calls the store itself (cheap, never fails); otherwise it asks its
    driver to. append_inline: a submit() appends itself, under the driver's lock (cheap, never
    waits); otherwise appends are group-committed, in a thread for asyncio. shared: other
    processes add and claim events too, so the engine looks for their events and answers every
    flush_interval. bounded: events wait in memory, so
    max_queue applies. lease: seconds a claim holds (math.inf: forever). where: how log
    lines name it (" from the spool"). A shared store may also offer watch(changed): see
    watch() below. A store that is not inline may offer claim_now(max_count, max_bytes) and
    settle_now(batch, outcomes): claim() and settle() when they need no I/O (None, False:
    they do), which the engine then makes itself (SpoolStore's own journaled events)."""

    inline: bool
    append_inline: bool
    shared: bool
    bounded: bool
    lease: float
    where: str

    def append(self, key: str, payload: bytes, identity: SentFields | None) -> Row: ...
    def append_many(self, events: Sequence[tuple[str, bytes, SentFields | None]]) -> list[Row]:
        """Add several events at once (with a spool: in one transaction); their rows."""

    def claim(self, max_count: int, max_bytes: int) -> Batch[Row]: ...
    def renew(self, batch: Batch[Row]) -> None: ...
    def release(self, batch: Batch[Row]) -> None: ...
    def settle(self, batch: Batch[Row], outcomes: Sequence[Outcome], mine: Sequence[bool]) -> None:
        """Record the API's answer: one outcome per event, and whether this process holds
        the event's handle (it is answered elsewhere if not)."""

    def answers_for_me(self) -> list[tuple[Row, Outcome]]: ...
    def left(self, cause: str) -> Left: ...
    def close(self) -> None: ...


class MemoryStore:
    """Events in the process's memory, in submission order, as parallel queues (one object
    per queued event for the garbage collector to walk: its handle, in the engine)."""

    inline = True
    append_inline = True
    shared = False
    bounded = True
    lease = math.inf
    where = ""

    def __init__(self) -> None:
        self._seq = 0
        self._seqs: deque[int] = deque()
        self._keys: deque[str] = deque()
        self._payloads: deque[bytes] = deque()
        self._identities: deque[SentFields | None] = deque()

    def append(self, key: str, payload: bytes, identity: SentFields | None) -> Row:
        self._seq += 1
        self._seqs.append(self._seq)
        self._keys.append(key)
        self._payloads.append(payload)
        self._identities.append(identity)
        return self._seq

    def append_many(self, events: Sequence[tuple[str, bytes, SentFields | None]]) -> list[Row]:
        return [self.append(key, payload, identity) for key, payload, identity in events]

    def append_as(self, row: int, key: str, payload: bytes, identity: SentFields | None) -> None:
        """Queue an event under a row its owner numbered (a SpoolStore's journal)."""
        self._seqs.append(row)
        self._keys.append(key)
        self._payloads.append(payload)
        self._identities.append(identity)

    def __len__(self) -> int:
        return len(self._seqs)

    def claim(self, max_count: int, max_bytes: int) -> Batch[Row]:
        """The oldest events, up to max_count of them and max_bytes of payloads plus one
        byte each (the first is always taken); they leave the queue."""
        # How many fit, then each column taken at once: a Batch.add() call per event cost
        # more than the rest of the claim (scripts/bench-ingest-instructions).
        count = nbytes = 0
        for payload in self._payloads:
            size = len(payload)
            if count == max_count or (count and nbytes + count + size + 1 > max_bytes):
                break
            count += 1
            nbytes += size
        batch: Batch[Row] = Batch()
        batch.keys = _take(self._keys, count)
        batch.payloads = _take(self._payloads, count)
        batch.rows = _take(self._seqs, count)
        batch.identities = _take(self._identities, count)
        batch.nbytes = nbytes
        return batch

    def renew(self, batch: Batch[Row]) -> None:
        pass  # a claim in memory never runs out

    def release(self, batch: Batch[Row]) -> None:
        pass  # given up at the close deadline: their handles fail, saying so

    def settle(self, batch: Batch[Row], outcomes: Sequence[Outcome], mine: Sequence[bool]) -> None:
        pass  # the events left the queue when they were claimed

    def answers_for_me(self) -> list[tuple[Row, Outcome]]:
        return []

    def left(self, cause: str) -> Left:
        return Left(
            logging.ERROR,
            f"the close deadline passed before the API answered; last cause: {cause}",
            f"the ingester was closed before it was acknowledged (last cause: {cause})",
        )

    def close(self) -> None:
        for queue in (self._seqs, self._keys, self._payloads, self._identities):
            queue.clear()


class SpoolStore:
    """A Spool (spool.py) as the engine's store.

    This process's own events are committed to its journal (journal.py: one write each, no
    SQLite transaction) and delivered from memory; once answered, the journal says so (the
    rejected ones move into the spool's rejected table). What the database holds (events
    processes left at close or by dying, which a claim takes over, imports included) is
    claimed under a lease and settled there: created rows deleted, rejected ones kept with
    the reason, answers for events another live process submitted left for it. At close,
    this process's events still unanswered move into the database, for any process to send.

    Without a journal (Windows: no way to tell a live process's journal from a dead one's)
    every event goes through the database."""

    shared = True
    bounded = False
    inline = False
    where = " from the spool"

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.lease = spool.lease
        self._journal = spool.open_journal()
        # A journal write at process-crash durability is cheap and never waits: the drivers
        # make it in submit() itself, no group commit, no thread.
        self.append_inline = self._journal is not None and spool.durability == "process-crash"
        self._lock = threading.Lock()
        self._own = MemoryStore()  # this process's events not yet claimed (rows: journal n)
        self._submitted: dict[int, float] = {}  # own events not yet answered: when (wall)
        self._released: list[Batch[Row]] = []  # own batches given back at the deadline
        self._moves = 0
        self._next_look = 0.0  # when to look in the database again while own events wait

    # -- appending ----------------------------------------------------------------------------

    def append(self, key: str, payload: bytes, identity: SentFields | None) -> Row:
        journal = self._journal
        if journal is None:
            return (self.spool.append(key, payload), key)
        now = time.time()
        with self._lock:  # the one-event case of _journaled(): a submit() each
            try:
                n = journal.append_one(key, payload, now)
            except OSError as error:
                raise os_error(self.spool.path, "store events", error) from error
            self._own.append_as(n, key, payload, identity)
            self._submitted[n] = now
        return n

    def append_many(self, events: Sequence[tuple[str, bytes, SentFields | None]]) -> list[Row]:
        if self._journal is None:
            # One transaction, so one commit (and at power-loss durability one fsync) for all.
            seqs = self.spool.append_many([(key, payload) for key, payload, _ in events])
            return [(seq, event[0]) for seq, event in zip(seqs, events, strict=True)]
        return self._journaled(events)

    def _journaled(self, events: Sequence[tuple[str, bytes, SentFields | None]]) -> list[Row]:
        journal = self._journal
        assert journal is not None
        now = time.time()
        with self._lock:
            try:
                ns = journal.append([(key, payload) for key, payload, _ in events], now)
            except OSError as error:
                raise os_error(self.spool.path, "store events", error) from error
            own, submitted = self._own, self._submitted
            for n, (key, payload, identity) in zip(ns, events, strict=True):
                own.append_as(n, key, payload, identity)
                submitted[n] = now
        return ns  # type: ignore[return-value]  # list[int] is a list of rows

    # -- claiming -----------------------------------------------------------------------------

    def claim(self, max_count: int, max_bytes: int) -> Batch[Row]:
        """This process's own events first; the database's when none wait, and every
        LOOK_EVERY seconds while they do (so that what others left is not starved)."""
        own = self.claim_now(max_count, max_bytes)
        if own is not None:
            return own
        if self._journal is not None:
            with self._lock:
                self._next_look = time.monotonic() + LOOK_EVERY
        claimed = self.spool.claim(max_count, max_bytes)
        if not claimed and self._journal is not None:
            with self._lock:
                return self._own.claim(max_count, max_bytes)
        # No identities: a handle is looked up by row, and a recovered row's request is not
        # in memory.
        return Batch.of(
            (event.key, event.payload, (event.seq, event.key), None) for event in claimed
        )

    def claim_now(self, max_count: int, max_bytes: int) -> Batch[Row] | None:
        """claim() when it needs no I/O (own events wait, no look in the database is due),
        for the engine to make itself; None: call claim()."""
        if self._journal is None:
            return None
        with self._lock:
            if len(self._own) and time.monotonic() < self._next_look:
                return self._own.claim(max_count, max_bytes)
        return None

    def settle_now(self, batch: Batch[Row], outcomes: Sequence[Outcome]) -> bool:
        """settle() when it needs no I/O but a copy into the journal's mapping (own events,
        all created, at process-crash durability; a new segment, every few MiB, is a system
        call): whether it did; False: call settle()."""
        if not (self.append_inline and _journaled(batch)):
            return False
        if any(isinstance(outcome, Exception) for outcome in outcomes):
            return False  # a rejection moves into the database
        try:
            self._settle_own(batch, outcomes)
        except Exception:  # settle() tries again, and reports what fails
            return False
        return True

    def renew(self, batch: Batch[Row]) -> None:
        if not _journaled(batch):
            self.spool.renew(_events(batch))  # own events are held while this process lives

    def release(self, batch: Batch[Row]) -> None:
        if _journaled(batch):
            with self._lock:
                self._released.append(batch)  # close() moves them into the database
            return
        self.spool.release(_events(batch))

    # -- settling -----------------------------------------------------------------------------

    def settle(self, batch: Batch[Row], outcomes: Sequence[Outcome], mine: Sequence[bool]) -> None:
        if _journaled(batch):
            self._settle_own(batch, outcomes)
            return
        events = _events(batch)
        delivered: list[SpooledEvent] = []
        rejected: list[tuple[SpooledEvent, str]] = []
        for event, outcome in zip(events, outcomes, strict=True):
            if isinstance(outcome, Exception):
                rejected.append((event, reason_of(outcome)))
            else:
                delivered.append(event)
        answers = answers_for_others(events, outcomes, mine)
        self.spool.settle(delivered, rejected, answers)

    def _settle_own(self, batch: Batch[Row], outcomes: Sequence[Outcome]) -> None:
        """Created: the journal says so. Rejected: into the rejected table, by a move."""
        journal = self._journal
        assert journal is not None
        created: list[int] = []
        rejected: list[tuple[int, str, bytes, str]] = []
        for n, key, payload, outcome in zip(
            batch.rows, batch.keys, batch.payloads, outcomes, strict=True
        ):
            if isinstance(outcome, Exception):
                rejected.append((n, key, payload, reason_of(outcome)))  # type: ignore[arg-type]
            else:
                created.append(n)  # type: ignore[arg-type]
        # The created first: if the move then fails, the engine tries the whole settle again,
        # and a SETTLED record written twice changes nothing, where a move made twice would
        # keep a rejected event twice.
        with self._lock:
            try:
                journal.settled(created)
            except OSError as error:
                raise os_error(self.spool.path, "record the API's answer", error) from error
            for n in created:
                self._submitted.pop(n, None)
            if rejected:
                self._move(rejected)

    def _move(
        self,
        rejected: Sequence[tuple[int, str, bytes, str]],
        pending: Sequence[tuple[int, str, bytes]] = (),
    ) -> None:
        """Under _lock: own events into the database (pending, or rejected with a reason),
        the journal's MOVING record first, so that neither a crash nor a failed transaction
        loses or doubles one."""
        journal = self._journal
        assert journal is not None
        self._moves += 1
        move = self._moves
        ns = [event[0] for event in pending] + [event[0] for event in rejected]
        try:
            journal.moving(move, ns)
        except OSError as error:
            raise os_error(self.spool.path, "store events", error) from error
        at = self._submitted
        self.spool.move_from_journal(
            journal,
            move,
            [(key, payload, at.get(n, 0.0)) for n, key, payload in pending],
            [(key, payload, at.get(n, 0.0), reason) for n, key, payload, reason in rejected],
        )
        journal.forget(ns)
        for n in ns:
            at.pop(n, None)

    def answers_for_me(self) -> list[tuple[Row, Outcome]]:
        return [((a.seq, a.key), outcome_of(a)) for a in self.spool.answers_for_me()]

    def left(self, cause: str) -> Left:
        path = self.spool.path
        return Left(
            logging.WARNING,
            f"close deadline passed; last cause: {cause}; they stay in the spool {path} "
            "and the next ingester delivers them",
            f"closed before the event was acknowledged (last cause: {cause}); it stays in "
            f"the spool {path}",
        )

    def close(self) -> None:
        """Own events still unanswered (waiting, or given back at the deadline) move into
        the database; then the journal goes. If that fails (a full disk), the journal stays,
        and the next claim of another process (or the next ingester) imports it."""
        journal = self._journal
        try:
            if journal is not None:
                with self._lock:
                    self._close_journal(journal)
        finally:
            self.spool.close()

    def _close_journal(self, journal: Journal) -> None:
        left = self._own.claim(len(self._own), sys.maxsize)
        batches = [*self._released, left]
        pending = [
            (n, key, payload)
            for batch in batches
            for n, key, payload in zip(batch.rows, batch.keys, batch.payloads, strict=True)
        ]
        try:
            if pending:
                self._move([], pending)  # type: ignore[arg-type]  # rows are journal numbers
        except (OSError, SpoolError) as error:
            logger.warning(
                "spool %s: %d events stay in this process's journal (%s); the next ingester "
                "delivers them",
                self.spool.path,
                len(pending),
                error,
            )
            journal.close(remove=False)
            return
        self._released = []
        if journal.outstanding:  # still with a sender that never ended: leave it
            journal.close(remove=False)
            return
        journal.close(remove=True)
        with contextlib.suppress(SpoolError):
            self.spool.forget_journal(journal)


# How often a store with events of its own waiting still looks in the database for what
# other processes left (the engine's flush_interval paces the looks when none wait).
LOOK_EVERY: Final = 1.0


def _journaled(batch: Batch[Row]) -> bool:
    """A batch of this process's own journaled events (rows are journal numbers)."""
    return bool(batch.rows) and type(batch.rows[0]) is int


def _take(queue: deque[Any], count: int) -> list[Any]:
    """The first count items of queue, which leave it."""
    pop = queue.popleft
    return [pop() for _ in range(count)]


def _events(batch: Batch[Row]) -> list[SpooledEvent]:
    return [
        SpooledEvent(row[0], key, payload)  # type: ignore[index]  # a SpoolStore's (seq, key)
        for row, key, payload in zip(batch.rows, batch.keys, batch.payloads, strict=True)
    ]


def reason_of(outcome: Exception) -> str:
    """The reason a rejected event is kept with: the API's, else the error's text."""
    reason: Any = getattr(outcome, "reason", None)
    return reason if isinstance(reason, str) and reason else str(outcome)


def answers_for_others(
    events: Sequence[SpooledEvent], outcomes: Sequence[Outcome], mine: Sequence[bool]
) -> list[Answer]:
    """The answers to leave in the spool for the events of an answered batch that this
    process did not submit (it holds no handle for them)."""
    answers: list[Answer] = []
    for index, (event, outcome, own) in enumerate(zip(events, outcomes, mine, strict=True)):
        if own:
            continue
        if isinstance(outcome, Exception):
            answers.append(Answer(event.seq, event.key, None, reason_of(outcome), index))
        else:
            # json.dumps, not encode_json: it keeps what the API sent (NaN included, and lone
            # surrogates escaped), and decode_json reads back exactly that.
            created = json.dumps(outcome, separators=(",", ":")).encode()
            answers.append(Answer(event.seq, event.key, created, None, index))
    return answers


def outcome_of(answer: Answer) -> Outcome:
    """What the handle of an event another process sent resolves to: the created event's
    JSON, or the rejection (whole-batch refusals included: only their text crosses over)."""
    if answer.created is not None:
        created: CreatedJson = decode_json(answer.created)
        return created
    reason = answer.reason or "the API rejected it"
    return EventRejectedError(reason, index=answer.index, idempotency_key=answer.key)


def watch(store: Store, changed: Callable[[], object]) -> Callable[[], None]:
    """Have changed() called whenever the store learns that other processes added events (the
    PostgreSQL outbox's NOTIFY), when it offers that (an optional `watch(changed)` that
    returns the function that stops it); the function that stops it. Without it, polling
    every flush_interval is all there is."""
    start: Any = getattr(store, "watch", None)
    if start is None:
        return stop_nothing
    stop: Callable[[], None] = start(changed)
    return stop


def stop_nothing() -> None:
    """What watch() returns for a store that offers no watch (and a driver holds before it
    watches)."""


def reopen(store: Store) -> Store:
    """A caller's store (UsageIngester(store=...)) for a forked child: its reopen(), a new
    store on the same data that shares no connection with the parent's."""
    fresh: Any = getattr(store, "reopen", None)
    if fresh is None:
        raise TypeError(f"{type(store).__name__} has no reopen(): it cannot be used after fork()")
    reopened: Store = fresh()
    return reopened
