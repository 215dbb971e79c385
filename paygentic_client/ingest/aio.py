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
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Generator, Iterable
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

from .._runtime.hooks import DEFAULT_STALLED_AFTER, RejectedHook, StalledHook, StallWatch
from .._runtime.replay import SentFields
from .._runtime.transport import asend
from ..client import AuthenticatedClient, Client
from ..errors import IngesterClosedError, QueueFullError
from ..models.create_usage_event_request import CreateUsageEventRequest
from ..models.usage_event import UsageEvent
from . import forks
from .core import (
    DEFAULT,
    DEFAULT_CLOSE_TIMEOUT,
    DEFAULT_MAX_BATCH_BYTES,
    GIVE_UP_GRACE,
    MAX_BATCH_SIZE,
    NOT_BUILT,
    YIELD_EVERY,
    AnswerBody,
    CreatedJson,
    Default,
    IngestStats,
    check_settings,
    encode_billed,
    fits,
    send_kwargs,
)
from .engine import Engine, Flow, Resolve, Send, Settings, StoreCall, Wait
from .observe import Reporter
from .spool import DEFAULT_LEASE, Durability, Spool
from .stores import MemoryStore, SpoolStore, Store, reopen, stop_nothing, watch

logger = logging.getLogger("paygentic_client.ingest")

T = TypeVar("T")


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

# An event on its way into a spool: its key, payload, billed fields and handle.
_Appended = tuple[str, bytes, "SentFields | None", Handle]


def _rows_of(events: list[_Appended]) -> list[tuple[str, bytes, SentFields | None]]:
    return [(key, payload, billed) for key, payload, billed, _ in events]


def _check_size(key: str, payload: bytes, max_batch_bytes: int) -> None:
    if not fits(0, 0, len(payload), max_size=1, max_bytes=max_batch_bytes):
        raise ValueError(f"event {key!r} alone is larger than max_batch_bytes")


class AsyncUsageIngester:
    """Collects usage events into batches sent by tasks on the running event loop.

    The settings are those of UsageIngester (max_batch_size, max_batch_bytes,
    flush_interval, max_queue, submit_timeout, max_in_flight, close_timeout, spool, durability,
    spool_lease, on_rejected, on_stalled, stalled_after), except max_in_flight's default: 2
    here (4 did not raise the throughput: the loop's turns for the sends are the limit, not
    waiting for answers). With a spool, every
    SQLite call runs in one dedicated thread: the event loop only awaits it. The hooks
    (on_rejected, on_stalled) run on a thread of their own, as UsageIngester's do: a hook that
    uses the loop must hand its work over with loop.call_soon_threadsafe.

    How: submit() adds the event to the engine's store; max_in_flight sender tasks, started
    with the first submit() (or `async with`), claim batches and send them.
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
        spool: str | os.PathLike[str] | Spool | None = None,
        durability: Durability = "process-crash",
        spool_lease: float = DEFAULT_LEASE,
        store: Store | None = None,
        on_rejected: RejectedHook | None = None,
        on_stalled: StalledHook | None = None,
        stalled_after: float = DEFAULT_STALLED_AFTER,
    ) -> None:
        check_settings(max_batch_size, max_batch_bytes, flush_interval, max_queue, max_in_flight)
        StallWatch(stalled_after)  # raises on a bad value, before anything is opened
        self._hooks: dict[str, Any] = {"on_rejected": on_rejected, "on_stalled": on_stalled}
        self._stalled_after = stalled_after
        self._reporter: Reporter | None = None
        self._client = client
        self._settings = Settings(max_batch_size, max_batch_bytes, flush_interval, max_queue)
        self._max_in_flight = max_in_flight
        self._submit_timeout = submit_timeout
        self._close_timeout = close_timeout
        if store is not None and spool is not None:
            raise ValueError("pass spool= or store=, not both")
        self._given_store = store  # the caller's (the PostgreSQL outbox); a child's reopen()
        self._given_spool = spool if isinstance(spool, Spool) else None
        self._spool_options: dict[str, Any] | None = None
        if isinstance(spool, Spool):
            self._spool_options = {"path": spool.path, "durability": spool.durability}
            self._spool_options["lease"] = spool.lease
        elif spool is not None:
            self._spool_options = {"path": spool, "durability": durability, "lease": spool_lease}
        self._closed = False
        self._reset()
        forks.track(self)

    def _reset(self) -> None:
        """No engine yet with a spool path (it is opened, in its thread, by the first submit()
        or `async with`: there is no loop here); a memory one at once."""
        self._worker: concurrent.futures.ThreadPoolExecutor | None = None
        # Held around every spool call in the worker: a fork waits for it (see forks.py).
        self._in_store = threading.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._running = False  # sender tasks run (see _send_loop)
        self._waiters: set[asyncio.Future[None]] = set()
        # Events waiting for the appender task, by submit() (see _append).
        self._appends: list[tuple[list[_Appended], asyncio.Future[None]]] = []
        self._appender: asyncio.Task[None] | None = None
        self._engine: Engine[Handle] | None = None
        self._unwatch = stop_nothing  # see _start_senders
        if self._given_store is not None:
            self._engine = self._new_engine(self._given_store)
        elif self._given_spool is not None:
            self._engine = self._new_engine(SpoolStore(self._given_spool))
        elif self._spool_options is None:
            self._engine = self._new_engine(MemoryStore())

    def _new_engine(self, store: Store) -> Engine[Handle]:
        if self._reporter is not None:  # a forked child's: the parent's engine is gone
            self._reporter.forget()
        reporter = self._reporter = Reporter(
            "asyncio", store, stall=StallWatch(self._stalled_after), **self._hooks
        )
        engine: Engine[Handle] = Engine(
            store,
            self._client,
            self._settings,
            clock=time.monotonic,
            wake=self._wake,
            observer=reporter,
        )
        spool = store.spool if isinstance(store, SpoolStore) else None
        reporter.watch(
            engine.backlog,
            time.monotonic,
            None if spool is None else lambda: self._gated(spool.status),
        )
        return engine

    # -- public API -------------------------------------------------------------------------

    async def submit(self, event: CreateUsageEventRequest) -> Handle:
        """Enqueue an event; the future resolves as UsageIngester.submit's does.

        Raises QueueFullError when the queue stayed full for submit_timeout seconds,
        IngesterClosedError after close(), and SpoolError when the spool cannot store it.
        """
        key, payload, billed = encode_billed(event)
        _check_size(key, payload, self._settings.max_batch_bytes)
        engine = self._engine or await self._open(key)
        if not engine.has_room():
            await self._wait_for_room(engine, key)
        handle = AsyncEventFuture(loop=asyncio.get_running_loop())
        if not engine.store.inline:
            await self._append(engine, [(key, payload, billed, handle)])
            return handle
        woke = engine.submit(key, payload, billed, handle)  # raises once closed
        if not self._running:
            self._start_senders(engine)
        if woke or (engine.busy() and engine.counters.submitted % YIELD_EVERY == 0):
            await asyncio.sleep(0)  # let the senders run (see YIELD_EVERY)
        return handle

    async def submit_many(self, events: Iterable[CreateUsageEventRequest]) -> list[Handle]:
        """Enqueue several events; their futures, in order (each resolves as submit()'s).
        With a spool they are committed in one transaction, all or none, before it returns.
        Raises as submit() does; in memory, a QueueFullError leaves the events before the
        one that did not fit enqueued."""
        encoded = [encode_billed(event) for event in events]
        for key, payload, _ in encoded:
            _check_size(key, payload, self._settings.max_batch_bytes)
        if not encoded:
            return []
        engine = self._engine or await self._open(encoded[0][0])
        loop = asyncio.get_running_loop()
        if not engine.store.inline:
            appended: list[_Appended] = [
                (key, payload, billed, Handle(loop=loop)) for key, payload, billed in encoded
            ]
            await self._append(engine, appended)
            return [event[3] for event in appended]
        handles: list[Handle] = []
        for key, payload, billed in encoded:
            if not engine.has_room():
                await self._wait_for_room(engine, key)
            handle = Handle(loop=loop)
            engine.submit(key, payload, billed, handle)
            handles.append(handle)
            if not self._running:
                self._start_senders(engine)
        await asyncio.sleep(0)  # let the senders run
        return handles

    async def _append(self, engine: Engine[Handle], events: list[_Appended]) -> None:
        """Append events to the spool: every submit of one loop turn shares one thread hop
        and one transaction (the appender task takes them all); returns once they are
        committed and their handles known to the engine."""
        if not engine.accepting():
            raise IngesterClosedError("the ingester is closed", events[0][0])
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._appends.append((events, committed))
        if self._appender is None or self._appender.done():
            self._appender = asyncio.get_running_loop().create_task(self._append_loop(engine))
        await committed

    async def _append_loop(self, engine: Engine[Handle]) -> None:
        """The appender task: started by the first submit of a loop turn, so it runs once
        that turn's other submits have queued their events too."""
        store = engine.store
        while self._appends:
            group, self._appends = self._appends, []
            events = [event for queued, _ in group for event in queued]
            try:
                rows = await self._run(partial(store.append_many, _rows_of(events)))
            except BaseException as error:  # each submit() of the group raises it
                for _, committed in group:
                    if not committed.done():
                        committed.set_exception(error)
                if not isinstance(error, Exception):  # cancelled: so is what waits next
                    for _, committed in self._appends:
                        committed.cancel()
                    self._appends = []
                    raise
                continue
            # No await from here on: the senders run on this loop too, and must not see the
            # result of a claim of these rows before their handles are registered.
            # Submitters first, then the senders the registrations wake: each submit() resumes
            # before a sender claims, as it did with an append per event.
            for _, committed in group:
                if not committed.done():  # its submit() may have been cancelled
                    committed.set_result(None)
            for (key, payload, billed, handle), row in zip(events, rows, strict=True):
                engine.submit(key, payload, billed, handle, row)
            if not self._running:
                self._start_senders(engine)

    async def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued now and wait until every event submitted so far is resolved.
        Returns False if `timeout` seconds passed first."""
        engine = self._engine
        if engine is None:
            return True
        waiting = engine.flush()
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
        if isinstance(timeout, Default):
            timeout = self._close_timeout
        self._closed = True
        engine = self._engine
        if engine is None:
            self._stop_worker()
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        first = engine.accepting()
        engine.close()
        if not first:  # closed before: only wait for a sender still busy with an answer
            await self._join(deadline)
            return
        if not await self._join(deadline):
            engine.abandon()
            # A request already on the wire gets GIVE_UP_GRACE seconds to be answered.
            if not await self._join(time.monotonic() + GIVE_UP_GRACE):
                for task in self._tasks:
                    task.cancel()  # with a spool, its claim runs out; the rows stay pending
                await self._join(time.monotonic() + GIVE_UP_GRACE)
        stopped = all(task.done() for task in self._tasks)
        unwatch, self._unwatch = self._unwatch, stop_nothing
        await self._run(unwatch)  # it joins the watch's thread: not on the loop
        await self._drive(engine.finish(senders_stopped=stopped))
        self._stop_worker()
        reporter = self._reporter
        assert reporter is not None
        reporter.close_telemetry()
        if reporter.has_hooks:  # they run on a thread: wait for it in another
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            await asyncio.to_thread(reporter.close_hooks, remaining)

    def stats(self) -> IngestStats:
        if self._engine is None:
            return IngestStats(submitted=0, delivered=0, failed=0, retried_batches=0, in_queue=0)
        return self._engine.stats()

    async def __aenter__(self) -> AsyncUsageIngester:
        engine = await self._open()  # a bad spool fails here, and recovery starts
        self._start_senders(engine)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<AsyncUsageIngester {state} {self.stats()}>"

    # -- the engine's loop side ---------------------------------------------------------------

    async def _open(self, key: str | None = None) -> Engine[Handle]:
        """The engine, opening the spool (in its thread) the first time."""
        if self._engine is None:
            if self._closed:
                raise IngesterClosedError("the ingester is closed", key)
            options = self._spool_options
            assert options is not None
            spool = await self._run(lambda: Spool(**options))
            if self._engine is None:
                self._engine = self._new_engine(SpoolStore(spool))
            else:  # another submit() opened it meanwhile
                await self._run(spool.close)
        return self._engine

    def _start_senders(self, engine: Engine[Handle]) -> None:
        """Sender tasks on the running loop, unless they run already."""
        if any(not task.done() for task in self._tasks) or not engine.accepting():
            return
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._send_loop(engine)) for _ in range(self._max_in_flight)
        ]
        if engine.store.shared and self._unwatch is stop_nothing:
            # The outbox's NOTIFY wakes the senders at once (polling stays the fallback); it
            # comes on the watch's thread, and the engine is the loop's. Weakly: the thread
            # must not keep this ingester alive.
            changed = weakref.WeakMethod(self._store_changed)
            self._unwatch = watch(engine.store, partial(_tell_loop, loop, changed))

    async def _send_loop(self, engine: Engine[Handle]) -> None:
        while True:
            try:
                await self._drive(engine.sender())
                return
            except Exception:  # a bug must not stop sending: a fresh flow takes over
                logger.exception("an ingester's sender failed unexpectedly")
                await asyncio.sleep(0)

    async def _drive(self, flow: Flow[None]) -> None:
        """Run one of the engine's flows: perform each action it yields, hand back the result."""
        result: Any = None
        while True:
            try:
                action = flow.send(result)
            except StopIteration:
                return
            if type(action) is Wait:
                await self._wait(action.until)
                result = None
            elif type(action) is Send:
                try:
                    with action.delivery.current():  # the HTTP attempt's span nests in it
                        result = await asend(self._client, send_kwargs(action.body), max_retries=0)
                except Exception as error:
                    result = error
            elif type(action) is Resolve:
                result = _resolve(action.pairs, action.answer)
                assert self._reporter is not None
                self._reporter.report_deliveries()  # as the threaded driver does
            elif type(action) is StoreCall:
                try:
                    result = await self._run(action.call)
                except Exception as error:
                    result = error

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

    def _store_changed(self) -> None:
        """On the loop, from the store's watch: other processes added events."""
        if self._engine is not None:
            self._engine.store_changed()

    async def _join(self, deadline: float | None) -> bool:
        """Wait for the sender tasks to end, until deadline; whether they all did."""
        running = [task for task in self._tasks if not task.done()]
        if running:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            await asyncio.wait(running, timeout=timeout)
        return all(task.done() for task in self._tasks)

    async def _wait_for_room(self, engine: Engine[Handle], key: str) -> None:
        try:
            async with asyncio.timeout(self._submit_timeout):
                while not engine.has_room() and engine.accepting():
                    await self._wait(None)
        except TimeoutError:
            raise QueueFullError(
                f"the ingest queue stayed full for {self._submit_timeout} s; event {key!r} "
                "was not enqueued"
            ) from None

    async def _run(self, work: Callable[[], T]) -> T:
        """work() in the spool's own thread."""
        if self._worker is None:
            self._worker = concurrent.futures.ThreadPoolExecutor(1, "paygentic-spool-sqlite")
        return await asyncio.get_running_loop().run_in_executor(self._worker, self._gated, work)

    def _gated(self, work: Callable[[], T]) -> T:
        with self._in_store:
            return work()

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.shutdown(wait=False)

    # -- fork (see forks.py) ----------------------------------------------------------------

    def _hold_for_fork(self) -> None:
        """No spool call in flight in the worker thread while the child is made."""
        self._in_store.acquire()

    def _release_after_fork(self) -> None:
        self._in_store.release()

    def _after_fork_in_child(self) -> None:
        """In a forked child: start afresh (see the module docstring); the parent's spool
        connection is kept, never used or closed."""
        if self._engine is not None and isinstance(self._engine.store, SpoolStore):
            forks.keep_inherited(self._engine.store)
        self._given_spool = None  # the child opens its own
        if self._given_store is not None:
            forks.keep_inherited(self._given_store)  # the parent's: never used or closed here
        if self._closed:  # closed in the parent: closed here, and nothing opened
            self._start_closed()
            return
        if self._given_store is not None:
            self._given_store = reopen(self._given_store)
        self._reset()

    def _start_closed(self) -> None:
        """A fresh memory engine, closed, and nothing opened: every submit() raises."""
        self._closed = True
        self._spool_options = None
        self._given_store = None
        self._given_spool = None
        self._reset()
        assert self._engine is not None
        self._engine.close()


def _tell_loop(
    loop: asyncio.AbstractEventLoop, method: weakref.WeakMethod[Callable[[], None]]
) -> None:
    """From a store's watch thread: method() on the loop, while both live."""
    bound = method()
    if bound is not None:
        with contextlib.suppress(RuntimeError):  # the loop was closed with the ingester open
            loop.call_soon_threadsafe(bound)


def _wake_one(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _resolve(pairs: list[tuple[Handle, Any]], answer: AnswerBody | None) -> tuple[int, int]:
    """Resolve each future with its outcome unless its caller cancelled it; the counts."""
    created = failed = 0
    for handle, outcome in pairs:
        if handle.done():
            continue
        if isinstance(outcome, BaseException):
            handle.set_exception(outcome)
            failed += 1
        else:
            handle.set_created(outcome, answer)
            created += 1
    return created, failed
