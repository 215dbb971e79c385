"""What fork() does to the ingesters, for both drivers: one registry, one set of fork hooks.

Before the fork, every live ingester holds its locks (no submit and no store call is half done
when the child is made: a mutex SQLite held then would stay held in the child for ever); the
parent releases them afterwards. The child starts each ingester afresh (its own locks, engine
and store: see each driver's `_after_fork_in_child`); one that cannot is closed, so that its
submits raise instead of waiting on a lock whose holder does not exist in the child. One
ingester's failure never keeps the next from starting afresh.

Only the drivers use this module; an ingester registers itself with `track()`.
"""

from __future__ import annotations

import logging
import os
import weakref
from typing import Any, Protocol

# Imported first, so that its fork hook runs first in the child: it closes the copies of the
# parent's liveness locks, and must not close the ones a spool opened again here.
from . import spool_liveness  # noqa: F401

__all__ = ["ForkAware", "keep_inherited", "track"]

logger = logging.getLogger("paygentic_client.ingest")


class ForkAware(Protocol):
    """What a driver's ingester does around a fork."""

    def _hold_for_fork(self) -> None:
        """Acquire the locks that a fork must not copy while held."""

    def _release_after_fork(self) -> None:
        """In the parent: release what _hold_for_fork acquired."""

    def _after_fork_in_child(self) -> None:
        """In the child: start afresh (fresh locks, engine and store)."""

    def _start_closed(self) -> None:
        """In the child, when starting afresh failed: fresh locks, and closed."""


# Every ingester not yet garbage-collected (weakly: a dropped ingester is not forked along).
_live: weakref.WeakSet[Any] = weakref.WeakSet()
# The ingesters whose locks the forking thread holds across a fork.
_held: list[ForkAware] = []
# The parent's stores in a forked child: kept so that they are never closed (closing the
# child's copy of a SQLite connection could delete the WAL file under the parent).
_inherited: list[object] = []


def track(ingester: ForkAware) -> None:
    """Start ingester afresh in every child forked from now on."""
    _live.add(ingester)


def keep_inherited(store: object) -> None:
    """In a child: keep the parent's store referenced, never used or closed."""
    _inherited.append(store)


def _hold_before_fork() -> None:
    for ingester in list(_live):
        ingester._hold_for_fork()
        _held.append(ingester)


def _release_in_parent() -> None:
    while _held:
        _held.pop()._release_after_fork()


def _restart_in_child() -> None:
    _held.clear()  # the child's ingesters get locks of their own
    for ingester in list(_live):
        try:
            ingester._after_fork_in_child()
        except Exception:
            logger.exception("an ingester could not start afresh after fork(); it is closed")
            ingester._start_closed()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(
        before=_hold_before_fork,
        after_in_parent=_release_in_parent,
        after_in_child=_restart_in_child,
    )
