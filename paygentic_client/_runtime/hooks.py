"""The ingesters' hooks, for teams without OpenTelemetry: `on_rejected(key, reason)` and
`on_stalled(cause, since)`.

Two pieces:
- `StallWatch` decides when delivery has stalled. It is fed the time (a monotonic clock's
  seconds) and does no I/O, so the thread and the asyncio driver share it and a test drives
  it with numbers. A stall starts when events are waiting and no batch has succeeded since
  they began to wait; it is reported once, after `stalled_after` seconds, and again only once
  a batch succeeded and a new stall lasted that long.
- `HookRunner` calls the user's hooks on a thread of its own, one call at a time, in order: a
  slow hook never holds up a batch, a hook that raises is logged and forgotten, and a hook may
  call the ingester (submit, stats) without deadlocking the driver that reported.
"""

from __future__ import annotations

import datetime
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

DEFAULT_STALLED_AFTER = 5.0
# When nothing failed yet: the batch in flight has not been answered.
NO_ANSWER_YET = "no answer from the API yet"

RejectedHook = Callable[[str | None, str], object]
StalledHook = Callable[[str, datetime.datetime], object]

logger = logging.getLogger("paygentic_client.ingest")

_Call = tuple[Callable[..., object], tuple[Any, ...]]


class Stall(NamedTuple):
    """A stall to report: its cause (the last failure, or NO_ANSWER_YET) and since when (the
    monotonic time events have waited with no successful batch)."""

    cause: str
    since: float


class StallWatch:
    """When to call on_stalled (see the module docstring). The driver tells it about every
    batch's end (`succeeded` / `failed`) and asks `check` on each turn of its loop, with the
    time the oldest waiting event was accepted (None when none waits)."""

    def __init__(self, stalled_after: float = DEFAULT_STALLED_AFTER) -> None:
        if not stalled_after > 0:
            raise ValueError(f"stalled_after must be positive seconds, not {stalled_after!r}")
        self.stalled_after = stalled_after
        self._last_success: float | None = None
        self._cause: str | None = None
        self._reported = False

    def succeeded(self, now: float) -> None:
        """A batch was delivered: delivery has recovered, a new stall may be reported."""
        self._last_success = now
        self._cause = None
        self._reported = False

    def failed(self, cause: str) -> None:
        """A batch failed (to be sent again): what a stall report will say caused it."""
        self._cause = cause

    def check(self, now: float, oldest_waiting_since: float | None) -> Stall | None:
        """The stall to report now, or None (nothing waits, not long enough, or reported)."""
        if self._reported or oldest_waiting_since is None:
            return None
        since = self._stall_start(oldest_waiting_since)
        if now - since < self.stalled_after:
            return None
        self._reported = True
        return Stall(self._cause or NO_ANSWER_YET, since)

    def deadline(self, oldest_waiting_since: float | None) -> float | None:
        """The monotonic time at which `check` would report, for a driver that sleeps until
        its next thing to do; None when it will not (nothing waits, or already reported)."""
        if self._reported or oldest_waiting_since is None:
            return None
        return self._stall_start(oldest_waiting_since) + self.stalled_after

    def _stall_start(self, oldest_waiting_since: float) -> float:
        if self._last_success is None:
            return oldest_waiting_since
        return max(oldest_waiting_since, self._last_success)


class HookRunner:
    """Calls on_rejected / on_stalled on a daemon thread of its own (started with the first
    call); the driver only puts the call in a queue."""

    def __init__(
        self,
        on_rejected: RejectedHook | None = None,
        on_stalled: StalledHook | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:
        self.on_rejected = on_rejected
        self.on_stalled = on_stalled
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def rejected(self, idempotency_key: str | None, reason: str) -> None:
        if self.on_rejected is not None:
            self._put(self.on_rejected, (idempotency_key, reason))

    def stalled(self, stall: Stall) -> None:
        """Report a stall; `since` reaches the hook as an aware UTC datetime."""
        if self.on_stalled is None:
            return
        waited = self._monotonic() - stall.since
        since = self._wall_clock() - datetime.timedelta(seconds=waited)
        self._put(self.on_stalled, (stall.cause, since))

    def close(self, timeout: float | None = None) -> bool:
        """Let the hooks already reported run, waiting at most `timeout` seconds; True when
        they all ran. Later reports start the thread again."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return True
            # The thread's own queue ends with this; a later report gets a new thread and queue.
            self._calls.put(None)
            self._calls = queue.SimpleQueue()
        thread.join(timeout)
        return not thread.is_alive()

    def _put(self, hook: Callable[..., object], args: tuple[Any, ...]) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, args=(self._calls,), name="paygentic-hooks", daemon=True
                )
                self._thread.start()
            self._calls.put((hook, args))

    @staticmethod
    def _run(calls: queue.SimpleQueue[_Call | None]) -> None:
        while (call := calls.get()) is not None:
            hook, args = call
            try:
                hook(*args)
            except Exception:
                name = getattr(hook, "__qualname__", repr(hook))
                logger.exception("the ingester's hook %s raised; the ingester goes on", name)
