"""Group commit: concurrent callers share one commit, the way PostgreSQL and Kafka amortise a
log flush. GroupCommit is for threads; LoopGroupCommit for the tasks of one event loop.

Each caller queues its items and waits. The first caller in while no commit runs becomes
the leader: it takes every item queued so far (its own and its followers'), commits them
with one call, hands each follower its results and steps down; the first caller that came
in during that commit leads the next one. A caller returns only once its own items are
committed (or the commit failed: then every caller of that group gets its exception), and
waits for at most two commits: the one running when it came in, and its own.

Each caller waits on a lock of its own, released once its group is committed, or before
that to make it the next leader: a wake-up per caller and commit, where one Condition for
all woke every waiting caller at every commit (those queued for the next one too, to wait
again).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit", "LoopGroupCommit"]

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    """One caller's items and, once its group is committed, their results or the error."""

    __slots__ = ("items", "results", "error", "done", "turn")

    def __init__(self, items: Sequence[T]) -> None:
        self.items = items
        self.results: list[R] = []
        self.error: BaseException | None = None
        self.done = False
        # Held from the start; released when the group is committed (done) or, before that,
        # to make this caller the next leader.
        self.turn = threading.Lock()
        self.turn.acquire()


class GroupCommit(Generic[T, R]):
    """commit(items) commits a group at once and returns one result per item, in order (an
    Exception among them is raised to that item's caller instead), or raises for all."""

    def __init__(self, commit: Callable[[list[T]], list[R | Exception]]) -> None:
        self._commit = commit
        self._lock = threading.Lock()
        self._queue: list[_Slot[T, R | Exception]] = []
        self._leading = False

    def run(self, items: Sequence[T]) -> list[R]:
        """Commit items (with whatever other callers queued meanwhile); their results."""
        slot: _Slot[T, R | Exception] = _Slot(items)
        with self._lock:
            self._queue.append(slot)
            follow = self._leading
            self._leading = True
        if follow:
            slot.turn.acquire()  # committed, or this caller's turn to lead
        if not slot.done:
            self._lead()
        if slot.error is not None:
            raise slot.error
        for result in slot.results:
            if isinstance(result, Exception):
                raise result
        return slot.results  # type: ignore[return-value]  # no Exception among them

    def _lead(self) -> None:
        with self._lock:
            group, self._queue = self._queue, []
        try:
            results = self._commit([item for slot in group for item in slot.items])
            start = 0
            for slot in group:
                slot.results = results[start : start + len(slot.items)]
                start += len(slot.items)
        except BaseException as error:  # every caller of the group learns of it
            for slot in group:
                slot.error = error
        finally:
            with self._lock:
                # The next leader: the first caller that came in during this commit.
                successor = self._queue[0] if self._queue else None
                self._leading = successor is not None
            for slot in group:
                slot.done = True
                slot.turn.release()
            if successor is not None:
                successor.turn.release()


class LoopGroupCommit(Generic[T, R]):
    """Group commit for the tasks of one event loop: every caller of one loop turn shares
    one commit. The first caller starts a committing task, which runs once that turn's
    other callers have queued their items too; callers that come during a commit share the
    next one.

    commit(items) (awaited: it runs in a thread) returns one result per item; then, with no
    await between, each caller is released and committed(items, results) runs (an
    ingester registers the handles there: no other task may see the committed rows before).
    An exception of commit is raised to every caller of its group; a cancelled commit
    cancels the callers queued for the next one too. The callables come with each run (the
    first caller's serve its group and the next ones): nothing here keeps their owner alive.
    """

    def __init__(self) -> None:
        self._queue: list[tuple[Sequence[T], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def run(
        self,
        items: Sequence[T],
        commit: Callable[[list[T]], Awaitable[list[R]]],
        committed: Callable[[list[T], list[R]], None],
    ) -> None:
        """Commit items (with whatever other callers queued meanwhile)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queue.append((items, done))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._lead(commit, committed))
        await done

    async def _lead(
        self,
        commit: Callable[[list[T]], Awaitable[list[R]]],
        committed: Callable[[list[T], list[R]], None],
    ) -> None:
        while self._queue:
            group, self._queue = self._queue, []
            items = [item for queued, _ in group for item in queued]
            try:
                results = await commit(items)
            except BaseException as error:  # each caller of the group raises it
                for _, done in group:
                    if not done.done():
                        done.set_exception(error)
                if not isinstance(error, Exception):  # cancelled: so is what waits next
                    for _, done in self._queue:
                        done.cancel()
                    self._queue = []
                    raise
                continue
            # Callers first, then what committed() wakes: each caller resumes first, as it
            # did with a commit of its own.
            for _, done in group:
                if not done.done():  # its caller may have been cancelled
                    done.set_result(None)
            committed(items, results)
