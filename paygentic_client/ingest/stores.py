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

import json
import logging
import math
from collections import deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .._runtime.jsonbody import decode_json
from .._runtime.replay import SentFields
from ..errors import EventRejectedError, IngesterClosedError
from .core import Batch, CreatedJson
from .spool import Answer, Spool, SpooledEvent

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
    driver to. shared: other processes add and claim events too, so the engine looks for
    their events and answers every flush_interval. bounded: events wait in memory, so
    max_queue applies. lease: seconds a claim holds (math.inf: forever). where: how log
    lines name it (" from the spool"). A shared store may also offer watch(changed): see
    watch() below."""

    inline: bool
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
    """A Spool (spool.py) as the engine's store: rows are claimed under a lease, settled
    once the API's answer is known (created rows deleted, rejected ones kept with the
    reason), and answers for events another live process submitted are left for it."""

    inline = False
    shared = True
    bounded = False
    where = " from the spool"

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.lease = spool.lease

    def append(self, key: str, payload: bytes, identity: SentFields | None) -> Row:
        return (self.spool.append(key, payload), key)

    def append_many(self, events: Sequence[tuple[str, bytes, SentFields | None]]) -> list[Row]:
        # One transaction, so one commit (and at power-loss durability one fsync) for all.
        seqs = self.spool.append_many([(key, payload) for key, payload, _ in events])
        return [(seq, event[0]) for seq, event in zip(seqs, events, strict=True)]

    def claim(self, max_count: int, max_bytes: int) -> Batch[Row]:
        claimed = self.spool.claim(max_count, max_bytes)
        # No identities: a handle is looked up by row, and a recovered row's request is not
        # in memory.
        return Batch.of(
            (event.key, event.payload, (event.seq, event.key), None) for event in claimed
        )

    def renew(self, batch: Batch[Row]) -> None:
        self.spool.renew(_events(batch))

    def release(self, batch: Batch[Row]) -> None:
        self.spool.release(_events(batch))

    def settle(self, batch: Batch[Row], outcomes: Sequence[Outcome], mine: Sequence[bool]) -> None:
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
        self.spool.close()


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
