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
processes share them, so they are read with care for a clock that jumps: a lease (or a
submission time, or a sign of life) further ahead of now than the longest lease of the
processes sharing the file was written before the clock went back, and counts as expired.

Journals (journal.py): an ingester's store (stores.SpoolStore) commits its own events to a
journal file of its own in the lock directory, not to this database, and delivers them from
memory. What reaches the database: the rejected ones and those left at close (moved, with
the journal's move id in the table journal_moves, in one transaction), and the journals of
processes that ended, which a claim imports (and marks imported, in its transaction). The
table is added like the answer tables; a version 1 process ignores journals.

Takeover in seconds (spool_liveness.py): each writable Spool holds a flock on a lock file of
its own beside the spool, which the kernel drops when the process ends; a claim treats the
claimed rows and unclaimed events of an owner whose lock it can take as free at once, without
waiting for the lease. Leases remain the fallback (another host, an older paygentic-client, a
missing lock file). A spool on a network filesystem is refused.

Files: the spool, its -wal and -shm files and the lock files are created 0600 (owner only:
they hold customer ids and the payloads of rejected events), the lock directory 0700. An
existing file keeps its mode. A new file uses incremental auto-vacuum: once settled events
leave enough free pages, a settle gives them back to the filesystem, so the file shrinks as
it empties. A file created before this keeps auto-vacuum off until it is found empty when a
Spool opens it, which converts it (a VACUUM of an empty file: instant); until then its free
pages are reused by new events but not given back.

A full disk or an I/O error fails the operation with SpoolStorageError (a SpoolError), which
changes nothing and may be tried again once space is freed.

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

import errno
import json
import logging
import math
import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from ..errors import SpoolError, SpoolStorageError
from .journal import Journal, journal_stems, read_journal, remove_journal
from .spool_disk import disk_of, file_bytes
from .spool_liveness import (
    OwnLock,
    gone_owners,
    held_owners,
    lock_directory,
    refuse_network_filesystem,
    remove_if_gone,
    stem_is_gone,
)

logger = logging.getLogger("paygentic_client.ingest")

__all__ = [
    "DEFAULT_LEASE",
    "SCHEMA_VERSION",
    "Answer",
    "Durability",
    "RejectedEvent",
    "Spool",
    "SpoolReport",
    "SpoolStatus",
    "SpooledEvent",
    "os_error",
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
    # The moves of journals (journal.py) whose events this file holds: a journal's MOVING
    # record counts once its (stem, move) is here. move -1: the whole journal was imported.
    """CREATE TABLE IF NOT EXISTS journal_moves (
        stem TEXT NOT NULL,
        move INTEGER NOT NULL,
        PRIMARY KEY (stem, move)
    )""",
)
# journal_moves' move for "every event of this journal is in the file".
_IMPORTED: Final = -1
# A submitter shows it is alive once a third of its lease (claims and renewals do it); it
# counts as gone after a whole lease without, and its row (and any answers left for it) is
# removed after this many leases.
_FORGET_AFTER_LEASES: Final = 10
# A settle gives free pages back to the filesystem once they are at least this many and a
# quarter of the file: not after every batch, each such pass is a write of its own.
_VACUUM_MIN_PAGES: Final = 256
# The write-ahead log is cut back to this size after a checkpoint (else it keeps the size of
# the largest burst of writes since the file was opened).
_WAL_SIZE_LIMIT: Final = 4 * 1024 * 1024

# Rows a claim may take. A claim is free when it has no owner, its lease ran out, its lease
# is further ahead than any process's lease (written before the clock went back), or its
# owner has ended (its lock is free). Another process's unclaimed event may be taken once it
# is a lease old (or dated ahead by more than a lease), or at once when its submitter ended.
_CLAIMABLE: Final = (
    "(owner IS NULL OR lease_until < :now OR lease_until > :ahead"
    " OR owner IN (SELECT value FROM json_each(:gone)))"
    " AND (submitter = :me OR submitted_at < :adopt_before OR submitted_at > :ahead"
    " OR submitter IN (SELECT value FROM json_each(:gone)))"
)
# A lease, a submission time or a sign of life this far beyond now + the longest lease was
# written before the wall clock went back. The slack covers the clock's own small steps.
_CLOCK_SLACK: Final = 1.0


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
    oldest_age: seconds since the oldest pending event was submitted (None when empty);
    journaled: those pending events that are in the journal of a live process (journal.py),
    which that process sends: no other process can take them while it lives."""

    pending: int
    claimed: int
    rejected: int
    oldest_age: float | None
    journaled: int = 0


@dataclass(frozen=True, slots=True)
class SpoolReport:
    """SpoolStatus's figures and more, for `paygentic-usage spool status` (slower than
    status(): it groups the rejected events by reason and tests the submitters' locks).

    rejected_by_reason: how many rejected events have each reason, most frequent first;
    live_submitters: the processes that have the spool open for writing and are alive;
    file_bytes: the database, its write-ahead log and the journals on disk; free_bytes: what
    is left on their filesystem (None when unknown); disk_full: too little is left to deliver a
    batch (what_to_free says what to do)."""

    status: SpoolStatus
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    live_submitters: int = 0
    file_bytes: int = 0
    free_bytes: int | None = None
    disk_full: bool = False
    what_to_free: str | None = None


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
    clock: the wall clock (Unix seconds) written into the file; for tests of clock jumps.

    Raises SpoolError when the file is not a spool, has a schema version this code does not
    know, cannot be opened or written (missing directory, read-only file or directory), or is
    on a network filesystem; SpoolStorageError (a SpoolError) when the disk is full.
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
        clock: Callable[[], float] = time.time,
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
        self._max_bytes = max_bytes
        self._clock = clock
        self._pid = os.getpid()
        # Unique per Spool object: two ingesters of one process do not share claims.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._lock = threading.Lock()
        self._seen_at = -math.inf  # when this Spool last wrote that it is alive (wall clock)
        self._gone: list[str] = []  # the owners the last claim found ended
        self._imported: list[str] = []  # the journals the running claim imported
        self._journals = 0  # how many this Spool opened
        self._closed = False
        refuse_network_filesystem(self.path)
        self._own_lock = None if read_only else self._take_own_lock()
        try:
            self._connection = self._connect(read_only)
        except BaseException:
            self._release_own_lock()
            raise
        try:
            self._prepare(durability, max_bytes, read_only)
        except BaseException:
            self._connection.close()
            self._release_own_lock()
            raise

    # -- opening ------------------------------------------------------------------------------

    def _take_own_lock(self) -> OwnLock:
        """The lock that tells other processes this one is alive, taken before anything in
        the file names this Spool; and the file itself, created 0600 when new (SQLite then
        gives its -wal and -shm files the same mode)."""
        try:
            if not self.path.exists() and self.path.parent.is_dir():
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
            return OwnLock(self.path, self.owner)
        except OSError as error:
            raise os_error(self.path, "open", error) from error

    def _release_own_lock(self) -> None:
        if self._own_lock is not None:
            self._own_lock.release()

    def _connect(self, read_only: bool) -> sqlite3.Connection:
        target = f"file:{self.path}?mode=ro" if read_only else str(self.path)
        if read_only and _wal_is_empty(self.path) and disk_of(self.path).full:
            # Read-only, SQLite still creates and sizes the -shm index, which a full disk
            # refuses. With nothing in the write-ahead log, the file alone is the whole spool
            # and can be read without it: `spool status` works on a full disk.
            target += "&immutable=1"
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
            raise spool_error(self.path, "open", error, self._max_bytes) from error

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
                self._execute(f"PRAGMA journal_size_limit={_WAL_SIZE_LIMIT}")
                # A write (the version, rewritten) proves the file and directory are writable
                # now, in the constructor, not at the first submit().
                self._execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                self._add_answer_tables()
                self._convert_to_auto_vacuum_when_empty()
        except sqlite3.Error as error:
            raise spool_error(self.path, "open", error, self._max_bytes) from error

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
                # Before the first table, or it takes a VACUUM: free pages go back to the
                # filesystem when a settle asks (PRAGMA incremental_vacuum).
                self._execute("PRAGMA auto_vacuum=INCREMENTAL")
                for statement in _SCHEMA:
                    self._execute(statement)
                self._execute(f"PRAGMA application_id={APPLICATION_ID}")
                self._execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            self._execute("COMMIT")
        except BaseException:
            self._connection.rollback()
            raise

    def _convert_to_auto_vacuum_when_empty(self) -> None:
        """A file created before incremental auto-vacuum gets it the first time it is opened
        empty: the VACUUM that switching needs then copies nothing. Best effort: a busy file
        is converted another time."""
        if self._scalar("PRAGMA auto_vacuum") != 0:
            return
        empty = "SELECT NOT EXISTS (SELECT 1 FROM pending) AND NOT EXISTS (SELECT 1 FROM rejected)"
        if not self._scalar(empty):
            return
        try:
            self._execute("PRAGMA auto_vacuum=INCREMENTAL")
            self._execute("VACUUM")
        except sqlite3.OperationalError as error:
            logger.info("spool %s: not converted to auto-vacuum now (%s)", self.path, error)

    def _add_answer_tables(self) -> None:
        """The submitters and answers tables (to a file of version 1 that lacks them), and
        this Spool's row among the submitters."""
        self._execute("BEGIN IMMEDIATE")
        try:
            for statement in _ANSWER_TABLES:
                self._execute(statement)
            self._show_alive(self._clock())
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
                    (key, payload, self._clock(), self.owner),
                )
            except sqlite3.Error as error:
                raise self._error(f"store event {key!r}", error) from error
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def append_many(self, events: Sequence[tuple[str, bytes]]) -> list[int]:
        """Add several events in one transaction (one commit for all: much faster than
        append() each); returns their seqs, in order, once committed. All or none."""
        now = self._clock()
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
                raise self._error(f"store {len(events)} events", error) from error
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
        their submitter (which holds their handles) sends them while it lives; what a
        process that ended left (its lock is free) is taken over at once, its claims too."""
        with self._lock:
            claimed = self._claim(max_count, max_bytes)
            self._remove_imported_journals()
        return claimed

    def _claim(self, max_count: int, max_bytes: int | None) -> list[SpooledEvent]:
        with self._transaction("claim events"):
            # The clock is read inside the write transaction: every lease another process of
            # this host wrote before it was written at an earlier time.
            now = self._clock()
            self._show_alive_when_due(now)
            self._import_journals(now)
            where = self._claimable(now)
            rows = self._connection.execute(
                f"SELECT seq, key, payload FROM pending WHERE {_CLAIMABLE} "
                "ORDER BY seq LIMIT :limit",
                {**where, "limit": max_count},
            )
            claimed = _within_bytes(rows, max_bytes)
            if claimed:
                # Exactly the selected rows: the same condition, between the first and last
                # seq (rows in between that it skipped are held by live leases).
                self._connection.execute(
                    "UPDATE pending SET owner = :me, lease_until = :until, claims = claims + 1 "
                    f"WHERE seq BETWEEN :first AND :last AND {_CLAIMABLE}",
                    {
                        **where,
                        "until": now + self.lease,
                        "first": claimed[0].seq,
                        "last": claimed[-1].seq,
                    },
                )
        return claimed

    def _claimable(self, now: float) -> dict[str, object]:
        """The parameters of _CLAIMABLE at this time; remembers the ended owners found."""
        ahead, self._gone = self._read_submitters(now)
        return {
            "now": now,
            "ahead": ahead,
            "me": self.owner,
            "adopt_before": math.inf if self._adopt else now - self.lease,
            "gone": json.dumps(self._gone),
        }

    def _read_submitters(self, now: float) -> tuple[float, list[str]]:
        """(ahead, gone), from one read of the submitters. ahead: a time written after it
        was written before the wall clock went back (it is further ahead than the longest
        lease of the processes sharing the file). gone: the other submitters whose lock
        file's lock is free: they have ended."""
        rows = self._connection.execute("SELECT owner, lease FROM submitters").fetchall()
        longest = max((lease for _, lease in rows), default=self.lease)
        others = [owner for owner, _ in rows if owner != self.owner]
        return now + max(self.lease, longest) + _CLOCK_SLACK, gone_owners(self.path, others)

    def renew(self, events: Iterable[SpooledEvent]) -> int:
        """Extend the lease of the given events this Spool still holds; returns how many
        (fewer when another process took some over after their lease ran out)."""
        events = list(events)
        with self._lock, self._transaction("renew a claim"):
            now = self._clock()
            rows = [(now + self.lease, self.owner, event.seq, event.key) for event in events]
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

    # -- journals (journal.py) ------------------------------------------------------------------

    def open_journal(self) -> Journal | None:
        """A journal of this Spool's own, for an ingester's store; None where a journal could
        not be told from a live process's once its owner ends (read-only, no flock)."""
        if self._own_lock is None or not self._own_lock.lockable:
            return None
        directory = lock_directory(self.path)
        # `<pid>-<token>-<n>`: its owner's lock file's name and a number, so that two
        # ingesters on one Spool object have a journal each.
        self._journals += 1
        stem = f"{self._own_lock.stem}-{self._journals}"
        try:
            return Journal(directory, stem, sync=self.durability == "power-loss")
        except OSError as error:
            raise os_error(self.path, "open its journal", error) from error

    def move_from_journal(
        self,
        journal: Journal,
        move: int,
        pending: Sequence[tuple[str, bytes, float]],
        rejected: Sequence[tuple[str, bytes, float, str]] = (),
    ) -> None:
        """In one transaction: the journal's events as rows (pending: submitted by this Spool;
        rejected: with the API's reason) and the move's id, which makes the journal's MOVING
        record count (written before, by the caller)."""
        with self._lock, self._transaction("store events"):
            now = self._clock()
            self._connection.executemany(
                "INSERT INTO pending (key, payload, submitted_at, submitter) VALUES (?, ?, ?, ?)",
                [(key, payload, at, self.owner) for key, payload, at in pending],
            )
            self._connection.executemany(
                "INSERT INTO rejected (key, payload, submitted_at, rejected_at, reason) "
                "VALUES (?, ?, ?, ?, ?)",
                [(key, payload, at, now, reason) for key, payload, at, reason in rejected],
            )
            self._connection.execute(
                "INSERT INTO journal_moves (stem, move) VALUES (?, ?)", (journal.stem, move)
            )

    def forget_journal(self, journal: Journal) -> None:
        """Its owner removed the journal's files: its moves are of no more use."""
        with self._lock, self._transaction("forget a journal"):
            self._connection.execute("DELETE FROM journal_moves WHERE stem = ?", (journal.stem,))

    def _import_journals(self, now: float) -> None:
        """In a claim's transaction: the events of the journals whose owner ended (its lock is
        free, or its lock file gone), as pending rows this Spool submitted, claimable at once;
        the journal is marked imported in the same transaction, and its files removed after
        (a crash between leaves files that the mark says to remove, not to import again)."""
        self._imported = []
        if self._own_lock is None or not self._own_lock.lockable:
            return
        directory = lock_directory(self.path)
        stems = journal_stems(directory)
        # The moves of journals whose files are gone (imported, or removed by their owner at
        # close): a live owner's current segment exists from before its first move.
        self._connection.execute(
            "DELETE FROM journal_moves WHERE stem NOT IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(stems)),),
        )
        for stem in sorted(stems):
            if not stem_is_gone(directory, stem):  # this Spool's own journals are alive
                continue
            moves = {
                move
                for (move,) in self._connection.execute(
                    "SELECT move FROM journal_moves WHERE stem = ?", (stem,)
                )
            }
            if _IMPORTED not in moves:
                events = read_journal(directory, stem).unsettled(moves)
                self._connection.executemany(
                    "INSERT INTO pending (key, payload, submitted_at, submitter) "
                    "VALUES (?, ?, ?, ?)",
                    [(key, payload, at, self.owner) for _, key, payload, at in events],
                )
                self._connection.execute("DELETE FROM journal_moves WHERE stem = ?", (stem,))
                self._connection.execute(
                    "INSERT INTO journal_moves (stem, move) VALUES (?, ?)", (stem, _IMPORTED)
                )
                if events:
                    logger.info(
                        "spool %s: took over %d events a process that ended left in its journal",
                        self.path,
                        len(events),
                    )
            self._imported.append(stem)

    def _remove_imported_journals(self) -> None:
        """After the claim's commit: the files of the journals it imported."""
        directory = lock_directory(self.path)
        for stem in self._imported:
            remove_journal(directory, stem)
        self._imported = []

    def _journal_backlog(self) -> tuple[int, int, float | None]:
        """Events in journals not yet in the file (of live processes, or of ended ones not yet
        imported), how many of them live processes hold, and the oldest one's submission
        time."""
        directory = lock_directory(self.path)
        stems = journal_stems(directory)
        if not stems or not self._has_table("journal_moves"):
            return 0, 0, None
        count, live, oldest = 0, 0, None
        for stem in stems:
            moves = {
                move
                for (move,) in self._connection.execute(
                    "SELECT move FROM journal_moves WHERE stem = ?", (stem,)
                )
            }
            if _IMPORTED in moves:
                continue
            events = read_journal(directory, stem).unsettled(moves)
            count += len(events)
            if not stem_is_gone(directory, stem):
                live += len(events)
            for _, _, _, at in events:
                oldest = at if oldest is None else min(oldest, at)
        return count, live, oldest

    # -- being alive --------------------------------------------------------------------------

    def _show_alive_when_due(self, now: float) -> None:
        """In a write transaction: say this Spool is alive, once a third of its lease, and at
        once when the wall clock went back (else it would say nothing until it caught up)."""
        if now - self._seen_at > self.lease / 3 or now < self._seen_at:
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
        crash), and so did those that showed a sign of life dated ahead of now by more than
        that (before the clock went back; a live one shows another at once): their rows, the
        answers kept for them and their lock files go, so that none of them grows."""
        window = (_FORGET_AFTER_LEASES, now, _FORGET_AFTER_LEASES, now)
        silent = "seen_at + lease * ? < ? OR seen_at - lease * ? > ?"
        silent_owners = [
            owner
            for (owner,) in self._connection.execute(
                f"SELECT owner FROM submitters WHERE {silent}", window
            ).fetchall()
        ]
        # One whose lock is still held lives (a request longer than ten leases): kept.
        forgotten = sorted(set(silent_owners) - set(held_owners(self.path, silent_owners)))
        if not forgotten:
            return
        self._connection.executemany(
            "DELETE FROM submitters WHERE owner = ?", [(owner,) for owner in forgotten]
        )
        self._connection.execute(
            "DELETE FROM answers WHERE submitter NOT IN (SELECT owner FROM submitters)"
        )
        for owner in forgotten:
            remove_if_gone(self.path, owner)

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
        answers_for_me() in its process reads.

        Afterwards, when enough pages are free, gives them back to the filesystem."""
        with self._lock:
            with self._transaction("record the API's answer"):
                now = self._clock()
                self._settle(now, delivered, rejected, answers)
            self._give_back_free_pages()

    def _settle(
        self,
        now: float,
        delivered: Iterable[SpooledEvent],
        rejected: Iterable[tuple[SpooledEvent, str]],
        answers: Iterable[Answer],
    ) -> None:
        # Before the rows leave pending: the submitter is read from there. Alive: its lock is
        # held (the kernel's word, whatever its last sign of life: one long request can outlast
        # a lease), or else a sign of life within a lease, not dated ahead (clock), its lock not
        # found free by a claim.
        answers = list(answers)
        gone = json.dumps(self._gone)
        held = json.dumps(self._held_submitters() if answers else [])
        self._connection.executemany(
            "INSERT INTO answers (seq, key, submitter, created, reason, batch_index, "
            "answered_at) SELECT p.seq, p.key, p.submitter, ?, ?, ?, ? FROM pending p "
            "JOIN submitters s ON s.owner = p.submitter "
            "WHERE p.seq = ? AND p.key = ? AND p.submitter != ? AND ("
            "s.owner IN (SELECT value FROM json_each(?)) OR (s.seen_at + s.lease >= ? "
            "AND s.seen_at <= ? + s.lease AND s.owner NOT IN (SELECT value FROM json_each(?))))",
            [
                (a.created, a.reason, a.index, now, a.seq, a.key, self.owner, held, now, now, gone)
                for a in answers
            ],
        )
        rejected = list(rejected)
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

    def _held_submitters(self) -> list[str]:
        """The other submitters whose liveness lock a live process holds."""
        rows = self._connection.execute(
            "SELECT owner FROM submitters WHERE owner != ?", (self.owner,)
        ).fetchall()
        return held_owners(self.path, [owner for (owner,) in rows])

    def _give_back_free_pages(self) -> None:
        """PRAGMA incremental_vacuum once the free pages are many and a quarter of the file
        (a file without auto-vacuum has none to give: the pragma does nothing there). Its
        failure (a full disk) is not the settle's: the answer is recorded; it is tried again
        after the next settle."""
        try:
            free = self._scalar("PRAGMA freelist_count")
            if free < _VACUUM_MIN_PAGES or free * 4 < self._scalar("PRAGMA page_count"):
                return
            # executescript steps the pragma to its end; execute() steps it once, and each
            # step gives back one page.
            self._connection.executescript("PRAGMA incremental_vacuum")
        except sqlite3.Error as error:
            logger.info("spool %s: free pages not given back now (%s)", self.path, error)

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
                raise self._error("read answers", error) from error
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

    # -- requeueing ----------------------------------------------------------------------------

    def requeue_all(self) -> int:
        """Move every rejected event back to pending; returns how many moved."""
        return self._requeue("1", ())

    def requeue_keys(self, keys: Iterable[str]) -> int:
        """Move the rejected events with these idempotency keys back to pending; returns how
        many moved (a key with no rejected event moves nothing)."""
        return self._requeue("key IN (SELECT value FROM json_each(?))", (json.dumps(list(keys)),))

    def requeue_reason_contains(self, text: str) -> int:
        """Move the rejected events whose reason contains `text` (case-sensitive) back to
        pending; returns how many moved."""
        return self._requeue("instr(reason, ?) > 0", (text,))

    def _requeue(self, where: str, parameters: tuple[object, ...]) -> int:
        """In one transaction: copy the rows to pending (at its end, in their order, with
        their first submission time, submitted by this Spool) and delete them from rejected.
        A process sharing the spool claims them as it claims any other process's events:
        at once once this Spool has closed (its lock is free), else after a lease."""
        with self._lock, self._transaction("requeue rejected events"):
            self._connection.execute(
                "INSERT INTO pending (key, payload, submitted_at, submitter) "
                f"SELECT key, payload, submitted_at, ? FROM rejected WHERE {where} ORDER BY seq",
                (self.owner, *parameters),
            )
            moved = self._connection.execute(f"DELETE FROM rejected WHERE {where}", parameters)
            return moved.rowcount

    # -- reading ------------------------------------------------------------------------------

    def status(self) -> SpoolStatus:
        """Counts and the oldest age (never negative, whatever the clock did). Claimed: rows
        under a lease that is running (not run out, not dated ahead by more than any lease,
        its owner not ended)."""
        with self._lock:
            try:
                return self._status()
            except sqlite3.Error as error:
                raise self._error("read the status", error) from error

    def _status(self) -> SpoolStatus:
        now = self._clock()
        ahead, gone = self._read_submitters(now) if self._has_submitters() else (math.inf, [])
        pending, claimed, oldest = self._connection.execute(
            "SELECT count(*), count(CASE WHEN lease_until >= ? AND lease_until <= ? "
            "AND owner NOT IN (SELECT value FROM json_each(?)) THEN 1 END), "
            "min(submitted_at) FROM pending",
            (now, ahead, json.dumps(gone)),
        ).fetchone()
        rejected = self._connection.execute("SELECT count(*) FROM rejected").fetchone()
        journaled, live, journal_oldest = self._journal_backlog()
        if journal_oldest is not None:
            oldest = journal_oldest if oldest is None else min(oldest, journal_oldest)
        age = None if oldest is None else max(0.0, now - oldest)
        return SpoolStatus(pending + journaled, claimed, rejected[0], age, live)

    def report(self) -> SpoolReport:
        """status() with the rejected events by reason, the live submitters, the file's size
        and the room left on its disk (for `paygentic-usage spool status`)."""
        with self._lock:
            try:
                status = self._status()
                reasons = self._connection.execute(
                    "SELECT reason, count(*) AS n FROM rejected GROUP BY reason "
                    "ORDER BY n DESC, reason"
                ).fetchall()
                live = self._live_submitters() if self._has_submitters() else 0
            except sqlite3.Error as error:
                raise self._error("read the status", error) from error
        disk = disk_of(self.path)
        return SpoolReport(
            status,
            rejected_by_reason=dict(reasons),
            live_submitters=live,
            file_bytes=file_bytes(self.path),
            free_bytes=disk.free_bytes,
            disk_full=disk.full,
            what_to_free=disk.what_to_free(self.path) if disk.full else None,
        )

    def _live_submitters(self) -> int:
        """Submitters whose lock is held, or without a lock we can test (another host, an
        older client), that showed a sign of life within their lease (not dated ahead)."""
        now = self._clock()
        rows = self._connection.execute(
            "SELECT owner FROM submitters WHERE owner != ? AND seen_at + lease >= ? "
            "AND seen_at <= ? + lease",
            (self.owner, now, now),
        ).fetchall()
        owners = [owner for (owner,) in rows]
        mine = 0 if self._read_only else 1
        return mine + len(owners) - len(gone_owners(self.path, owners))

    def _has_submitters(self) -> bool:
        """A file opened read-only may predate the submitters table (a writable open adds
        it)."""
        return self._has_table("submitters")

    def _has_table(self, name: str) -> bool:
        found = self._connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = ?", (name,)
        ).fetchone()
        return bool(found[0])

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
                    raise self._error("read rejected events", error) from error
            if not page:
                return
            for seq, key, payload, reason, submitted_at, rejected_at in page:
                after = seq
                yield RejectedEvent(key, payload, reason, submitted_at, rejected_at)

    def close(self) -> None:
        """Close the file; a writable Spool first removes its submitter row and any answers
        left for it (no one can read them after this), then its lock file. In a process
        forked from the one that opened it, the connection is only dropped: SQLite forbids
        using it across fork(), and the rows and the lock are the parent's."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if os.getpid() != self._pid:
                self._release_own_lock()  # closes the inherited copy only
                return
            try:
                if not self._read_only:
                    self._forget_me()
            finally:
                self._connection.close()
                self._release_own_lock()

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

    def _error(self, doing: str, error: sqlite3.Error) -> SpoolError:
        return spool_error(self.path, doing, error, self._max_bytes)


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
            raise self._spool._error(self._doing, error) from error

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        connection = self._spool._connection
        if exc_type is not None:
            connection.rollback()
            if isinstance(exc, sqlite3.Error):
                raise self._spool._error(self._doing, exc) from exc
            return
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            connection.rollback()
            raise self._spool._error(self._doing, error) from error


def _wal_is_empty(path: Path) -> bool:
    try:
        return path.with_name(path.name + "-wal").stat().st_size == 0
    except FileNotFoundError:
        return True


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


# Errors of the storage, not of the file or its use: the operation changed nothing and may
# succeed later (space freed, the device back). Their primary names: SQLITE_IOERR_* too.
_STORAGE_ERRORS: Final = ("SQLITE_FULL", "SQLITE_IOERR")


def spool_error(
    path: Path, doing: str, error: sqlite3.Error, max_bytes: int | None = None
) -> SpoolError:
    """A SpoolError saying what could not be done to which spool, and why, in plain words; a
    SpoolStorageError for a full disk or an I/O error, saying what to free."""
    name = getattr(error, "sqlite_errorname", "") or ""
    reason = next(
        (text for prefix, text in _REASONS.items() if name.startswith(prefix)), str(error)
    )
    detail = f" [{name}: {error}]" if name else f" [{error}]"
    if not name.startswith(_STORAGE_ERRORS):
        return SpoolError(f"spool {path}: could not {doing}: {reason}{detail}")
    disk = disk_of(path)
    if disk.full:  # an I/O error for want of space (growing the -shm index) is said so too
        reason = "the disk is full"
    message = f"spool {path}: could not {doing}: {reason}{detail}"
    if disk.full:
        message += f"; {disk.what_to_free(path)}"
    elif name.startswith("SQLITE_FULL") and max_bytes is not None:
        message += f"; the spool reached its max_bytes ({max_bytes}): room comes back as its "
        message += "events are delivered"
    return SpoolStorageError(message, free_bytes=disk.free_bytes)


_OS_REASONS: Final[dict[int, str]] = {
    errno.ENOENT: _REASONS["SQLITE_CANTOPEN"],
    errno.ENOTDIR: _REASONS["SQLITE_CANTOPEN"],
    errno.EACCES: _REASONS["SQLITE_CANTOPEN"],
    errno.EPERM: _REASONS["SQLITE_PERM"],
    errno.EROFS: _REASONS["SQLITE_READONLY"],
    errno.ENOSPC: _REASONS["SQLITE_FULL"],
    errno.EDQUOT: "the disk quota is used up",
    errno.EIO: _REASONS["SQLITE_IOERR"],
}


def os_error(path: Path, doing: str, error: OSError) -> SpoolError:
    """An OSError of the spool's own files (the new file, the lock file) as a SpoolError."""
    reason = _OS_REASONS.get(error.errno or 0, error.strerror or str(error))
    message = f"spool {path}: could not {doing}: {reason} [{error}]"
    if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
        return SpoolError(message)
    disk = disk_of(path)
    if disk.full:
        message += f"; {disk.what_to_free(path)}"
    return SpoolStorageError(message, free_bytes=disk.free_bytes)
