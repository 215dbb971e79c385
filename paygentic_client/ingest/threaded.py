"""UsageIngester: the threads driver of the delivery engine (engine.py).

It enqueues an event without touching the network and hands back an EventHandle that resolves
to the created `UsageEvent` or fails with the reason. What is sent when, what an answer means
and what is kept is the engine's; this module only moves bytes and time: sender threads that
run the engine's flows, one lock and one condition around it, the close deadline, the
interpreter exit hook and what a fork does to the ingester (the hooks are forks.py's).

How a batch is sent: each event is serialised to JSON once (orjson), in submit(), and a batch
body is those bytes joined. It goes out through the client's own httpx client
(`client.get_httpx_client()`), so the client's base URL, auth, headers, timeouts and
transports all apply (one attempt per send: the engine retries, not the client). Going
through `batch_create_usage_events.sync_detailed` instead would rebuild every event's dict
and serialise it again for each send, and build every created UsageEvent of the answer, which
costs more than the network at high volume. A handle builds its UsageEvent (the generated
model's from_dict) on the first result().
"""

from __future__ import annotations

import atexit
import contextlib
import operator
import os
import threading
import time
import weakref
from collections.abc import Iterable
from typing import Any, Final

from .._runtime.hooks import DEFAULT_STALLED_AFTER, RejectedHook, StalledHook
from .._runtime.replay import SentFields
from .._runtime.transport import send
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
from .engine import Engine, Resolve, Send, Settings, Wait
from .group_commit import GroupCommit
from .handles import EventHandle, HandleMaker, resolve_handles, wait_handles
from .spool import DEFAULT_LEASE, Durability, Spool
from .store_plan import StorePlan
from .stores import Store

__all__ = ["DEFAULT_CLOSE_TIMEOUT", "DEFAULT_EXIT_TIMEOUT", "EventHandle", "UsageIngester"]


# How long a still-open UsageIngester may spend delivering at interpreter exit.
DEFAULT_EXIT_TIMEOUT: Final = 10.0
# Batches a UsageIngester sends concurrently unless told otherwise (see max_in_flight).
DEFAULT_MAX_IN_FLIGHT: Final = 4

Handle = EventHandle


class UsageIngester(DriverBase[EventHandle]):
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
    spool: a file path (or an open Spool): keep every submitted event in a durable SQLite
        spool there until the API's answer for it is known (see
        paygentic_client.ingest.spool); submit() returns once the event is committed, events
        an earlier process left there are delivered (stats().recovered), and several
        processes may share the file (a handle also resolves when another process delivered
        its event). The spool takes the queue's place: max_queue and submit_timeout do not
        apply. close() waits for this process's own events, not for what it recovers.
    durability: with a spool path, "process-crash" (default: survives kill -9) or
        "power-loss" (a sync per submit, shared by concurrent ones; survives a power cut).
    spool_lease: with a spool path, the seconds another process waits before it takes over
        the events this one claimed and did not settle (a process that died).
    store: a store of its own instead of memory or a spool: PostgresOutbox(dsn) relays the
        events recorded in a PostgreSQL outbox (paygentic_client.ingest.outbox).
    on_rejected: called as on_rejected(idempotency_key, reason) for each event the API
        rejected (its handle fails with EventRejectedError, or the ApiError of a refused
        batch, whose text is the reason).
    on_stalled: called as on_stalled(cause, since) once events have waited stalled_after
        seconds with no batch answered (cause: the last failure; since: an aware UTC
        datetime), and again only after delivery recovered and stalled anew.
    stalled_after: seconds for on_stalled (default 5.0).
    The hooks run one at a time on a thread of their own, never holding up delivery; an
    exception in one is logged on `paygentic_client.ingest` and the ingester goes on.
    close() waits for the hooks already reported (within its deadline).
    Between sends of a batch that got no answer about its events (no answer at all, or a
    status such as 401, 404 or 503) it waits as the client's retry_policy says (the same
    backoff and Retry-After cap as a plain call), until it is closed.

    After os.fork() (gunicorn --preload, Celery prefork, multiprocessing's fork start
    method) the child's ingester starts afresh: it delivers what the child submits, never
    the parent's queued events, and opens the spool again rather than share the parent's
    SQLite connection. Close it in the child (a child that leaves by os._exit runs no exit
    hook).

    How: submit() adds the event to the engine's store under one lock; max_in_flight sender
    threads claim batches and send them. Nothing per event crosses a thread: at 20,000
    events/s, a queue hop per event cost more CPU (and contention for the GIL) than the
    batching saved.
    """

    kind = "thread"
    _engine: Engine[EventHandle]
    resolver = staticmethod(resolve_handles)

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
        self._exit_timeout = exit_timeout
        self._begin()
        forks.track(self)
        _open_ingesters.add(self)

    def _restart(self) -> None:
        """A fresh engine on the plan's store; the sender threads start with the first
        submit() (or at once with a spool: it may hold events of an earlier process)."""
        store = self._plan.open()
        self._lock = self._guard = threading.Lock()
        self._fork_locks = (self._lock, self._in_store)
        # Every change the engine makes that a waiting thread may act on (a batch to claim,
        # room in the queue, a state) notifies all: senders and blocked submits re-check.
        self._changed = threading.Condition(self._lock)
        self._new_handle = HandleMaker(self._settings.max_batch_size)
        self._engine = self._new_engine(store, self._changed.notify_all)
        # Through a weak reference: a closed ingester must not be kept alive (and forked along,
        # see forks.py) by a cycle through its group commit.
        commit = weakref.WeakMethod(self._commit_appends)
        self._group: GroupCommit[Appended[EventHandle], None] = GroupCommit(
            lambda events: commit()(events)  # type: ignore[misc]  # alive while it submits
        )
        self._senders: list[threading.Thread] = []
        if store.shared:
            self._start_senders()
            self._watch_store(store, operator.call)

    # -- public API -------------------------------------------------------------------------

    def submit(self, event: CreateUsageEventRequest) -> Handle:
        """Enqueue an event; the handle resolves to the created UsageEvent, or fails with
        EventRejectedError (the API rejected the event), an ApiError (the API refused its
        whole batch as malformed: 400 or 422) or IngesterClosedError (closed before it was
        acknowledged).

        Raises QueueFullError when the queue stayed full for submit_timeout seconds,
        IngesterClosedError after close(), and SpoolError when the spool cannot store it.
        """
        key, payload, billed = self._encoded(event)
        handle = self._new_handle()
        if not self._engine.store.append_inline:
            self._group.run([(key, payload, billed, handle)])
            return handle
        with self._lock:
            turn = self._add(key, payload, billed, handle)
        if turn:
            time.sleep(0)  # the senders' turn for the GIL: see YIELD_EVERY
        return handle

    def submit_many(self, events: Iterable[CreateUsageEventRequest]) -> list[Handle]:
        """Enqueue several events; their handles, in order (each resolves as submit()'s).
        With a spool they are committed in one transaction, all or none, before it returns:
        much cheaper per event than a submit() each. Raises as submit() does; in memory, a
        QueueFullError leaves the events before the one that did not fit enqueued."""
        appended: list[Appended[Handle]] = [
            (*self._encoded(event), self._new_handle()) for event in events
        ]
        store = self._engine.store
        if not store.append_inline or not store.bounded:  # all or none: one append
            self._group.run(appended)
            return [event[3] for event in appended]
        turn = False
        with self._lock:
            for key, payload, billed, handle in appended:
                turn = self._add(key, payload, billed, handle) or turn
        if turn:
            time.sleep(0)
        return [event[3] for event in appended]

    def flush(self, timeout: float | None = None) -> bool:
        """Send what is queued now and wait until every event submitted so far is resolved
        (acknowledged or failed). Returns False if `timeout` seconds passed first."""
        with self._lock:
            waiting = self._engine.flush()
        return wait_handles(waiting, timeout)

    def close(self, timeout: float | None | Default = DEFAULT) -> None:
        """Flush, then stop the threads. Later submits raise IngesterClosedError.

        The deadline is `timeout` seconds (default: the constructor's close_timeout, 30 s
        unless set, which the context manager uses too; None waits as long as it takes).
        Events not acknowledged by then fail with IngesterClosedError, whose __cause__ is the
        last delivery failure, and a log line on the `paygentic_client.ingest` logger gives
        their count, the last cause and every idempotency key. With a spool they stay in it,
        for the next ingester.
        """
        flow = self._closing(timeout)
        assert flow is not None
        self._drive(flow)
        _open_ingesters.discard(self)

    def __enter__(self) -> UsageIngester:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- threads ------------------------------------------------------------------------------

    def _add(self, key: str, payload: bytes, billed: SentFields | None, handle: Handle) -> bool:
        """Under _lock: one event into a memory store; whether to give the senders a turn."""
        engine = self._engine
        if not engine.has_room():
            self._wait_for_room(key)
        engine.submit(key, payload, billed, handle)
        if not self._senders:
            self._start_senders()
        return self._turn_due(engine)

    def _start_senders(self) -> None:
        flows = [sending(self._engine) for _ in range(self._max_in_flight)]
        self._senders = [
            threading.Thread(
                target=self._drive, args=(flow,), name=f"paygentic-ingest-send-{n}", daemon=True
            )
            for n, flow in enumerate(flows)
        ]
        for thread in self._senders:
            thread.start()

    def _drive(self, flow: CloseFlow) -> None:
        """Run one of the engine's flows: its steps under the lock, its actions outside."""
        result: Any = None
        lock = self._lock
        while True:
            with lock:
                try:
                    action = flow.send(result)
                except StopIteration:
                    return
                if type(action) is Wait:
                    until = action.until
                    self._changed.wait(None if until is None else until - time.monotonic())
                    result = None
                    continue
            result = self._perform(action)

    def _perform(self, action: Any) -> Any:
        kind = type(action)
        if kind is Send:
            try:
                with action.delivery.current():  # the HTTP attempt's span nests in the batch's
                    return send(self._client, send_kwargs(action.body), max_retries=0)
            except Exception as error:
                return error
        if kind is Resolve:
            return self._resolve(action)
        if kind is Join:
            for thread in self._senders:
                thread.join(remaining(action.until))
            return not any(thread.is_alive() for thread in self._senders)
        if kind is Cancel:
            return False  # a thread cannot be stopped
        if kind is Blocking:
            return action.call()
        try:  # a StoreCall
            return self._gated(action.call)
        except Exception as error:
            return error

    def _commit_appends(self, events: list[Appended[EventHandle]]) -> list[None | Exception]:
        """A group commit's leader (see group_commit.py): appends every event waiting, in one
        transaction, and registers their handles. Under _lock, so that no sender takes the
        result of a claim of these rows before their handles are known."""
        with self._lock:
            engine = self._engine
            if not engine.accepting():
                return [IngesterClosedError("the ingester is closed", event[0]) for event in events]
            self._register(engine, events, engine.store.append_many([e[:3] for e in events]))
        return [None] * len(events)

    def _wait_for_room(self, key: str) -> None:
        engine = self._engine

        def room_or_closed() -> bool:
            return engine.has_room() or not engine.accepting()

        if not self._changed.wait_for(room_or_closed, timeout=self._submit_timeout):
            raise self._queue_full(key)


# Ingesters still open at interpreter exit: each gets exit_timeout seconds to deliver.
_open_ingesters: weakref.WeakSet[UsageIngester] = weakref.WeakSet()


@atexit.register
def _close_open_ingesters() -> None:
    for ingester in list(_open_ingesters):
        with contextlib.suppress(Exception):
            ingester.close(timeout=ingester._exit_timeout)
