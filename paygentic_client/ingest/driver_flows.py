"""The flows both drivers run around the engine's own: a sender that outlives a bug, and the
close, with its deadline's arithmetic.

A sender runs the engine's sender() flow; should it raise (a bug), it logs the traceback and
a fresh flow takes over: a bug must not stop delivery.

close() takes no more events, waits for the senders within the deadline, abandons what is
left once it passes (a request already on the wire gets GIVE_UP_GRACE seconds more), then
runs the engine's finish() and stops the telemetry and the hooks. The flow yields the
engine's actions (finish()'s) and three of its own, which the driver performs:

    Join(until)      -> whether every sender ended, waiting for them until `until`
    Cancel()         -> whether the senders were stopped (asyncio cancels its tasks; a
                        thread cannot be stopped)
    Blocking(call)   -> what call() returned (it blocks: a thread's join, a hook's wait)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Final

from .core import GIVE_UP_GRACE, Default
from .engine import Action, Engine, Flow, Wait
from .observe import Reporter
from .stores import stop_nothing

__all__ = [
    "Blocking",
    "Cancel",
    "CloseFlow",
    "Join",
    "closing",
    "deadline_of",
    "remaining",
    "sending",
]

logger = logging.getLogger("paygentic_client.ingest")

# After a sender's flow failed unexpectedly, how long it waits before a fresh one starts: a
# bug that recurs must not spin (and, on an event loop, must let other tasks run).
AFTER_A_BUG: Final = 0.001


@dataclass(frozen=True, slots=True)
class Join:
    """Wait for the senders to end, until this time of time.monotonic (None: no limit)."""

    until: float | None


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the senders still running, if the driver can."""


@dataclass(frozen=True, slots=True)
class Blocking:
    """Call this; it blocks (it is not a store call)."""

    call: Callable[[], Any]


CloseFlow = Generator[Action | Join | Cancel | Blocking, Any, None]


def sending(engine: Engine[Any]) -> Flow[None]:
    """One sender: the engine's sender() flow, started afresh after a bug."""
    while True:
        try:
            yield from engine.sender()
            return
        except Exception:
            logger.exception("an ingester's sender failed unexpectedly")
            yield Wait(time.monotonic() + AFTER_A_BUG)


def deadline_of(timeout: float | None | Default, default: float | None) -> float | None:
    """The time.monotonic() by which a close with this timeout ends (None: no deadline)."""
    if isinstance(timeout, Default):
        timeout = default
    return None if timeout is None else time.monotonic() + timeout


def remaining(deadline: float | None) -> float | None:
    """Seconds left until deadline, never negative (None: no deadline)."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def closing(
    engine: Engine[Any],
    reporter: Reporter,
    deadline: float | None,
    unwatch: Callable[[], None] = stop_nothing,
) -> CloseFlow:
    """The close of an ingester whose engine is `engine` (see the module docstring)."""
    first = engine.accepting()
    engine.close()
    if not first:  # closed before: only wait for a sender still busy with an answer
        yield Join(deadline)
        return
    if not (yield Join(deadline)):
        engine.abandon()
        # A request already on the wire gets GIVE_UP_GRACE seconds to be answered; then a
        # driver that can stops its senders (with a spool, their claims run out; the rows
        # stay pending) and gives them as long again to end.
        if not (yield Join(time.monotonic() + GIVE_UP_GRACE)) and (yield Cancel()):
            yield Join(time.monotonic() + GIVE_UP_GRACE)
    stopped = yield Join(time.monotonic())
    if unwatch is not stop_nothing:
        yield Blocking(unwatch)  # it joins the watch's thread
    yield from engine.finish(senders_stopped=stopped)
    reporter.close_telemetry()
    if reporter.has_hooks:  # they run on a thread of their own: wait for it
        yield Blocking(lambda: reporter.close_hooks(remaining(deadline)))
