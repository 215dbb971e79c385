"""The outbox's wake-up call: a thread that LISTENs on the outbox's channel and tells a relay
the moment a transaction that recorded events commits, so that it claims them at once
instead of at its next poll (polling stays the fallback: a lost notification costs one poll
interval, never an event).

`PostgresOutbox.watch(changed)` starts one (the drivers call it: see stores.watch); the
function it returns stops it and closes its connection. A lost connection (a database
restart, a failover) is opened again after a short pause that doubles up to RECONNECT_MAX,
and every LISTEN after the first counts as a change: events may have been recorded while no
one listened. (The first does not: a relay starts looking at its first poll, as before.)

The thread waits in select() on its connection's socket and on one end of a socketpair: a
stop writes to the other end, so close() returns at once rather than after a timeout.
psycopg's notifies() is only ever called with timeout=0, after select() said the socket has
something to read.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
from collections.abc import Callable
from typing import Any, Final

import psycopg
from psycopg import sql

__all__ = ["RECONNECT_FIRST", "RECONNECT_MAX", "OutboxWatch"]

logger = logging.getLogger("paygentic_client.ingest")

# Seconds between attempts to LISTEN again after the connection was lost: the first, and
# the most (the pause doubles).
RECONNECT_FIRST: Final = 0.1
RECONNECT_MAX: Final = 5.0
# How long close() waits for the thread (it is woken at once; a connect() in progress may
# hold it longer, and then it closes its connection by itself).
_JOIN_TIMEOUT: Final = 2.0


class OutboxWatch:
    """Calls changed() (from its own thread) whenever a NOTIFY arrives on channel, and after
    each reconnection; close() stops it. ignored(pid): whether a NOTIFY sent by that
    server process is to be ignored (the relay's own appends: its engine knows of them)."""

    def __init__(
        self,
        dsn: str,
        channel: str,
        changed: Callable[[], object],
        ignored: Callable[[int], bool] = lambda pid: False,
    ) -> None:
        self._dsn = dsn
        self._listen = sql.SQL("LISTEN {}").format(sql.Identifier(channel))
        self._changed = changed
        self._ignored = ignored
        self._wakeup, self._stopper = socket.socketpair()
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="paygentic-outbox-listen", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._stopper.send(b"\0")
        if self._thread is not threading.current_thread():
            self._thread.join(_JOIN_TIMEOUT)
        if not self._thread.is_alive():
            self._wakeup.close()
            self._stopper.close()

    # -- the thread ---

    def _run(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        pause = RECONNECT_FIRST
        lost = False  # the connection was lost since the first LISTEN
        try:
            while not self._stopped.is_set():
                try:
                    if conn is None:
                        conn = psycopg.connect(self._dsn, autocommit=True)
                        conn.execute(self._listen)
                        pause = RECONNECT_FIRST
                        if lost:  # events may have been recorded while no one listened
                            self._tell()
                    if not self._readable(conn):
                        return  # stopped
                    notified = [notify.pid for notify in conn.notifies(timeout=0)]
                    if not all(self._ignored(pid) for pid in notified):
                        self._tell()
                except psycopg.Error as error:
                    logger.info("listening for outbox events failed (%s); trying again", error)
                    lost = True
                    if conn is not None:
                        conn.close()
                        conn = None
                    if self._stopped.wait(pause):
                        return
                    pause = min(pause * 2, RECONNECT_MAX)
        finally:
            if conn is not None:
                conn.close()

    def _readable(self, conn: psycopg.Connection[Any]) -> bool:
        """Wait until conn has something to read (True) or close() was called (False)."""
        wakeup = self._wakeup.fileno()
        ready, _, _ = select.select([conn.fileno(), wakeup], [], [])
        return wakeup not in ready and not self._stopped.is_set()

    def _tell(self) -> None:
        try:
            self._changed()
        except Exception:  # the relay's business: listening goes on
            logger.exception("a relay's wake-up on outbox events failed")
