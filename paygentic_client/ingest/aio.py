"""AsyncUsageIngester: the asyncio twin of ingest.UsageIngester (see ingest.py's docstring).

It runs as tasks on the running event loop (started when a batch is ready), never in a
thread, and sends with the client's async httpx client. There is no interpreter
exit hook (the loop is gone by then): use `async with` or `await close()`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
from collections.abc import Generator, Sequence
from types import TracebackType
from typing import Any, cast

from .._runtime.replay import SentFields
from .._runtime.transport import asend
from ..client import AuthenticatedClient, Client
from ..errors import IngesterClosedError, QueueFullError
from ..models.create_usage_event_request import CreateUsageEventRequest
from ..models.usage_event import UsageEvent
from .core import (
    DEFAULT_MAX_BATCH_BYTES,
    GIVE_UP_GRACE,
    MAX_BATCH_SIZE,
    NOT_BUILT,
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
from .spool import DEFAULT_LEASE, Durability
from .spooled import AsyncSpoolSender
from .threaded import DEFAULT, DEFAULT_CLOSE_TIMEOUT, Default

logger = logging.getLogger("paygentic_client.ingest")


class AsyncEventFuture(asyncio.Future[UsageEvent]):
    """The handle AsyncUsageIngester.submit returns: an asyncio.Future that resolves to the
    created UsageEvent, or fails with the reason.

    It is resolved with the created event's JSON, or its position in the batch's AnswerBody
    (NOT_BUILT as the Future's own result), and the first result() or await builds the
    UsageEvent from it and keeps it: building one (from_dict) costs more CPU than everything
    else the ingester does for an event, and callers that submit and move on never need it.
    Slots, set by set_created: no __dict__ per handle for the garbage collector.
    """

    __slots__ = ("_answer", "_created", "_event")
    _created: CreatedJson | int | None
    _answer: AnswerBody | None
    _event: UsageEvent | None

    def set_created(self, created: CreatedJson | int, answer: AnswerBody | None = None) -> None:
        """Resolve the future with the created event's JSON, or its position in answer."""
        self._created = created
        self._answer = answer
        self._event = None
        self.set_result(NOT_BUILT)

    def result(self) -> UsageEvent:
        return self._built(super().result())

    def __await__(self) -> Generator[Any, None, UsageEvent]:
        # asyncio.Future's own __await__ (in C) reads the result without calling result().
        return self._built((yield from super().__await__()))

    __iter__ = __await__

    def _built(self, outcome: UsageEvent) -> UsageEvent:
        """The UsageEvent, given what the Future itself resolved to."""
        if outcome is not NOT_BUILT:
            return outcome
        if self._event is None:  # one loop, one thread: nothing to lock
            created = self._created
            if self._answer is not None:
                assert isinstance(created, int)
                created = self._answer.created(created)
                self._answer = None
            assert isinstance(created, dict)
            self._event = UsageEvent.from_dict(created)
            self._created = None
        return self._event


Handle = AsyncEventFuture
_Batch = Batch[Handle]


class AsyncUsageIngester:
    """Collects usage events into batches sent by tasks on the running event loop.

    The settings are those of UsageIngester (max_batch_size, max_batch_bytes,
    flush_interval, max_queue, submit_timeout, max_in_flight, close_timeout, spool, durability,
    spool_lease), except max_in_flight's default: 2 here (4 did not raise the throughput: the
    loop's turns for the sends are the limit, not waiting for answers). With a spool, every
    SQLite call runs in one dedicated thread: the event loop only awaits it.

    How: submit() adds the event to the batch being filled; a full batch, or one whose first
    event waited flush_interval (a loop timer), goes to the ready batches, which up to
    max_in_flight sender tasks take and send. Nothing per event goes through a queue.
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
        max_in_flight: int = 2,
        close_timeout: float | None = DEFAULT_CLOSE_TIMEOUT,
        spool: str | os.PathLike[str] | None = None,
        durability: Durability = "process-crash",
        spool_lease: float = DEFAULT_LEASE,
    ) -> None:
        check_settings(max_batch_size, max_batch_bytes, flush_interval, max_queue, max_in_flight)
        self._spooled: AsyncSpoolSender | None = None
        if spool is not None:
            # Opened (in its thread) by the first submit() or `async with`: no loop yet here.
            self._spooled = AsyncSpoolSender(
                client,
                spool,
                durability=durability,
                lease=spool_lease,
                max_batch_size=max_batch_size,
                max_batch_bytes=max_batch_bytes,
                flush_interval=flush_interval,
                max_in_flight=max_in_flight,
                new_handle=lambda: AsyncEventFuture(loop=asyncio.get_running_loop()),
            )
        self._failures = FailureLog(logger)
        self._close_timeout = close_timeout
        self._client = client
        self._max_batch_size = max_batch_size
        self._max_batch_bytes = max_batch_bytes
        self._flush_interval = flush_interval
        self._max_queue = max_queue
        self._submit_timeout = submit_timeout
        self._max_in_flight = max_in_flight
        self._counters = Counters()
        self._batch: _Batch = Batch()
        self._timer: asyncio.TimerHandle | None = None  # hands on the batch being filled
        self._ready: collections.deque[_Batch] = collections.deque()
        self._waiting = 0  # events in _batch or _ready: not yet taken by a sender
        # asyncio primitives bind to the loop on first use, so they can be made here.
        self._room = asyncio.Event()  # set when a sender takes a batch (or at close)
        self._abandon = asyncio.Event()
        self._pending: dict[Handle, str] = {}
        self._senders: set[asyncio.Task[None]] = set()
        self._closed = False

    # -- public API -------------------------------------------------------------------------

    async def submit(self, event: CreateUsageEventRequest) -> Handle:
        """Enqueue an event; the future resolves as UsageIngester.submit's does.

        Raises QueueFullError when the queue stayed full for submit_timeout seconds, and
        IngesterClosedError after close().
        """
        key, payload, billed = encode_billed(event)
        size = len(payload)
        if not fits(0, 0, size, max_size=1, max_bytes=self._max_batch_bytes):
            raise ValueError(f"event {key!r} alone is larger than max_batch_bytes")
        if self._spooled is not None:
            handle: Handle = await self._spooled.submit(key, payload)
            return handle
        if self._waiting >= self._max_queue and not self._closed:
            await self._wait_for_room(key)
        if self._closed:
            raise IngesterClosedError("the ingester is closed", key)
        loop = asyncio.get_running_loop()
        handle = AsyncEventFuture(loop=loop)
        handed_on = self._add(key, payload, handle, billed, loop)
        self._pending[handle] = key
        self._counters.submitted += 1
        if handed_on or (self._senders and self._counters.submitted % YIELD_EVERY == 0):
            await asyncio.sleep(0)  # let the senders run (see YIELD_EVERY)
        return handle

    async def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued now and wait until every event submitted so far is resolved.
        Returns False if `timeout` seconds passed first."""
        waiting = list(self._pending) if self._spooled is None else self._spooled.pending_handles()
        if not waiting:
            return True
        self._hand_on()
        _, not_done = await asyncio.wait(waiting, timeout=timeout)
        return not not_done

    async def close(self, timeout: float | None | Default = DEFAULT) -> None:
        """Flush, then stop the tasks, within `timeout` seconds (default: close_timeout,
        DEFAULT_CLOSE_TIMEOUT = 30 s unless set, as for `async with`; None: no deadline). Events not
        acknowledged by then fail with IngesterClosedError (its __cause__ is the last delivery
        failure) and a WARNING gives their count, the last cause and every key; with a spool
        they stay in it."""
        if isinstance(timeout, Default):
            timeout = self._close_timeout
        if self._spooled is not None:
            if not self._closed:
                self._closed = True
                await self._spooled.close(timeout)
            return
        self._closed = True
        self._room.set()  # submits waiting for room raise IngesterClosedError
        self._hand_on()
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        if not await self._finished(deadline):
            await self._give_up()

    def stats(self) -> IngestStats:
        if self._spooled is not None:
            return self._spooled.stats()
        return self._counters.snapshot()

    async def __aenter__(self) -> AsyncUsageIngester:
        if self._spooled is not None:
            await self._spooled.open()  # a bad spool fails here, and recovery starts
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncUsageIngester {'closed' if self._closed else 'open'} {self.stats()}>"

    # -- filling batches --------------------------------------------------------------------

    def _add(
        self,
        key: str,
        payload: bytes,
        handle: Handle,
        billed: SentFields,
        loop: asyncio.AbstractEventLoop,
    ) -> bool:
        """Add the event to the batch being filled; whether a batch was handed on."""
        handed_on = False
        count = len(self._batch.keys)  # once: Batch.__len__ is a Python call
        if count and not fits(
            count,
            self._batch.nbytes,
            len(payload),
            max_size=self._max_batch_size,
            max_bytes=self._max_batch_bytes,
        ):
            self._hand_on()
            handed_on = True
            count = 0
        if not count:
            self._timer = loop.call_later(self._flush_interval, self._hand_on)
        self._batch.add(key, payload, handle, billed)
        self._waiting += 1
        if count + 1 >= self._max_batch_size:
            self._hand_on()
            handed_on = True
        return handed_on

    def _hand_on(self) -> None:
        """Give the batch being filled to the senders, starting one if fewer are running than
        max_in_flight (a running sender takes ready batches until there are none)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._batch:
            return
        self._ready.append(self._batch)
        self._batch = Batch()
        if len(self._senders) < self._max_in_flight:
            task = asyncio.get_running_loop().create_task(self._send_ready())
            self._senders.add(task)

    async def _wait_for_room(self, key: str) -> None:
        try:
            async with asyncio.timeout(self._submit_timeout):
                while self._waiting >= self._max_queue and not self._closed:
                    self._room.clear()
                    await self._room.wait()
        except TimeoutError:
            raise QueueFullError(
                f"the ingest queue stayed full for {self._submit_timeout} s; event {key!r} "
                "was not enqueued"
            ) from None

    # -- sending batches (at most max_in_flight sender tasks) --------------------------------

    async def _send_ready(self) -> None:
        try:
            while self._ready:
                batch = self._ready.popleft()
                self._waiting -= len(batch)
                self._room.set()
                await self._deliver(batch)
        finally:
            # Here rather than in a done callback, which runs later: a batch handed on in
            # between would find every sender slot taken and wait for no one.
            self._senders.discard(cast("asyncio.Task[None]", asyncio.current_task()))

    async def _deliver(self, batch: _Batch) -> None:
        try:
            await self._deliver_until_answered(batch)
        except Exception as error:  # a bug must not strand futures
            logger.exception("delivering a batch failed unexpectedly")
            self._resolve(batch, [error] * len(batch))

    async def _deliver_until_answered(self, batch: _Batch) -> None:
        body = batch_body(batch)
        attempt = 1
        while not self._abandon.is_set():
            verdict = await self._send(body, batch)
            if isinstance(verdict, Resolved):
                if verdict.answer is None:
                    self._resolve(batch, verdict.outcomes)
                else:  # the handles keep the answer's bytes, not a dict per event
                    self._resolve(batch, verdict.answer.positions(verdict.outcomes), verdict.answer)
                return
            if isinstance(verdict, FailAll):
                self._resolve(batch, [verdict.error] * len(batch))
                return
            self._counters.retried_batches += 1
            delay = self._client.retry_policy.wait_before(attempt, verdict.retry_after)
            self._failures.failed(len(batch), verdict, delay)
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._abandon.wait(), delay)
        why = f"the close deadline passed before the API answered; {self._last_cause()}"
        logger.error(undelivered_message(batch.keys, why))
        self._resolve(
            batch, [self._closed_error(key, "before it was acknowledged") for key in batch.keys]
        )

    def _last_cause(self) -> str:
        return f"last cause: {self._failures.last_reason or 'no answer yet'}"

    def _closed_error(self, key: str, when: str) -> IngesterClosedError:
        error = IngesterClosedError(f"the ingester was closed {when} ({self._last_cause()})", key)
        error.__cause__ = self._failures.last_error
        return error

    async def _send(self, body: bytes, batch: _Batch) -> Verdict:
        try:
            response = await asend(self._client, send_kwargs(body), max_retries=0)
        except Exception as error:
            return verdict_of_exception(error)
        return verdict_of_response(response, batch, self._client)

    def _resolve(
        self,
        batch: _Batch,
        outcomes: Sequence[CreatedJson | int | Exception],
        answer: AnswerBody | None = None,
    ) -> None:
        delivered = failed = 0
        for handle, outcome in zip(batch.handles, outcomes, strict=True):
            self._pending.pop(handle, None)
            if handle.done():  # cancelled by its caller
                continue
            if isinstance(outcome, Exception):
                handle.set_exception(outcome)
                failed += 1
            else:
                handle.set_created(outcome, answer)
                delivered += 1
        self._counters.delivered += delivered
        self._counters.failed += failed

    # -- closing ----------------------------------------------------------------------------

    async def _finished(self, deadline: float | None) -> bool:
        """Wait (without cancelling anything) for the gatherer and every sender to end."""
        loop = asyncio.get_running_loop()
        while True:
            tasks: set[asyncio.Task[None]] = set(self._senders)
            if not tasks:
                return True
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(tasks, timeout=remaining)

    async def _give_up(self) -> None:
        """The close deadline passed: stop retrying, fail what is left with a log line."""
        self._abandon.set()
        loop = asyncio.get_running_loop()
        await self._finished(loop.time() + GIVE_UP_GRACE)
        for task in self._senders:
            task.cancel()
        stuck = dict(self._pending)
        self._ready.clear()
        if stuck:
            why = f"still queued at the close deadline; {self._last_cause()}"
            logger.error(undelivered_message(list(stuck.values()), why))
            for handle, key in stuck.items():
                self._pending.pop(handle, None)
                if not handle.done():
                    handle.set_exception(self._closed_error(key, "before delivery"))
                    self._counters.failed += 1
