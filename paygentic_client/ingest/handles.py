"""The handles the ingesters' submit() returns: EventHandle (UsageIngester's, a light stand-in
for a concurrent.futures.Future) and AsyncEventFuture (AsyncUsageIngester's, an asyncio.Future),
and how the engine's Resolve action resolves each kind.

One concurrent.futures.Future per event made ~11 objects the garbage collector tracks (a
Condition, its lists, bound methods): at 20,000 events/s the collector's passes over them took
about 40% of the threaded ingester's CPU (scripts/bench-ingest). An EventHandle is one slotted
object; the handles resolved together (a batch) share one Completion, whose lock and condition
serve them all, and a batch is resolved under one acquisition of that lock.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any, Final

from ..models.usage_event import UsageEvent
from .core import NOT_BUILT, AnswerBody, CreatedJson

__all__ = [
    "AsyncEventFuture",
    "Completion",
    "EventHandle",
    "HandleMaker",
    "resolve_futures",
    "resolve_handles",
    "wait_handles",
]

logger = logging.getLogger("paygentic_client.ingest")


class _Pending:
    def __repr__(self) -> str:
        return "<pending>"


_PENDING: Final = _Pending()


class Completion:
    """What a group of handles shares: the condition their waiters wait on, whose lock also
    guards each handle's outcome and callbacks."""

    __slots__ = ("condition",)

    def __init__(self) -> None:
        self.condition = threading.Condition(threading.Lock())


class EventHandle:
    """The handle of one submitted event: resolves to the created UsageEvent, or fails with
    the reason. The Future methods callers use are here (result, exception, done,
    add_done_callback); as_future() gives a real concurrent.futures.Future for
    as_completed, concurrent.futures.wait and asyncio.wrap_future.

    The handle keeps the API's answer as JSON; the first result() builds the UsageEvent from
    it (building costs more CPU than everything else the ingester does for an event, and
    callers that submit and move on never need it).
    """

    __slots__ = ("_answer", "_callbacks", "_completion", "_future", "_outcome")

    def __init__(self, completion: Completion | None = None) -> None:
        self._completion = completion or Completion()
        # _PENDING, then the error, or the created event: its position in _answer (an int),
        # its JSON (a dict), or the UsageEvent once built.
        self._outcome: Any = _PENDING
        self._answer: AnswerBody | None = None
        self._callbacks: list[Callable[[EventHandle], object]] | None = None
        self._future: concurrent.futures.Future[UsageEvent] | None = None

    # -- reading ----------------------------------------------------------------------------

    def done(self) -> bool:
        """Whether the event is resolved (acknowledged or failed)."""
        return self._outcome is not _PENDING

    def result(self, timeout: float | None = None) -> UsageEvent:
        """The created UsageEvent, waiting up to `timeout` seconds (None: as long as it
        takes); raises the event's error if it failed, TimeoutError if it is not resolved."""
        outcome = self._wait(timeout)
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, UsageEvent):
            return outcome
        with self._completion.condition:  # built once, even when two threads ask at once
            if not isinstance(self._outcome, UsageEvent):
                if self._answer is not None:
                    outcome = self._answer.created(outcome)
                    self._answer = None
                self._outcome = UsageEvent.from_dict(outcome)
            built: UsageEvent = self._outcome
        return built

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """The event's error, or None if it was created; waits like result()."""
        outcome = self._wait(timeout)
        return outcome if isinstance(outcome, BaseException) else None

    def add_done_callback(self, fn: Callable[[EventHandle], object]) -> None:
        """Call fn(handle) once when the handle is resolved: at once (in this thread) if it
        already is, else in the thread that resolves it. An exception fn raises is logged."""
        with self._completion.condition:
            if self._outcome is _PENDING:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(fn)
                return
        _call(fn, self)

    def as_future(self) -> concurrent.futures.Future[UsageEvent]:
        """A concurrent.futures.Future that resolves with this handle (the same one on every
        call). Cancelling it does not stop the event being sent."""
        with self._completion.condition:
            future = self._future
            if future is not None:
                return future
            future = self._future = concurrent.futures.Future()
        self.add_done_callback(_copy_to(future))  # at once if resolved already
        return future

    def __repr__(self) -> str:
        outcome = self._outcome
        if outcome is _PENDING:
            state = "pending"
        elif isinstance(outcome, BaseException):
            state = f"failed: {type(outcome).__name__}"
        else:
            state = "created"
        return f"<EventHandle {state}>"

    # -- waiting and resolving (the ingesters) ----------------------------------------------

    def _wait(self, timeout: float | None) -> Any:
        outcome = self._outcome
        if outcome is not _PENDING:
            return outcome
        with self._completion.condition:
            if not self._completion.condition.wait_for(self.done, timeout):
                raise TimeoutError(f"the event was not resolved within {timeout} s")
            return self._outcome


def _copy_to(future: concurrent.futures.Future[UsageEvent]) -> Callable[[EventHandle], None]:
    def copy(handle: EventHandle) -> None:
        if not future.set_running_or_notify_cancel():
            return  # its caller cancelled it
        error = handle.exception(timeout=0)
        if error is None:
            future.set_result(handle.result(timeout=0))
        else:
            future.set_exception(error)

    return copy


def _call(fn: Callable[[EventHandle], object], handle: EventHandle) -> None:
    # As concurrent.futures does: a failing callback must not stop the others, nor the
    # sender thread that resolves the batch.
    try:
        fn(handle)
    except Exception:
        logger.exception("exception calling callback for %r", handle)


def resolve_handles(
    pairs: Iterable[tuple[EventHandle, CreatedJson | int | BaseException]],
    answer: AnswerBody | None = None,
) -> tuple[int, int]:
    """Resolve each handle with its outcome (created JSON, its position in `answer`, or an
    error) unless it already is; returns how many this call resolved as created and as
    failed. Handles sharing a
    Completion (a batch) are resolved under one acquisition of its lock, and their callbacks
    run after, outside it."""
    created = failed = 0
    callbacks: list[tuple[Callable[[EventHandle], object], EventHandle]] = []
    # The runs of handles that share a Completion, each under one hold of its lock: tracked
    # here by hand (itertools.groupby called a key function per event).
    current: Completion | None = None
    held: threading.Condition | None = None
    try:
        for handle, outcome in pairs:
            if handle._completion is not current:
                if held is not None:
                    held.notify_all()
                    held.release()
                    held = None
                current = handle._completion
                current.condition.acquire()
                held = current.condition
            if handle._outcome is not _PENDING:
                continue
            handle._outcome = outcome
            if isinstance(outcome, BaseException):
                failed += 1
            else:
                created += 1
                if isinstance(outcome, int):
                    handle._answer = answer
            if handle._callbacks is not None:
                callbacks.extend((fn, handle) for fn in handle._callbacks)
                handle._callbacks = None
    finally:
        if held is not None:
            held.notify_all()
            held.release()
    for fn, handle in callbacks:
        _call(fn, handle)
    return created, failed


class HandleMaker:
    """Makes the handles of events whose batches are not known when they are submitted (the
    spool's): each run of `group` handles shares a Completion."""

    def __init__(self, group: int = 1000) -> None:
        self._group = group
        self._made = 0
        self._completion = Completion()

    def __call__(self) -> EventHandle:
        # Unlocked: two threads may share a Completion or start one early, which is harmless.
        self._made += 1
        if self._made % self._group == 0:
            self._completion = Completion()
        return EventHandle(self._completion)


def wait_handles(handles: Sequence[EventHandle], timeout: float | None) -> bool:
    """Wait until every handle is resolved; False if `timeout` seconds passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for handle in handles:
        if handle.done():
            continue
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            handle._wait(remaining)
        except TimeoutError:
            return False
    return True


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


def resolve_futures(
    pairs: Iterable[tuple[AsyncEventFuture, CreatedJson | int | BaseException]],
    answer: AnswerBody | None = None,
) -> tuple[int, int]:
    """resolve_handles for AsyncEventFutures (on their loop): each is resolved unless its
    caller cancelled it; how many this call resolved as created and as failed."""
    created = failed = 0
    for handle, outcome in pairs:
        if handle.done():
            continue
        if isinstance(outcome, BaseException):
            handle.set_exception(outcome)
            failed += 1
        else:  # set_created(outcome, answer), without a Python call per event
            handle._created = outcome
            handle._answer = answer
            handle._event = None
            handle.set_result(NOT_BUILT)
            created += 1
    return created, failed
