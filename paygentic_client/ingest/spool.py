"""The durable spool: a local SQLite database (stdlib sqlite3, WAL) that holds usage events
from the moment submit() returns until the API's answer for them is known.

Tables: `pending` (events not yet answered, in submission order, each with an optional claim:
its owner and lease expiry) and `rejected` (events the API refused, with the reason; kept,
never dropped). The schema version is PRAGMA user_version, and PRAGMA application_id marks
the file as a spool, so that a file of something else is refused rather than written into.

Two more tables carry answers between processes: `submitters` (each open Spool, with the
time it last showed it is alive) and `answers` (the API's answer for an event that one
process sent for another, live one, kept until its submitter reads it: answers_for_me()).
Without them, the handle of an event another process delivered stayed unresolved until its
submitter's close deadline, which then said, wrongly, that the event was still in the spool.
They are added to an existing file when it is opened, and version 1 code ignores them, so
they do not change the schema version: processes of both versions can share a spool (a
rolling deploy, a rollback); an answer a version 1 process got is not passed on.

Several processes may share one spool: a claim (BEGIN IMMEDIATE, so two claims never
overlap) takes pending rows in order that no live lease holds, and a lease that ran out (its
owner died or hung) is taken over by the next claim. Leases are wall-clock times because
processes share them.

Durability (the `durability` parameter):
- "process-crash" (default): PRAGMA synchronous=NORMAL in WAL mode. A commit is written to
  the WAL file before append() returns, so it survives the process being killed (SIGKILL, OOM
  kill, a crash): the data is in the operating system's cache. A power loss or kernel crash
  may lose the last commits (never corrupts the spool).
- "power-loss": PRAGMA synchronous=FULL (and fullfsync on macOS): every commit is fsynced,
  so it also survives a power loss, on storage that honours fsync. It costs an fsync per
  append (scripts/bench-ingest prints both costs).
"""

from __future__ import annotations

import logging
import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from ..errors import SpoolError

logger = logging.getLogger("paygentic_client.ingest")

__all__ = [
    "DEFAULT_LEASE",
    "SCHEMA_VERSION",
    "Answer",
    "Durability",
    "RejectedEvent",
    "Spool",
    "SpoolStatus",
    "SpooledEvent",
]

Durability = Literal["process-crash", "power-loss"]
SCHEMA_VERSION: Final = 1
# "PYGS" (PaYGentic Spool): tells a spool from any other SQLite database.
APPLICATION_ID: Final = 0x50594753
# How long a claim holds its rows; the ingester renews it while a batch is being retried.
DEFAULT_LEASE: Final = 30.0
# How long a statement waits for another process's write transaction before failing.
BUSY_TIMEOUT: Final = 30.0
# Between tries to create the spool while another process is switching the new file to WAL.
_BUSY_RETRY_PAUSE: Final = 0.01

_SYNCHRONOUS: Final[dict[str, str]] = {"process-crash": "NORMAL", "power-loss": "FULL"}

# seq is the rowid (no AUTOINCREMENT: it writes a second page per commit, ~30% of an
# append). A new row gets max(seq)+1, so order holds; a seq may be reused after the table
# empties, which is why rows are deleted and moved by (seq, key), never by seq alone.
_SCHEMA: Final = (
    """CREATE TABLE pending (
        seq INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        payload BLOB NOT NULL,
        submitted_at REAL NOT NULL,
        submitter TEXT NOT NULL,
        owner TEXT,
        lease_until REAL,
        claims INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE rejected (
        seq INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        payload BLOB NOT NULL,
        submitted_at REAL NOT NULL,
        rejected_at REAL NOT NULL,
        reason TEXT NOT NULL
    )""",
)
# Added to files of either age when they are opened for writing (IF NOT EXISTS: a no-op
# once they are there). seen_at is wall-clock: processes compare it.
_ANSWER_TABLES: Final = (
    """CREATE TABLE IF NOT EXISTS submitters (
        owner TEXT PRIMARY KEY,
        seen_at REAL NOT NULL,
        lease REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS answers (
        seq INTEGER NOT NULL,
        key TEXT NOT NULL,
        submitter TEXT NOT NULL,
        created BLOB,
        reason TEXT,
        batch_index INTEGER NOT NULL,
        answered_at REAL NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS answers_by_submitter ON answers (submitter)",
)
# A submitter shows it is alive once a third of its lease (claims and renewals do it); it
# counts as gone after a whole lease without, and its row (and any answers left for it) is
# removed after this many leases.
_FORGET_AFTER_LEASES: Final = 10


# Rows a claim may take (parameters: now, this owner, now - lease).
_CLAIMABLE: Final = "(owner IS NULL OR lease_until < ?) AND (submitter = ? OR submitted_at < ?)"


@dataclass(frozen=True, slots=True)
class SpooledEvent:
    """A pending event as a claim returns it: its row number, key and JSON bytes."""

    seq: int
    key: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Answer:
    """The API's answer for one event that a process other than its submitter sent: the
    created event's JSON, or the reason it was rejected; index is the event's position in
    the batch that carried it."""

    seq: int
    key: str
    created: bytes | None
    reason: str | None
    index: int


@dataclass(frozen=True, slots=True)
class RejectedEvent:
    """An event the API rejected, as kept in the spool (times are Unix seconds)."""

    key: str
    payload: bytes
    reason: str
    submitted_at: float
    rejected_at: float


@dataclass(frozen=True, slots=True)
class SpoolStatus:
    """pending: events not yet answered (claimed ones included); claimed: those of them a
    live lease holds (being sent); rejected: events kept with the API's reason;
    oldest_age: seconds since the oldest pending event was submitted (None when empty)."""

    pending: int
    claimed: int
    rejected: int
    oldest_age: float | None


class Spool:
    """One process's handle on a spool file. Thread-safe (one connection, one lock).

    path: the database file; created with its schema if it does not exist or is empty.
    durability: "process-crash" (default) or "power-loss"; see the module docstring.
    lease: seconds a claim holds its rows before another process may take them over.
    max_bytes: a cap on the database's size (PRAGMA max_page_count); an append beyond it
        fails with SpoolError as a full disk does. None: only the disk limits it.
    read_only: open without writing (for `paygentic-usage spool status|rejected`).
    adopt: claim other processes' unclaimed events at once, not only once they are `lease`
        seconds old (for `paygentic-usage spool drain`, which has none of its own).

    Raises SpoolError when the file is not a spool, has a schema version this code does not
    know, or cannot be opened or written (missing directory, read-only file or directory).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: Durability = "process-crash",
        lease: float = DEFAULT_LEASE,
        max_bytes: int | None = None,
        read_only: bool = False,
        adopt: bool = False,
    ) -> None:
        if durability not in _SYNCHRONOUS:
            raise ValueError(f"durability must be one of {sorted(_SYNCHRONOUS)}")
        if lease <= 0:
            raise ValueError("lease must be positive")
        self.path = Path(path)
        self.durability: Durability = durability
        self.lease = lease
        self._adopt = adopt
        self._read_only = read_only
        # Unique per Spool object: two ingesters of one process do not share claims.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._seen_at = 0.0  # when this Spool last wrote that it is alive (wall clock)
        self._closed = False
        self._connection = self._connect(read_only)
        try:
            self._prepare(durability, max_bytes, read_only)
        except BaseException:
            self._connection.close()
            raise

    # -- opening ------------------------------------------------------------------------------

    def _connect(self, read_only: bool) -> sqlite3.Connection:
        target = f"file:{self.path}?mode=ro" if read_only else str(self.path)
        try:
            # isolation_level=None: no implicit transactions; each append is one INSERT (its
            # own transaction) and the multi-statement operations BEGIN IMMEDIATE themselves.
            return sqlite3.connect(
                target,
                uri=read_only,
                timeout=BUSY_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            raise spool_error(self.path, "open", error) from error

    def _prepare(self, durability: Durability, max_bytes: int | None, read_only: bool) -> None:
        try:
            if not read_only:
                self._create_when_not_busy()
            self._check_identity()
            self._execute(f"PRAGMA synchronous={_SYNCHRONOUS[durability]}")
            self._execute(f"PRAGMA fullfsync={'ON' if durability == 'power-loss' else 'OFF'}")
            if max_bytes is not None:
                page_size = self._scalar("PRAGMA page_size")
                self._execute(f"PRAGMA max_page_count={max(1, max_bytes // page_size)}")
            if not read_only:
                # A write (the version, rewritten) proves the file and directory are writable
                # now, in the constructor, not at the first submit().
                self._execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                self._add_answer_tables()
        except sqlite3.Error as error:
            raise spool_error(self.path, "open", error) from error

    def _create_when_not_busy(self) -> None:
        """_create_if_new, tried again while another process holds the file busy, for up to
        BUSY_TIMEOUT. SQLite answers SQLITE_BUSY at once, without its busy handler (the
        connection's timeout), when several processes switch a new file to WAL together: 12 of
        60 rounds of four processes opening one new spool failed so before this."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                self._create_if_new()
                return
            except sqlite3.OperationalError as error:
                busy = getattr(error, "sqlite_errorname", "") == "SQLITE_BUSY"
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(_BUSY_RETRY_PAUSE)

    def _create_if_new(self) -> None:
        if self._scalar("PRAGMA application_id") == APPLICATION_ID:
            return
        # WAL is a property of the file, set once; readers then never block the writer.
        self._execute("PRAGMA journal_mode=WAL")
        self._execute("BEGIN IMMEDIATE")
        try:
            # Checked again inside the transaction: another process may have created it.
            fresh = not self._scalar("SELECT count(*) FROM sqlite_master")
            if fresh and self._scalar("PRAGMA application_id") == 0:
                for statement in _SCHEMA:
                    self._execute(statement)
                self._execute(f"PRAGMA application_id={APPLICATION_ID}")
                self._execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._execute("COMMIT")
        except BaseException:
            self._connection.rollback()
            raise

    def _add_answer_tables(self) -> None:
        """The submitters and answers tables (to a file of version 1 that lacks them), and
        this Spool's row among the submitters."""
        self._execute("BEGIN IMMEDIATE")
        try:
            for statement in _ANSWER_TABLES:
                self._execute(statement)
            self._show_alive(time.time())
            self._execute("COMMIT")
        except BaseException:
            self._connection.rollback()
            raise

    def _check_identity(self) -> None:
        if self._scalar("PRAGMA application_id") != APPLICATION_ID:
            raise SpoolError(
                f"{self.path} is not a paygentic spool (an SQLite database of something else); "
                "pass another path"
            )
        version = self._scalar("PRAGMA user_version")
        if version != SCHEMA_VERSION:
            newer = " (written by a newer paygentic-client?)" if version > SCHEMA_VERSION else ""
            raise SpoolError(
                f"{self.path} is a spool of schema version {version}{newer}; this "
                f"paygentic-client reads version {SCHEMA_VERSION}"
            )

    # -- writing ------------------------------------------------------------------------------

    def append(self, key: str, payload: bytes) -> int:
        """Add one event; returns its seq once the row is committed (see durability)."""
        with self._lock:
            try:
                cursor = self._connection.execute(
                    "INSERT INTO pending (key, payload, submitted_at, submitter) "
                    "VALUES (?, ?, ?, ?)",
                    (key, payload, time.time(), self.owner),
                )
            except sqlite3.Error as error:
                raise spool_error(self.path, f"store event {key!r}", error) from error
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def append_many(self, events: Sequence[tuple[str, bytes]]) -> list[int]:
        """Add several events in one transaction (one commit for all: much faster than
        append() each); returns their seqs, in order, once committed. All or none."""
        now = time.time()
        with self._lock:
            try:
                self._execute("BEGIN IMMEDIATE")
                try:
                    seqs = [
                        self._insert(key, payload, now)
                        for key, payload in events  # one cached statement
                    ]
                    self._execute("COMMIT")
                except BaseException:
                    self._connection.rollback()
                    raise
            except sqlite3.Error as error:
                raise spool_error(self.path, f"store {len(events)} events", error) from error
        return seqs

    def _insert(self, key: str, payload: bytes, now: float) -> int:
        cursor = self._connection.execute(
            "INSERT INTO pending (key, payload, submitted_at, submitter) VALUES (?, ?, ?, ?)",
            (key, payload, now, self.owner),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    # -- claiming -----------------------------------------------------------------------------

    def claim(self, max_count: int, max_bytes: int | None = None) -> list[SpooledEvent]:
        """Claim up to max_count pending events, oldest first, that no live lease holds (rows
        whose lease ran out are taken over). With max_bytes, stop before an event that would
        bring the payloads plus one separator each over it (the first is always taken).
        The claim lasts `lease` seconds unless renewed.

        Events another Spool appended are claimed only once they are `lease` seconds old:
        their submitter (which holds their handles) sends them while it lives; what a dead
        process left is taken over."""
        now = time.time()
        with self._lock, self._transaction("claim events"):
            self._show_alive_when_due(now)
            rows = self._connection.execute(
                f"SELECT seq, key, payload FROM pending WHERE {_CLAIMABLE} ORDER BY seq LIMIT ?",
                (now, self.owner, self._adopt_before(now), max_count),
            )
            claimed = _within_bytes(rows, max_bytes)
            if claimed:
                # Exactly the selected rows: the same condition, between the first and last
                # seq (rows in between that it skipped are held by live leases).
                self._connection.execute(
                    "UPDATE pending SET owner = ?, lease_until = ?, claims = claims + 1 "
                    f"WHERE seq BETWEEN ? AND ? AND {_CLAIMABLE}",
                    (self.owner, now + self.lease, claimed[0].seq, claimed[-1].seq)
                    + (now, self.owner, self._adopt_before(now)),
                )
        return claimed

    def _adopt_before(self, now: float) -> float:
        """Other processes' events submitted before this time may be claimed."""
        return math.inf if self._adopt else now - self.lease

    def renew(self, events: Iterable[SpooledEvent]) -> int:
        """Extend the lease of the given events this Spool still holds; returns how many
        (fewer when another process took some over after their lease ran out)."""
        now = time.time()
        rows = [(now + self.lease, self.owner, event.seq, event.key) for event in events]
        with self._lock, self._transaction("renew a claim"):
            self._show_alive_when_due(now)
            before = self._connection.total_changes
            self._connection.executemany(
                "UPDATE pending SET lease_until = ? WHERE owner = ? AND seq = ? AND key = ?",
                rows,
            )
            return self._connection.total_changes - before

    def release(self, events: Iterable[SpooledEvent]) -> None:
        """Give up the claim of the given events (still pending, for any process to send)."""
        rows = [(self.owner, event.seq, event.key) for event in events]
        with self._lock, self._transaction("release a claim"):
            self._connection.executemany(
                "UPDATE pending SET owner = NULL, lease_until = NULL "
                "WHERE owner = ? AND seq = ? AND key = ?",
                rows,
            )

    # -- being alive --------------------------------------------------------------------------

    def _show_alive_when_due(self, now: float) -> None:
        """In a write transaction: say this Spool is alive, once a third of its lease."""
        if now - self._seen_at > self.lease / 3:
            self._show_alive(now)
            self._forget_gone_submitters(now)

    def _show_alive(self, now: float) -> None:
        self._connection.execute(
            "INSERT OR REPLACE INTO submitters (owner, seen_at, lease) VALUES (?, ?, ?)",
            (self.owner, now, self.lease),
        )
        self._seen_at = now

    def _forget_gone_submitters(self, now: float) -> None:
        """Processes silent for _FORGET_AFTER_LEASES leases died without closing (a kill, a
        crash): their rows and the answers kept for them go, so that neither grows."""
        self._connection.execute(
            "DELETE FROM submitters WHERE seen_at + lease * ? < ?", (_FORGET_AFTER_LEASES, now)
        )
        self._connection.execute(
            "DELETE FROM answers WHERE submitter NOT IN (SELECT owner FROM submitters)"
        )

    # -- settling -----------------------------------------------------------------------------

    def settle(
        self,
        delivered: Iterable[SpooledEvent],
        rejected: Iterable[tuple[SpooledEvent, str]] = (),
        answers: Iterable[Answer] = (),
    ) -> None:
        """In one transaction: remove the delivered events (the API created them) and move
        the rejected ones, with the API's reason, to the rejected table. Whoever holds the
        claim: the answer is known, whichever process got it.

        answers: the answers for events this Spool did not submit (the caller holds no
        handle for them); each is kept for its submitter if that one is alive, which
        answers_for_me() in its process reads."""
        now = time.time()
        with self._lock, self._transaction("record the API's answer"):
            # Before the rows leave pending: the submitter is read from there.
            self._connection.executemany(
                "INSERT INTO answers (seq, key, submitter, created, reason, batch_index, "
                "answered_at) SELECT p.seq, p.key, p.submitter, ?, ?, ?, ? FROM pending p "
                "JOIN submitters s ON s.owner = p.submitter "
                "WHERE p.seq = ? AND p.key = ? AND p.submitter != ? AND s.seen_at + s.lease >= ?",
                [
                    (a.created, a.reason, a.index, now, a.seq, a.key, self.owner, now)
                    for a in answers
                ],
            )
            self._connection.executemany(
                "INSERT INTO rejected (key, payload, submitted_at, rejected_at, reason) "
                "SELECT key, payload, submitted_at, ?, ? FROM pending WHERE seq = ? AND key = ?",
                [(now, reason, event.seq, event.key) for event, reason in rejected],
            )
            self._connection.executemany(
                "DELETE FROM pending WHERE seq = ? AND key = ?",
                [(event.seq, event.key) for event in delivered]
                + [(event.seq, event.key) for event, _ in rejected],
            )

    def answers_for_me(self) -> list[Answer]:
        """The answers other processes got for events this Spool submitted (their rows have
        left pending), each returned once: they are removed as they are read."""
        with self._lock:
            try:
                # A read first (no write lock): it finds nothing nearly every time.
                found = self._connection.execute(
                    "SELECT seq, key, created, reason, batch_index FROM answers "
                    "WHERE submitter = ?",
                    (self.owner,),
                ).fetchall()
            except sqlite3.Error as error:
                raise spool_error(self.path, "read answers", error) from error
            if not found:
                return []
            with self._transaction("read answers"):
                self._connection.executemany(
                    "DELETE FROM answers WHERE submitter = ? AND seq = ? AND key = ?",
                    [(self.owner, seq, key) for seq, key, *_ in found],
                )
        return [Answer(*row) for row in found]

    def mark_delivered(self, events: Iterable[SpooledEvent]) -> None:
        self.settle(events)

    def mark_rejected(self, events: Iterable[tuple[SpooledEvent, str]]) -> None:
        self.settle((), events)

    # -- reading ------------------------------------------------------------------------------

    def status(self) -> SpoolStatus:
        now = time.time()
        with self._lock:
            try:
                pending, claimed, oldest = self._connection.execute(
                    "SELECT count(*), count(CASE WHEN lease_until >= ? THEN 1 END), "
                    "min(submitted_at) FROM pending",
                    (now,),
                ).fetchone()
                rejected = self._connection.execute("SELECT count(*) FROM rejected").fetchone()
            except sqlite3.Error as error:
                raise spool_error(self.path, "read the status", error) from error
        age = None if oldest is None else max(0.0, now - oldest)
        return SpoolStatus(pending, claimed, rejected[0], age)

    def rejected(self) -> Iterator[RejectedEvent]:
        """The rejected events, oldest first (read in pages: the table may be large)."""
        after = 0
        while True:
            with self._lock:
                try:
                    page = self._connection.execute(
                        "SELECT seq, key, payload, reason, submitted_at, rejected_at "
                        "FROM rejected WHERE seq > ? ORDER BY seq LIMIT 500",
                        (after,),
                    ).fetchall()
                except sqlite3.Error as error:
                    raise spool_error(self.path, "read rejected events", error) from error
            if not page:
                return
            for seq, key, payload, reason, submitted_at, rejected_at in page:
                after = seq
                yield RejectedEvent(key, payload, reason, submitted_at, rejected_at)

    def close(self) -> None:
        """Close the file; a writable Spool first removes its submitter row and any answers
        left for it (no one can read them after this)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if not self._read_only:
                    self._forget_me()
            finally:
                self._connection.close()

    def _forget_me(self) -> None:
        try:
            with self._transaction("close"):
                self._connection.execute("DELETE FROM answers WHERE submitter = ?", (self.owner,))
                self._connection.execute("DELETE FROM submitters WHERE owner = ?", (self.owner,))
        except SpoolError:
            # Leaving the rows costs nothing lasting (they are forgotten once silent for long
            # enough); failing close() over them would hide what the caller was doing.
            logger.warning("could not remove this process from the spool %s", self.path)

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Spool {str(self.path)!r} durability={self.durability!r}>"

    # -- helpers ------------------------------------------------------------------------------

    def _execute(self, sql: str) -> None:
        self._connection.execute(sql)

    def _scalar(self, sql: str) -> int:
        value = self._connection.execute(sql).fetchone()[0]
        assert isinstance(value, int)
        return value

    def _transaction(self, doing: str) -> _Transaction:
        return _Transaction(self, doing)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on an error), sqlite errors as SpoolError."""

    def __init__(self, spool: Spool, doing: str) -> None:
        self._spool = spool
        self._doing = doing

    def __enter__(self) -> None:
        try:
            # IMMEDIATE takes the write lock at once: two processes' claims cannot both read
            # the same free rows and then both mark them.
            self._spool._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise spool_error(self._spool.path, self._doing, error) from error

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        connection = self._spool._connection
        if exc_type is not None:
            connection.rollback()
            if isinstance(exc, sqlite3.Error):
                raise spool_error(self._spool.path, self._doing, exc) from exc
            return
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            connection.rollback()
            raise spool_error(self._spool.path, self._doing, error) from error


def _within_bytes(
    rows: Iterable[tuple[int, str, bytes]], max_bytes: int | None
) -> list[SpooledEvent]:
    events: list[SpooledEvent] = []
    total = 0
    for seq, key, payload in rows:
        total += len(payload) + 1
        if max_bytes is not None and events and total > max_bytes:
            break
        events.append(SpooledEvent(seq, key, payload))
    return events


_REASONS: Final[dict[str, str]] = {
    "SQLITE_FULL": "the disk is full (or the spool reached max_bytes)",
    "SQLITE_READONLY": "the file or its directory is read-only",
    "SQLITE_CANTOPEN": "it cannot be opened (missing directory, or no permission)",
    "SQLITE_NOTADB": "it is not a paygentic spool (not an SQLite database)",
    "SQLITE_CORRUPT": "the file is corrupt",
    "SQLITE_BUSY": f"another process held it locked for over {BUSY_TIMEOUT:.0f} s",
    "SQLITE_IOERR": "the operating system reported an I/O error",
    "SQLITE_PERM": "no permission",
}


def spool_error(path: Path, doing: str, error: sqlite3.Error) -> SpoolError:
    """A SpoolError saying what could not be done to which spool, and why, in plain words."""
    name = getattr(error, "sqlite_errorname", "") or ""
    reason = next(
        (text for prefix, text in _REASONS.items() if name.startswith(prefix)), str(error)
    )
    detail = f" [{name}: {error}]" if name else f" [{error}]"
    return SpoolError(f"spool {path}: could not {doing}: {reason}{detail}")
