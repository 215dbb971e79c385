"""AsyncUsageIngester: the asyncio driver of the delivery engine (engine.py).

It runs as tasks on the running event loop, never in a thread of its own, and sends with the
client's async httpx client; with a spool, every SQLite call runs in one dedicated thread (an
executor of one worker), so the loop never waits on SQLite. What is sent when and what an
answer means is the engine's: this module only moves bytes and time. There is no interpreter
exit hook (the loop is gone by then): use `async with` or `await close()`.

fork(): an event loop does not survive fork() (its selector and its tasks are the parent's);
create the AsyncUsageIngester in the process that runs its loop (after the fork). One made
before a fork starts afresh in the child, as UsageIngester does: the parent's queued events
are not sent from the child, and the spool is opened again on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from .._runtime.hooks import DEFAULT_STALLED_AFTER, RejectedHook, StalledHook
from .._runtime.transport import asend
from ..client import AuthenticatedClient, Client
from ..errors import IngesterClosedError
from ..models.create_usage_event_request import CreateUsageEventRequest
from . import forks
from .core import (
    DEFAULT,
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_MAX_BATCH_BYTES,
    MAX_BATCH_SIZE,
    Default,
    send_kwargs,
)
from .driver_base import Appended, DriverBase, Hooks
from .driver_flows import Blocking, Cancel, CloseFlow, Join, remaining, sending
from .engine import Engine, Resolve, Send, Settings, StoreCall, Wait
from .group_commit import LoopGroupCommit
from .handles import AsyncEventFuture, resolve_futures
from .spool import DEFAULT_LEASE, Durability, Spool
from .store_plan import StorePlan
from .stores import Row, Store, stop_nothing

__all__ = ["AsyncEventFuture", "AsyncUsageIngester"]


T = TypeVar("T")
Handle = AsyncEventFuture


class AsyncUsageIngester(DriverBase[AsyncEventFuture]):
    """Collects usage events into batches sent by tasks on the running event loop.

    The settings are those of UsageIngester (max_batch_size, max_batch_bytes,
    flush_interval, max_queue, submit_timeout, max_in_flight, close_timeout, spool, durability,
    spool_lease, on_rejected, on_stalled, stalled_after), with the same defaults. With 2
    batches in flight, one was at the API alone about a third of the time (while the other's
    answer was read and decoded and the next batch sent), long enough for the server to go
    idle; with 4 it is ~3%. With a spool, every SQLite call runs in one dedicated thread: the
    event loop only awaits it. The hooks (on_rejected, on_stalled) run on a thread of their
    own, as UsageIngester's do: a hook that uses the loop must hand its work over with
    loop.call_soon_threadsafe.

    How: submit() adds the event to the engine's store; max_in_flight sender tasks, started
    with the first submit() (or `async with`), claim batches and send them.
    """

    kind = "asyncio"
    resolver = staticmethod(resolve_futures)

    def __init__(
        self,
        client: AuthenticatedClient | Client,
        *,
        max_batch_size: int = MAX_BATCH_SIZE,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        flush_interval: float = 1.0,
        max_queue: int = 100_000,
        submit_timeout: float = 30.0,
        max_in_flight: int = 4,
        close_timeout: float | None = DEFAULT_CLOSE_TIMEOUT,
        spool: str | os.PathLike[str] | Spool | None = None,
        durability: Durability = "process-crash",
        spool_lease: float = DEFAULT_LEASE,
        store: Store | None = None,
        on_rejected: RejectedHook | None = None,
        on_stalled: StalledHook | None = None,
        stalled_after: float = DEFAULT_STALLED_AFTER,
    ) -> None:
        self._setup(
            client,
            Settings(max_batch_size, max_batch_bytes, flush_interval, max_queue),
            StorePlan.of(spool, durability, spool_lease, store),
            Hooks(on_rejected, on_stalled, stalled_after),
            max_in_flight=max_in_flight,
            submit_timeout=submit_timeout,
            close_timeout=close_timeout,
        )
        self._guard = contextlib.nullcontext()  # one loop, one thread: nothing to lock
        self._begin()
        forks.track(self)

    def _restart(self) -> None:
        """No engine yet when the plan opens a spool file (the first submit() or `async with`
        opens it, in its thread: there is no loop here); else one at once."""
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None
        self._fork_locks = (self._in_store,)
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False  # sender tasks run: submit() need not start them
        self._waiters: set[asyncio.Future[None]] = set()
        self._group: LoopGroupCommit[Appended[Handle], Row] = LoopGroupCommit()
        plan = self._plan
        self._engine = None if plan.opens_a_file else self._new_engine(plan.open(), self._wake)

    # -- public API -------------------------------------------------------------------------

    async def submit(self, event: CreateUsageEventRequest) -> Handle:
        """Enqueue an event; the future resolves as UsageIngester.submit's does.

        Raises QueueFullError when the queue stayed full for submit_timeout seconds,
        IngesterClosedError after close(), and SpoolError when the spool cannot store it.
        """
        key, payload, billed = self._encoded(event)
        engine = self._engine or await self._open(key)
        if not engine.has_room():
            await self._wait_for_room(engine, key)
        handle = Handle(loop=asyncio.get_running_loop())
        if not engine.store.append_inline:
            await self._append(engine, [(key, payload, billed, handle)])
            return handle
        woke = engine.submit(key, payload, billed, handle)  # raises once closed
        if not self._running:
            self._start_senders(engine)
        if woke or self._turn_due(engine):
            await asyncio.sleep(0)  # let the senders run (see YIELD_EVERY)
        return handle

    async def submit_many(self, events: Iterable[CreateUsageEventRequest]) -> list[Handle]:
        """Enqueue several events; their futures, in order (each resolves as submit()'s).
        With a spool they are committed in one transaction, all or none, before it returns.
        Raises as submit() does; in memory, a QueueFullError leaves the events before the
        one that did not fit enqueued."""
        encoded = [self._encoded(event) for event in events]
        if not encoded:
            return []
        engine = self._engine or await self._open(encoded[0][0])
        loop = asyncio.get_running_loop()
        if not engine.store.append_inline or not engine.store.bounded:  # all or none
            appended: list[Appended[Handle]] = [(*event, Handle(loop=loop)) for event in encoded]
            await self._append(engine, appended)
            return [event[3] for event in appended]
        handles: list[Handle] = []
        for key, payload, billed in encoded:
            if not engine.has_room():
                await self._wait_for_room(engine, key)
            handles.append(handle := Handle(loop=loop))
            engine.submit(key, payload, billed, handle)
            if not self._running:
                self._start_senders(engine)
        await asyncio.sleep(0)  # let the senders run
        return handles

    async def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued now and wait until every event submitted so far is resolved.
        Returns False if `timeout` seconds passed first."""
        waiting = [] if self._engine is None else self._engine.flush()
        if not waiting:
            return True
        _, not_done = await asyncio.wait(waiting, timeout=timeout)
        return not not_done

    async def close(self, timeout: float | None | Default = DEFAULT) -> None:
        """Flush, then stop the tasks, within `timeout` seconds (default: close_timeout,
        DEFAULT_CLOSE_TIMEOUT = 30 s unless set, as for `async with`; None: no deadline). Events not
        acknowledged by then fail with IngesterClosedError (its __cause__ is the last delivery
        failure) and a log line gives their count, the last cause and every key; with a spool
        they stay in it."""
        flow = self._closing(timeout)
        if flow is not None:
            await self._drive(flow)
        if self._worker is not None:
            self._worker.shutdown(wait=False)

    async def __aenter__(self) -> AsyncUsageIngester:
        self._start_senders(await self._open())  # a bad spool fails here, and recovery starts
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- the engine's loop side ---------------------------------------------------------------

    async def _open(self, key: str | None = None) -> Engine[Handle]:
        """The engine, opening the spool (in its thread) the first time."""
        if self._engine is None:
            if self._closed:
                raise IngesterClosedError("the ingester is closed", key)
            store = await self._run(self._plan.open)
            if self._engine is None:
                self._engine = self._new_engine(store, self._wake)
            else:  # another submit() opened it meanwhile
                await self._run(store.close)
        return self._engine

    async def _append(self, engine: Engine[Handle], events: list[Appended[Handle]]) -> None:
        """Append events to the spool: every submit of one loop turn shares one thread hop
        and one transaction; returns once they are committed and their handles known to the
        engine (registered with no await after the commit: the senders run on this loop too,
        and must not see a claim of these rows before)."""
        if not engine.accepting():
            raise IngesterClosedError("the ingester is closed", events[0][0])
        append_many = engine.store.append_many
        await self._group.run(
            events,
            lambda group: self._run(partial(append_many, [event[:3] for event in group])),
            partial(self._appended, engine),
        )

    def _appended(
        self, engine: Engine[Handle], events: list[Appended[Handle]], rows: list[Row]
    ) -> None:
        self._register(engine, events, rows)
        if not self._running:
            self._start_senders(engine)

    def _start_senders(self, engine: Engine[Handle]) -> None:
        """Sender tasks on the running loop, unless they run already."""
        if self._running or not engine.accepting():
            return
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._drive(sending(engine))) for _ in range(self._max_in_flight)
        ]
        self._running = True  # until the last of them ends (a closing, or its loop's end)
        for task in self._tasks:
            task.add_done_callback(self._sender_ended)
        if engine.store.shared and self._unwatch is stop_nothing:
            self._watch_store(engine.store, partial(_call_soon, loop))

    def _sender_ended(self, _: asyncio.Task[None]) -> None:
        self._running = any(not task.done() for task in self._tasks)

    async def _drive(self, flow: CloseFlow) -> None:
        """Run one of the engine's flows: perform each action it yields, hand back the result."""
        result: Any = None
        while True:
            try:
                action: Any = flow.send(result)
            except StopIteration:
                return
            kind = type(action)
            if kind is Wait:
                await self._wait(action.until)
                result = None
            elif kind is Send:
                try:
                    with action.delivery.current():  # the HTTP attempt's span nests in it
                        result = await asend(self._client, send_kwargs(action.body), max_retries=0)
                except Exception as error:
                    result = error
            elif kind is Resolve:
                result = self._resolve(action)
            elif kind is StoreCall:
                try:
                    result = await self._run(action.call)
                except Exception as error:
                    result = error
            elif kind is Join:
                result = await self._join(action.until)
            elif kind is Cancel:
                for task in self._tasks:
                    task.cancel()  # with a spool, its claim runs out; the rows stay pending
                result = True
            elif kind is Blocking:
                result = await asyncio.to_thread(action.call)

    async def _wait(self, until: float | None) -> None:
        """Until the engine's clock reads `until`, or the engine wakes its waiters."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        timer = None
        if until is not None:
            delay = until - time.monotonic()
            if delay <= 0:
                return
            timer = loop.call_later(delay, _wake_one, waiter)
        self._waiters.add(waiter)
        try:
            await waiter
        finally:
            self._waiters.discard(waiter)
            if timer is not None:
                timer.cancel()

    def _wake(self) -> None:
        for waiter in self._waiters:
            _wake_one(waiter)
        self._waiters.clear()

    async def _join(self, until: float | None) -> bool:
        """Wait for the sender tasks to end, until then; whether they all did."""
        running = [task for task in self._tasks if not task.done()]
        if running:
            await asyncio.wait(running, timeout=remaining(until))
        return all(task.done() for task in self._tasks)

    async def _wait_for_room(self, engine: Engine[Handle], key: str) -> None:
        try:
            async with asyncio.timeout(self._submit_timeout):
                while not engine.has_room() and engine.accepting():
                    await self._wait(None)
        except TimeoutError:
            raise self._queue_full(key) from None

    async def _run(self, work: Callable[[], T]) -> T:
        """work() in the spool's own thread."""
        if self._worker is None:
            self._worker = concurrent.futures.ThreadPoolExecutor(1, "paygentic-spool-sqlite")
        return await asyncio.get_running_loop().run_in_executor(self._worker, self._gated, work)


def _call_soon(loop: asyncio.AbstractEventLoop, method: Callable[[], None]) -> None:
    """From a store's watch thread: method() on the loop."""
    with contextlib.suppress(RuntimeError):  # the loop was closed with the ingester open
        loop.call_soon_threadsafe(method)


def _wake_one(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
