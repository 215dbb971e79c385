"""Delivery through a spool (spool.py): what `UsageIngester(client, spool=PATH)` and
`AsyncUsageIngester(client, spool=PATH)` do instead of keeping events in memory.

submit() commits the event to the spool and returns; senders claim batches from the spool (in
order, under a lease), send them, and settle each row once the API's answer for it is known:
created rows are deleted, rejected ones moved to the rejected table with the reason. A batch
that gets no answer is retried under the client's retry policy, its lease renewed meanwhile;
at the close deadline it is released and stays in the spool for the next ingester.

Rows an earlier process left (or another process abandoned) are claimed like any other and
delivered without handles; stats().recovered counts them. When their submitter is still alive
(another process took them over from a lagging one, or `paygentic-usage spool drain` ran
beside it), the answer is left in the spool for it, and its sender threads or tasks resolve
the handles from there (Spool.answers_for_me) whenever they find nothing to claim, and at
close.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .._runtime.jsonbody import decode_json
from .._runtime.transport import asend, send
from ..client import AuthenticatedClient, Client
from ..errors import ApiError, EventRejectedError, IngesterClosedError, SpoolError
from .core import (
    GIVE_UP_GRACE,
    Batch,
    Counters,
    CreatedJson,
    FailAll,
    FailureLog,
    IngestStats,
    Resolved,
    Retry,
    Verdict,
    batch_body,
    send_kwargs,
    undelivered_message,
    verdict_of_exception,
    verdict_of_response,
)
from .handles import wait_handles
from .spool import Answer, Durability, Spool, SpooledEvent

logger = logging.getLogger("paygentic_client.ingest")

H = TypeVar("H")
_ENVELOPE = len(b'{"events":[]}')


@dataclass(frozen=True)
class Settlement:
    """What to do with a batch after an answer: rows to delete, rows to move to rejected
    (with the reason), and the outcome for each row's handle (if this process has it)."""

    delivered: list[SpooledEvent]
    rejected: list[tuple[SpooledEvent, str]]
    outcomes: list[CreatedJson | Exception]


def settlement(batch: Sequence[SpooledEvent], verdict: Resolved | FailAll) -> Settlement | None:
    """The settlement of an answered batch; None for a FailAll that is not the API's answer
    (an unexpected exception): those rows are released, not rejected."""
    if isinstance(verdict, FailAll):
        if not isinstance(verdict.error, ApiError):
            return None
        reason = str(verdict.error)
        return Settlement([], [(event, reason) for event in batch], [verdict.error] * len(batch))
    delivered: list[SpooledEvent] = []
    rejected: list[tuple[SpooledEvent, str]] = []
    for event, outcome in zip(batch, verdict.outcomes, strict=True):
        if isinstance(outcome, Exception):
            rejected.append((event, getattr(outcome, "reason", None) or str(outcome)))
        else:
            delivered.append(event)
    return Settlement(delivered, rejected, verdict.outcomes)


def answers_for_others(
    batch: Sequence[SpooledEvent], plan: Settlement, foreign: Callable[[SpooledEvent], bool]
) -> list[Answer]:
    """The answers to leave in the spool for the events of an answered batch that this
    process did not submit (foreign: it holds no handle for them)."""
    reasons = {(event.seq, event.key): reason for event, reason in plan.rejected}
    answers: list[Answer] = []
    for index, (event, outcome) in enumerate(zip(batch, plan.outcomes, strict=True)):
        if not foreign(event):
            continue
        if isinstance(outcome, Exception):
            reason = reasons[(event.seq, event.key)]
            answers.append(Answer(event.seq, event.key, None, reason, index))
        else:
            # json.dumps, not encode_json: it keeps what the API sent (NaN included, and lone
            # surrogates escaped), and decode_json reads back exactly that.
            created = json.dumps(outcome, separators=(",", ":")).encode()
            answers.append(Answer(event.seq, event.key, created, None, index))
    return answers


def outcome_of(answer: Answer) -> CreatedJson | Exception:
    """What the handle of an event another process sent resolves to: the created event's
    JSON, or the rejection (whole-batch refusals included: only their text crosses over)."""
    if answer.created is not None:
        created: CreatedJson = decode_json(answer.created)
        return created
    reason = answer.reason or "the API rejected it"
    return EventRejectedError(reason, index=answer.index, idempotency_key=answer.key)


class LeaseSchedule:
    """When a batch that is being retried needs its claim renewed: once a third of the lease
    has passed since the claim or the last renewal. A renewal happens only between attempts,
    so the other two thirds cover an attempt and a wait that run long; a claim that ran out
    lets another process take the rows over and send the same keys again.

    Both drivers ask it between attempts; the clock is a parameter so that the schedule is
    tested without waiting for a lease to run out."""

    __slots__ = ("_clock", "_interval", "_last")

    def __init__(self, lease: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._interval = lease / 3
        self._last = clock()  # the claim

    def due(self) -> bool:
        """Whether the claim should be renewed now."""
        return self._clock() - self._last > self._interval

    def renewed(self) -> None:
        """The claim was renewed just now."""
        self._last = self._clock()


def as_batch(batch: Sequence[SpooledEvent]) -> Batch[None]:
    """The claimed rows as core's Batch (no handles and no identities: a handle is looked up
    by seq, and a recovered row's request is not in memory)."""
    return Batch.of((event.key, event.payload, None, None) for event in batch)


class SpoolSender:
    """The threaded ingester's delivery through a spool: submit() commits, max_in_flight
    sender threads claim and send. Used by UsageIngester when it gets spool=."""

    def __init__(
        self,
        client: AuthenticatedClient | Client,
        path: str | os.PathLike[str],
        *,
        durability: Durability,
        lease: float,
        max_batch_size: int,
        max_batch_bytes: int,
        flush_interval: float,
        max_in_flight: int,
        new_handle: Callable[[], Any],
        set_outcome: Callable[[Any, CreatedJson | Exception], int],
        adopt: bool = False,
    ) -> None:
        self.spool = Spool(path, durability=durability, lease=lease, adopt=adopt)
        self._client = client
        self._max_batch_size = max_batch_size
        self._max_batch_bytes = max_batch_bytes
        self._flush_interval = flush_interval
        self._new_handle = new_handle
        self._set_outcome = set_outcome
        self.counters = Counters()
        self.failures = FailureLog(logger)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._handles: dict[tuple[int, str], Any] = {}  # this process's unresolved events
        self._unclaimed = 0  # submitted here and not yet claimed (approximately)
        self._first_unclaimed = 0.0
        self._asked = False  # flush() or close() asked for a claim now
        self._closing = False
        self._abandon = threading.Event()
        self._threads = [
            threading.Thread(target=self._send_loop, name=f"paygentic-spool-send-{n}", daemon=True)
            for n in range(max_in_flight)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, key: str, payload: bytes) -> Any:
        handle = self._new_handle()
        with self._lock:
            if self._closing:
                raise IngesterClosedError("the ingester is closed", key)
            # Under the lock: a sender must not claim and settle the row before its handle
            # is known. The append raises SpoolError (nothing stored) before any of this.
            seq = self.spool.append(key, payload)
            self._handles[(seq, key)] = handle
            self.counters.submitted += 1
            if not self._unclaimed:
                self._first_unclaimed = time.monotonic()
            self._unclaimed += 1
            if self._full():
                self._wake.notify()
        return handle

    def pending_handles(self) -> list[Any]:
        with self._lock:
            self._first_unclaimed = 0.0  # flush(): send what is there now
            self._asked = True  # and look for answers other processes left, even if none is
            self._wake.notify_all()
            return list(self._handles.values())

    def stats(self) -> IngestStats:
        with self._lock:
            return self.counters.snapshot()

    def close(self, deadline: float | None) -> None:
        """Deliver what this process submitted until the deadline, then release the rest
        (it stays in the spool) and fail its handles, saying so."""
        with self._lock:
            self._closing = True
            self._asked = True
            handles = list(self._handles.values())
            self._wake.notify_all()
        wait_handles(handles, _remaining(deadline))
        self._abandon.set()
        with self._lock:
            self._wake.notify_all()
        # A request already on the wire gets GIVE_UP_GRACE seconds to be answered.
        grace_end = time.monotonic() + GIVE_UP_GRACE
        for thread in self._threads:
            thread.join(_remaining(grace_end))
        self._take_last_answers()
        with self._lock:
            left = dict(self._handles)
            self._handles.clear()
        if left:
            keys = [key for _, key in left]
            cause = self.failures.last_reason or "no answer yet"
            logger.warning(
                undelivered_message(
                    keys,
                    f"close deadline passed; last cause: {cause}; they stay in the spool "
                    f"{self.spool.path} and the next ingester on it delivers them",
                )
            )
            for (_, key), handle in left.items():
                error = IngesterClosedError(
                    f"closed before the event was acknowledged (last cause: {cause}); it stays "
                    f"in the spool {self.spool.path} and will be delivered from there",
                    key,
                )
                error.__cause__ = self.failures.last_error
                self.counters.failed += self._set_outcome(handle, error)
        if not any(thread.is_alive() for thread in self._threads):
            self.spool.close()  # else a stuck sender still uses it; the process exit closes it

    # -- senders ------------------------------------------------------------------------------

    def _send_loop(self) -> None:
        while not self._abandon.is_set():
            self._wait_for_batch()
            if self._abandon.is_set():
                return
            with self._lock:
                counted = self._unclaimed
                self._asked = False
            batch = self.spool.claim(self._max_batch_size, self._max_batch_bytes - _ENVELOPE)
            if not batch:
                self._found_nothing_to_claim(counted)
                continue
            with self._lock:
                self._unclaimed = max(0, self._unclaimed - len(batch))
                self._first_unclaimed = time.monotonic()
            try:
                self._deliver(batch)
            except Exception:  # a bug: the rows stay pending (released), for a later try
                logger.exception("delivering a batch from the spool failed unexpectedly")
                self.spool.release(batch)

    def _found_nothing_to_claim(self, counted: int) -> None:
        """None of the `counted` events thought unclaimed was there to claim: another process
        holds them or has answered them. Counting them still would make the senders claim
        again at once, in a loop of write transactions (24,000 a second, measured) until
        close; the answers another process left are read instead."""
        with self._lock:
            self._unclaimed = max(0, self._unclaimed - counted)
        self._take_answers()

    def _take_answers(self) -> None:
        """Resolve the handles of this process's events that another process answered."""
        answers = self.spool.answers_for_me()
        if answers:
            with self._lock:
                handles = [self._handles.pop((a.seq, a.key), None) for a in answers]
            self._resolve(handles, [outcome_of(answer) for answer in answers])

    def _resolve(self, handles: Sequence[Any], outcomes: Sequence[CreatedJson | Exception]) -> int:
        """Resolve each handle with its outcome and count them; returns how many had no
        handle here (their answer was another process's to get)."""
        delivered = failed = missing = 0
        for handle, outcome in zip(handles, outcomes, strict=True):
            if handle is None:
                missing += 1
            elif isinstance(outcome, Exception):
                failed += self._set_outcome(handle, outcome)
            else:
                delivered += self._set_outcome(handle, outcome)
        with self._lock:
            self.counters.delivered += delivered
            self.counters.failed += failed
        return missing

    def _full(self) -> bool:
        return self._unclaimed >= self._max_batch_size

    def _wait_for_batch(self) -> None:
        """Until a full batch of this process's events waits, the oldest of them waited
        flush_interval, flush() or close() asks, or flush_interval passed (rows of other
        processes, recovered ones, answers other processes left)."""
        with self._lock:
            end = time.monotonic() + self._flush_interval

            def ready() -> bool:
                if self._abandon.is_set() or self._asked or self._full():
                    return True
                oldest = self._first_unclaimed + self._flush_interval
                return self._unclaimed > 0 and (self._closing or time.monotonic() >= oldest)

            while not ready() and (remaining := end - time.monotonic()) > 0:
                self._wake.wait(remaining)

    def _deliver(self, batch: list[SpooledEvent]) -> None:
        items = as_batch(batch)
        body = batch_body(items)
        attempt = 1
        lease = LeaseSchedule(self.spool.lease)
        while True:
            verdict = self._send(body, items)
            if not isinstance(verdict, Retry):
                self._settle(batch, verdict)
                return
            with self._lock:
                self.counters.retried_batches += 1
            delay = self._client.retry_policy.wait_before(attempt, verdict.retry_after)
            self.failures.failed(len(batch), verdict, delay)
            attempt += 1
            if self._abandon.wait(delay):
                self.spool.release(batch)  # stays pending: the next ingester sends it
                return
            if lease.due():
                self.spool.renew(batch)
                lease.renewed()

    def _send(self, body: bytes, items: Batch[None]) -> Verdict:
        try:
            response = send(self._client, send_kwargs(body), max_retries=0)
        except Exception as error:
            return verdict_of_exception(error)
        return verdict_of_response(response, items, self._client)

    def _settle(self, batch: list[SpooledEvent], verdict: Resolved | FailAll) -> None:
        plan = settlement(batch, verdict)
        if plan is None:
            assert isinstance(verdict, FailAll)
            logger.error("a batch from the spool could not be sent: %s", verdict.error)
            self.spool.release(batch)
            return
        with self._lock:
            mine = {(event.seq, event.key) for event in batch} & self._handles.keys()
        answers = answers_for_others(batch, plan, lambda e: (e.seq, e.key) not in mine)
        # The spool first: a handle never says "created" for a row that is still pending.
        self.spool.settle(plan.delivered, plan.rejected, answers)
        with self._lock:
            handles = [self._handles.pop((event.seq, event.key), None) for event in batch]
        recovered = self._resolve(handles, plan.outcomes)
        with self._lock:
            self.counters.recovered += recovered

    def _take_last_answers(self) -> None:
        """At close: the answers other processes left since the senders last looked."""
        try:
            self._take_answers()
        except SpoolError as error:  # the handles still get an answer: the close's error
            logger.error("could not read the answers other processes left: %s", error)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class AsyncSpoolSender:
    """The asyncio twin of SpoolSender: the same spool work, all of it in one dedicated
    thread (an executor of one worker), so the event loop never waits on SQLite."""

    def __init__(
        self,
        client: AuthenticatedClient | Client,
        path: str | os.PathLike[str],
        *,
        durability: Durability,
        lease: float,
        max_batch_size: int,
        max_batch_bytes: int,
        flush_interval: float,
        max_in_flight: int,
        new_handle: Callable[[], Any],
    ) -> None:
        self._path = path
        self._durability: Durability = durability
        self._lease = lease
        self._client = client
        self._max_batch_size = max_batch_size
        self._max_batch_bytes = max_batch_bytes
        self._flush_interval = flush_interval
        self._max_in_flight = max_in_flight
        self._new_handle = new_handle
        self.counters = Counters()
        self.failures = FailureLog(logger)
        self._worker = concurrent.futures.ThreadPoolExecutor(1, "paygentic-spool-sqlite")
        self.spool: Spool | None = None
        self._handles: dict[tuple[int, str], Any] = {}
        self._unclaimed = 0
        self._wake = asyncio.Event()
        self._asked = False  # flush() asked for a claim now
        self._closing = False
        self._abandon = asyncio.Event()
        self._senders: list[asyncio.Task[None]] = []

    async def open(self) -> None:
        """Open the spool (in the worker) and start the sender tasks; idempotent."""
        if self.spool is None:
            self.spool = await self._run(
                lambda: Spool(self._path, durability=self._durability, lease=self._lease)
            )
            loop = asyncio.get_running_loop()
            self._senders = [
                loop.create_task(self._send_loop()) for _ in range(self._max_in_flight)
            ]

    async def _run(self, work: Callable[[], H]) -> H:
        return await asyncio.get_running_loop().run_in_executor(self._worker, work)

    def _spool(self) -> Spool:
        assert self.spool is not None
        return self.spool

    async def submit(self, key: str, payload: bytes) -> Any:
        if self._closing:
            raise IngesterClosedError("the ingester is closed", key)
        await self.open()
        spool = self._spool()
        seq = await self._run(lambda: spool.append(key, payload))
        handle = self._new_handle()
        # No await between the append and this: the senders run on this loop too.
        self._handles[(seq, key)] = handle
        self.counters.submitted += 1
        self._unclaimed += 1
        if self._unclaimed >= self._max_batch_size:
            self._wake.set()
        return handle

    def pending_handles(self) -> list[Any]:
        self._asked = True  # flush(): claim now, and look for answers other processes left
        self._wake.set()
        return list(self._handles.values())

    def stats(self) -> IngestStats:
        return self.counters.snapshot()

    async def close(self, timeout: float | None) -> None:
        self._closing = True
        self._wake.set()
        handles = list(self._handles.values())
        if handles:
            await asyncio.wait(handles, timeout=timeout)
        self._abandon.set()
        self._wake.set()
        if self._senders:
            # A request already on the wire gets GIVE_UP_GRACE seconds to be answered.
            await asyncio.wait(self._senders, timeout=GIVE_UP_GRACE)
            for task in self._senders:
                task.cancel()  # its claim runs out; the rows stay pending
        if self.spool is not None:
            await self._take_last_answers(self.spool)
        left = dict(self._handles)
        self._handles.clear()
        if left:
            cause = self.failures.last_reason or "no answer yet"
            where = f"they stay in the spool {self._path} and the next ingester delivers them"
            logger.warning(
                undelivered_message(
                    [key for _, key in left],
                    f"close deadline passed; last cause: {cause}; {where}",
                )
            )
            for (_, key), handle in left.items():
                if not handle.done():
                    error = IngesterClosedError(
                        f"closed before the event was acknowledged (last cause: {cause}); "
                        f"it stays in the spool {self._path}",
                        key,
                    )
                    error.__cause__ = self.failures.last_error
                    handle.set_exception(error)
                    self.counters.failed += 1
        if self.spool is not None:
            await self._run(self.spool.close)
        self._worker.shutdown(wait=False)

    async def _send_loop(self) -> None:
        spool = self._spool()
        budget = self._max_batch_bytes - _ENVELOPE
        while not self._abandon.is_set():
            if self._unclaimed < self._max_batch_size and not (self._closing or self._asked):
                self._wake.clear()
                await _wait_or_timeout(self._wake, self._flush_interval)
            if self._abandon.is_set():
                return
            # flush() sets _asked as well as the wake: the wake is cleared before each wait,
            # so a flush made while every sender was busy sending would be lost with it.
            self._asked = False
            counted = self._unclaimed
            batch = await self._run(lambda: spool.claim(self._max_batch_size, budget))
            if not batch:
                # As SpoolSender._found_nothing_to_claim: no loop of claims, answers read.
                self._unclaimed = max(0, self._unclaimed - counted)
                await self._take_answers(spool)
                if self._closing:  # nothing to claim: wait for the others or the deadline
                    self._wake.clear()
                    await _wait_or_timeout(self._wake, self._flush_interval)
                continue
            self._unclaimed = max(0, self._unclaimed - len(batch))
            try:
                await self._deliver(spool, batch)
            except Exception:
                logger.exception("delivering a batch from the spool failed unexpectedly")
                await self._run(lambda: spool.release(batch))  # noqa: B023

    async def _deliver(self, spool: Spool, batch: list[SpooledEvent]) -> None:
        items = as_batch(batch)
        body = batch_body(items)
        attempt = 1
        lease = LeaseSchedule(spool.lease)
        while True:
            verdict = await self._send(body, items)
            if not isinstance(verdict, Retry):
                await self._settle(spool, batch, verdict)
                return
            self.counters.retried_batches += 1
            delay = self._client.retry_policy.wait_before(attempt, verdict.retry_after)
            self.failures.failed(len(batch), verdict, delay)
            attempt += 1
            if await _wait_or_timeout(self._abandon, delay):
                await self._run(lambda: spool.release(batch))
                return
            if lease.due():
                await self._run(lambda: spool.renew(batch))
                lease.renewed()

    async def _send(self, body: bytes, items: Batch[None]) -> Verdict:
        try:
            response = await asend(self._client, send_kwargs(body), max_retries=0)
        except Exception as error:
            return verdict_of_exception(error)
        return verdict_of_response(response, items, self._client)

    async def _settle(
        self, spool: Spool, batch: list[SpooledEvent], verdict: Resolved | FailAll
    ) -> None:
        plan = settlement(batch, verdict)
        if plan is None:
            assert isinstance(verdict, FailAll)
            logger.error("a batch from the spool could not be sent: %s", verdict.error)
            await self._run(lambda: spool.release(batch))
            return
        answers = answers_for_others(batch, plan, lambda e: (e.seq, e.key) not in self._handles)
        await self._run(lambda: spool.settle(plan.delivered, plan.rejected, answers))
        handles = [self._handles.pop((event.seq, event.key), None) for event in batch]
        self.counters.recovered += self._resolve(handles, plan.outcomes)

    async def _take_answers(self, spool: Spool) -> None:
        """Resolve the handles of this process's events that another process answered."""
        answers = await self._run(spool.answers_for_me)
        handles = [self._handles.pop((a.seq, a.key), None) for a in answers]
        self._resolve(handles, [outcome_of(answer) for answer in answers])

    async def _take_last_answers(self, spool: Spool) -> None:
        """At close: the answers other processes left since the senders last looked."""
        try:
            await self._take_answers(spool)
        except SpoolError as error:  # the handles still get an answer: the close's error
            logger.error("could not read the answers other processes left: %s", error)

    def _resolve(self, handles: Sequence[Any], outcomes: Sequence[CreatedJson | Exception]) -> int:
        """Resolve each handle with its outcome (unless its caller cancelled it) and count
        them; returns how many had no handle here (their answer was another's to get)."""
        missing = 0
        for handle, outcome in zip(handles, outcomes, strict=True):
            if handle is None:
                missing += 1
            elif handle.done():
                continue
            elif isinstance(outcome, Exception):
                handle.set_exception(outcome)
                self.counters.failed += 1
            else:
                handle.set_created(outcome)
                self.counters.delivered += 1
        return missing


async def _wait_or_timeout(event: asyncio.Event, timeout: float) -> bool:
    """Whether the event got set within timeout seconds."""
    try:
        await asyncio.wait_for(event.wait(), timeout)
    except TimeoutError:
        return False
    return True
