"""AsyncUsageIngester: the asyncio twin of ingest.UsageIngester (see ingest.py's docstring).

It runs as tasks on the running event loop (started by the first submit or by `async with`),
never in a thread, and sends with the client's async httpx client. There is no interpreter
exit hook (the loop is gone by then): use `async with` or `await close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from types import TracebackType
from typing import Final

from ..client import AuthenticatedClient, Client
from ..models.create_usage_event_request import CreateUsageEventRequest
from ..models.usage_event import UsageEvent
from .batching import (
    BATCH_PATH,
    DEFAULT_MAX_BATCH_BYTES,
    GIVE_UP_GRACE,
    MAX_BATCH_SIZE,
    Backoff,
    Counters,
    CreatedJson,
    FailAll,
    IngesterClosedError,
    IngestStats,
    Queued,
    QueueFullError,
    Resolved,
    Verdict,
    batch_body,
    check_settings,
    encode_event,
    fits,
    undelivered_message,
    verdict_of_exception,
    verdict_of_response,
)

logger = logging.getLogger("paygentic_client.ingest")

Handle = asyncio.Future[UsageEvent]
_Item = Queued[Handle]

_FLUSH: Final = "flush"  # send the batch being gathered now
_STOP: Final = "stop"  # send it and stop gathering


class AsyncUsageIngester:
    """Collects usage events into batches sent by tasks on the running event loop.

    The settings are those of UsageIngester (max_batch_size, max_batch_bytes,
    flush_interval, max_queue, submit_timeout, max_in_flight, backoff).
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
        backoff: Backoff | None = None,
    ) -> None:
        check_settings(max_batch_size, max_batch_bytes, flush_interval, max_queue, max_in_flight)
        self._client = client
        self._max_batch_size = max_batch_size
        self._max_batch_bytes = max_batch_bytes
        self._flush_interval = flush_interval
        self._submit_timeout = submit_timeout
        self._backoff = backoff or Backoff()
        self._counters = Counters()
        # asyncio primitives bind to the loop on first use, so they can be made here.
        self._queue: asyncio.Queue[_Item | str] = asyncio.Queue()
        self._room = asyncio.Semaphore(max_queue)
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._abandon = asyncio.Event()
        self._pending: dict[Handle, str] = {}
        self._senders: set[asyncio.Task[None]] = set()
        self._gatherer: asyncio.Task[None] | None = None
        self._closed = False

    # -- public API -------------------------------------------------------------------------

    async def submit(self, event: CreateUsageEventRequest) -> Handle:
        """Enqueue an event; the future resolves as UsageIngester.submit's does.

        Raises QueueFullError when the queue stayed full for submit_timeout seconds, and
        IngesterClosedError after close().
        """
        key, payload = encode_event(event)
        if not fits(0, 0, len(payload), max_size=1, max_bytes=self._max_batch_bytes):
            raise ValueError(f"event {key!r} alone is larger than max_batch_bytes")
        if self._closed:
            raise IngesterClosedError("the ingester is closed", key)
        self._start()
        if self._room.locked():
            try:
                await asyncio.wait_for(self._room.acquire(), self._submit_timeout)
            except TimeoutError:
                raise QueueFullError(
                    f"the ingest queue stayed full for {self._submit_timeout} s; event {key!r} "
                    "was not enqueued"
                ) from None
        else:
            await self._room.acquire()  # free now: no timer needed
        handle: Handle = asyncio.get_running_loop().create_future()
        self._pending[handle] = key
        self._counters.add(submitted=1)
        self._queue.put_nowait(Queued(key, payload, handle))
        return handle

    async def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued now and wait until every event submitted so far is resolved.
        Returns False if `timeout` seconds passed first."""
        waiting = list(self._pending)
        if not waiting:
            return True
        self._queue.put_nowait(_FLUSH)
        _, not_done = await asyncio.wait(waiting, timeout=timeout)
        return not not_done

    async def close(self, timeout: float | None = None) -> None:
        """Flush, then stop the tasks. With a timeout, events not acknowledged within it fail
        with IngesterClosedError and are logged with their idempotency keys."""
        self._closed = True
        if self._gatherer is None or (self._gatherer.done() and not self._senders):
            return
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        self._queue.put_nowait(_STOP)
        if not await self._finished(deadline):
            await self._give_up()

    def stats(self) -> IngestStats:
        return self._counters.snapshot()

    async def __aenter__(self) -> AsyncUsageIngester:
        self._start()
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

    # -- gathering events into batches (one task) -------------------------------------------

    def _start(self) -> None:
        if self._gatherer is None:
            self._gatherer = asyncio.get_running_loop().create_task(self._gather())

    async def _next(self, batch_deadline: float | None) -> _Item | str | None:
        """The next queued item, or None when the batch's deadline comes first."""
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            pass
        if batch_deadline is None:
            return await self._queue.get()
        remaining = batch_deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return None
        try:
            return await asyncio.wait_for(self._queue.get(), remaining)
        except TimeoutError:
            return None

    async def _gather(self) -> None:
        loop = asyncio.get_running_loop()
        batch: list[_Item] = []
        nbytes = 0
        deadline = 0.0
        while True:
            item = await self._next(deadline if batch else None)
            if item is None:  # the oldest event has waited flush_interval
                batch, nbytes = await self._dispatch(batch)
                continue
            if isinstance(item, str):
                batch, nbytes = await self._dispatch(batch)
                if item == _STOP:
                    return
                continue
            self._room.release()
            size = len(item.payload)
            if batch and not fits(
                len(batch),
                nbytes,
                size,
                max_size=self._max_batch_size,
                max_bytes=self._max_batch_bytes,
            ):
                batch, nbytes = await self._dispatch(batch)
            if not batch:
                deadline = loop.time() + self._flush_interval
            batch.append(item)
            nbytes += size
            if len(batch) >= self._max_batch_size:
                batch, nbytes = await self._dispatch(batch)

    async def _dispatch(self, batch: list[_Item]) -> tuple[list[_Item], int]:
        if batch:
            # Waits while max_in_flight batches are out: the queue then fills and submit()
            # pushes back.
            await self._in_flight.acquire()
            task = asyncio.get_running_loop().create_task(self._deliver(batch))
            self._senders.add(task)
            task.add_done_callback(self._sender_done)
        return [], 0

    def _sender_done(self, task: asyncio.Task[None]) -> None:
        self._senders.discard(task)
        self._in_flight.release()

    # -- sending one batch (a task per batch, at most max_in_flight at a time) ---------------

    async def _deliver(self, batch: list[_Item]) -> None:
        try:
            await self._deliver_until_answered(batch)
        except Exception as error:  # a bug must not strand futures
            logger.exception("delivering a batch failed unexpectedly")
            self._resolve(batch, [error] * len(batch))

    async def _deliver_until_answered(self, batch: list[_Item]) -> None:
        body = batch_body(batch)
        attempt = 0
        while not self._abandon.is_set():
            verdict = await self._send(body, batch)
            if isinstance(verdict, Resolved):
                self._resolve(batch, verdict.outcomes)
                return
            if isinstance(verdict, FailAll):
                self._resolve(batch, [verdict.error] * len(batch))
                return
            self._counters.add(retried=1)
            delay = self._backoff.delay(attempt, verdict.retry_after)
            logger.info(
                "batch of %d events failed (%s); sending it again in %.2f s",
                len(batch),
                verdict.reason,
                delay,
            )
            attempt += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._abandon.wait(), delay)
        keys = [item.key for item in batch]
        logger.error(undelivered_message(keys, "the ingester was closed before the API answered"))
        why = "the ingester was closed before the event was acknowledged"
        self._resolve(batch, [IngesterClosedError(why, item.key) for item in batch])

    async def _send(self, body: bytes, batch: list[_Item]) -> Verdict:
        try:
            response = await self._client.get_async_httpx_client().request(
                "POST", BATCH_PATH, content=body, headers={"Content-Type": "application/json"}
            )
        except Exception as error:
            return verdict_of_exception(error)
        return verdict_of_response(response, batch, self._client)

    def _resolve(self, batch: list[_Item], outcomes: list[CreatedJson | Exception]) -> None:
        delivered = failed = 0
        for item, outcome in zip(batch, outcomes, strict=True):
            self._pending.pop(item.handle, None)
            if item.handle.done():  # cancelled by its caller
                continue
            if isinstance(outcome, Exception):
                item.handle.set_exception(outcome)
                failed += 1
            else:
                item.handle.set_result(UsageEvent.from_dict(outcome))
                delivered += 1
        self._counters.add(delivered=delivered, failed=failed)

    # -- closing ----------------------------------------------------------------------------

    async def _finished(self, deadline: float | None) -> bool:
        """Wait (without cancelling anything) for the gatherer and every sender to end."""
        loop = asyncio.get_running_loop()
        while True:
            tasks: set[asyncio.Task[None]] = set(self._senders)
            if self._gatherer is not None and not self._gatherer.done():
                tasks.add(self._gatherer)
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
        for task in [*self._senders, self._gatherer]:
            if task is not None:
                task.cancel()
        stuck = dict(self._pending)
        while not self._queue.empty():
            self._queue.get_nowait()
        if stuck:
            logger.error(undelivered_message(list(stuck.values()), "still queued at close"))
            for handle, key in stuck.items():
                self._pending.pop(handle, None)
                if not handle.done():
                    handle.set_exception(IngesterClosedError("closed before delivery", key))
                    self._counters.add(failed=1)
