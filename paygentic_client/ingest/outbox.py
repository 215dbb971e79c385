"""The transactional outbox: usage events written into the user's own PostgreSQL database, in
the same transaction as the work they bill, and relayed to the API by any number of
processes on any number of machines.

- `record(conn, event)` / `record_many(conn, events)` insert on the CALLER's connection,
  inside the caller's transaction, and never commit: the event exists if and only if that
  transaction commits. A key recorded again with another body raises
  IdempotencyConflictError at once; with the same body it is a no-op.
- `PostgresOutbox(dsn)` is a store of the one engine (stores.Store), so that
  `UsageIngester(client, store=PostgresOutbox(dsn))` relays what was recorded. Claims take
  rows with `FOR UPDATE SKIP LOCKED` under a lease (a dead relay's rows are taken over once
  its lease ran out); a row leaves the table only with the API's answer; rejected rows stay,
  with the reason.
- A trigger NOTIFYs `paygentic_outbox` when a transaction that inserted rows commits; a relay
  that LISTENs claims at once instead of at its next poll: an ingester on a PostgresOutbox
  does (its driver calls watch(): outbox_watch.py), and so does `paygentic-usage outbox relay`.

Only this module and outbox_watch.py import psycopg (the `postgres` extra): `import
paygentic_client` never does.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import psycopg
from psycopg import sql

from .._runtime.replay import SentFields
from ..errors import IdempotencyConflictError, OutboxError
from ..models.create_usage_event_request import CreateUsageEventRequest
from .core import Batch, encode_event
from .outbox_watch import OutboxWatch
from .spool import DEFAULT_LEASE, Answer
from .stores import Left, Outcome, Row, outcome_of, reason_of

__all__ = [
    "CHANNEL",
    "Listener",
    "SCHEMA_VERSION",
    "TABLE",
    "OutboxStatus",
    "PostgresOutbox",
    "RejectedRow",
    "init",
    "outbox_sql",
    "record",
    "record_many",
]

logger = logging.getLogger("paygentic_client.ingest")

SCHEMA_VERSION: Final = 1
TABLE: Final = "paygentic_outbox"
CHANNEL: Final = "paygentic_outbox"
# Answers left for a submitter that never came for them (it died) are dropped after this
# many leases.
_ANSWER_LEASES: Final = 10

# status: pending (waits to be claimed), claimed (claimed_by holds it until lease_until),
# rejected (the API refused it: kept with the reason), answered (delivered for another
# process's submit(): its answer waits for that submitter, then the row goes).
# submitter: the process whose handle waits for the answer (NULL for record()).
_SCHEMA: Final = f"""\
CREATE TABLE IF NOT EXISTS {TABLE}_version (
    version integer NOT NULL
);
INSERT INTO {TABLE}_version (version)
    SELECT {SCHEMA_VERSION} WHERE NOT EXISTS (SELECT 1 FROM {TABLE}_version);
CREATE TABLE IF NOT EXISTS {TABLE} (
    seq bigserial PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    payload bytea NOT NULL,
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'claimed', 'rejected', 'answered')),
    claimed_by text,
    lease_until timestamptz,
    claims integer NOT NULL DEFAULT 0,
    reason text,
    submitter text,
    answer bytea,
    batch_index integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS {TABLE}_waiting ON {TABLE} (seq)
    WHERE status IN ('pending', 'claimed');
CREATE OR REPLACE FUNCTION {TABLE}_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{CHANNEL}', '');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER {TABLE}_notify AFTER INSERT ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_notify();
"""

_INSERT: Final = (
    f"INSERT INTO {TABLE} (idempotency_key, payload, submitter) VALUES (%s, %s, %s) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING seq"
)
# The rows in the order given (WITH ORDINALITY), so that seq follows it.
_INSERT_MANY: Final = (
    f"INSERT INTO {TABLE} (idempotency_key, payload) "
    "SELECT key, payload FROM unnest(%b::text[], %b::bytea[]) WITH ORDINALITY "
    "AS given(key, payload, position) ORDER BY position "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key"
)
_EXISTING: Final = f"SELECT seq, payload FROM {TABLE} WHERE idempotency_key = %s"


def outbox_sql() -> str:
    """The SQL init() runs, for teams that apply migrations themselves (Alembic, Django)."""
    return _SCHEMA


def init(conn: Any) -> None:
    """Create the outbox (or upgrade it) on conn, in the caller's transaction: idempotent.
    Raises OutboxError for a table of a newer schema version."""
    connection = psycopg_connection(conn)
    try:
        with connection.cursor() as cursor:
            found = _version(cursor)
            if found is not None and found > SCHEMA_VERSION:
                raise OutboxError(
                    f"the outbox table {TABLE} has schema version {found}; this "
                    f"paygentic-client knows version {SCHEMA_VERSION} at most: upgrade it"
                )
            cursor.execute(_SCHEMA.encode())
    except psycopg.Error as error:
        raise outbox_error("creating the outbox", error) from error


def record(conn: Any, event: CreateUsageEventRequest) -> None:
    """Record event in the outbox on conn (a psycopg connection, a SQLAlchemy Connection or
    Session, or Django's connection), inside its open transaction; it is not committed here.
    Raises IdempotencyConflictError when the key is in the outbox with another body."""
    key, payload = encode_event(event)
    _record_encoded(psycopg_connection(conn), key, payload)


def record_many(conn: Any, events: Iterable[CreateUsageEventRequest]) -> None:
    """record() for several events, in one statement (one round trip) for the inserts."""
    encoded = [encode_event(event) for event in events]
    if not encoded:
        return
    connection = psycopg_connection(conn)
    keys = [key for key, _ in encoded]
    if len(set(keys)) < len(keys):  # one statement cannot insert a key twice: one by one
        for key, payload in encoded:
            _record_encoded(connection, key, payload)
        return
    with connection.cursor() as cursor:
        try:
            cursor.execute(_INSERT_MANY, (keys, [payload for _, payload in encoded]))
            inserted = {key for (key,) in cursor.fetchall()}
        except psycopg.Error as error:
            raise outbox_error("recording usage events", error) from error
        for key, payload in encoded:
            if key not in inserted:
                _check_same(cursor, key, payload)


def _record_encoded(connection: psycopg.Connection[Any], key: str, payload: bytes) -> None:
    with connection.cursor() as cursor:
        try:
            cursor.execute(_INSERT, (key, payload, None))
            fresh = cursor.fetchone() is not None
        except psycopg.Error as error:
            raise outbox_error("recording a usage event", error) from error
        if not fresh:
            _check_same(cursor, key, payload)


def _check_same(cursor: psycopg.Cursor[Any], key: str, payload: bytes) -> int:
    """The seq of the row key is already recorded as, when its body is payload; else raise
    IdempotencyConflictError."""
    cursor.execute(_EXISTING, (key,))
    row = cursor.fetchone()
    if row is None:  # the other row left (delivered) since the insert saw it: record again
        cursor.execute(_INSERT, (key, payload, None))
        again = cursor.fetchone()
        if again is None:
            return _check_same(cursor, key, payload)
        return int(again[0])
    seq, stored = row
    if bytes(stored) != payload:
        raise IdempotencyConflictError(
            f"idempotency key {key!r} is already in the outbox for another event: "
            f"recorded {bytes(stored).decode()}, now {payload.decode()}",
            idempotency_key=key,
        )
    return int(seq)


def psycopg_connection(conn: Any) -> psycopg.Connection[Any]:
    """The psycopg connection behind conn: a psycopg Connection itself, a SQLAlchemy
    Session or Connection (psycopg dialect), or Django's `django.db.connection`."""
    if isinstance(conn, psycopg.Connection):
        return conn
    if callable(getattr(conn, "get_bind", None)):  # a SQLAlchemy Session
        conn = conn.connection()
    driver = getattr(getattr(conn, "connection", None), "driver_connection", None)
    if isinstance(driver, psycopg.Connection):  # a SQLAlchemy Connection
        return driver
    if callable(getattr(conn, "ensure_connection", None)):  # Django's DatabaseWrapper
        conn.ensure_connection()
        if isinstance(conn.connection, psycopg.Connection):
            return conn.connection
    raise TypeError(
        "expected a psycopg Connection, a SQLAlchemy Connection or Session on psycopg, or "
        f"Django's connection (psycopg backend); got {type(conn).__name__}"
    )


# -- the relay's store ----------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    claimed: int
    rejected: int
    oldest_age: float | None  # seconds the oldest pending or claimed row has waited


@dataclass(frozen=True)
class RejectedRow:
    key: str
    payload: bytes
    reason: str
    recorded_at: datetime
    rejected_at: datetime


class PostgresOutbox:
    """The outbox as the engine's store (stores.Store): UsageIngester(client,
    store=PostgresOutbox(dsn)) relays every recorded event, sharing the work with any other
    relay on the same table. It opens a connection of its own (autocommit) and opens it
    again after a database restart or failover: a call that fails raises, and the engine
    tries again later."""

    inline = False
    append_inline = False
    shared = True
    bounded = False

    def __init__(self, dsn: str, *, lease: float = DEFAULT_LEASE, check: bool = True) -> None:
        if not lease > 0:
            raise ValueError("lease must be positive")
        self.dsn = dsn
        self.lease = lease
        self.where = f" from the outbox {TABLE}"
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        # Claimed rows that another live process submitted (it holds their handles).
        self._foreign: set[Row] = set()
        self._answers_swept = 0.0  # time.monotonic() of the last sweep of stale answers
        self._closed = False
        self._watches: list[OutboxWatch] = []  # see watch()
        # The server process of this store's connection: the NOTIFYs of its own appends
        # (submit() through the outbox) wake no watch of its own, the engine knows of them.
        self._backend_pid = 0
        if check:  # a missing table or another schema version is said here, at once
            with self._connection("opening the outbox") as connection:
                _check_table(connection)

    # -- connections ---

    def _connection(self, doing: str) -> _Using:
        return _Using(self, doing)

    def _open(self) -> psycopg.Connection[Any]:
        if self._closed:
            raise OutboxError("the outbox is closed")
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, autocommit=True)
            self._backend_pid = self._conn.info.backend_pid
        return self._conn

    def _drop(self) -> None:
        """Forget a connection that failed: the next call opens a new one."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the Store protocol ---

    def append(self, key: str, payload: bytes, identity: SentFields | None) -> Row:
        with self._connection("storing a usage event") as connection, connection.cursor() as cur:
            return self._append_on(cur, key, payload)

    def append_many(self, events: Sequence[tuple[str, bytes, SentFields | None]]) -> list[Row]:
        """Several events in one transaction: all of them or none."""
        with (
            self._connection("storing usage events") as connection,
            connection.transaction(),
            connection.cursor() as cur,
        ):
            return [self._append_on(cur, key, payload) for key, payload, _ in events]

    def _append_on(self, cur: psycopg.Cursor[Any], key: str, payload: bytes) -> Row:
        cur.execute(_INSERT, (key, payload, self.owner))
        row = cur.fetchone()
        if row is not None:
            return int(row[0])
        seq = _check_same(cur, key, payload)
        # Recorded before with the same body: its answer is for this submit() too.
        cur.execute(
            f"UPDATE {TABLE} SET submitter = %s WHERE seq = %s AND submitter IS NULL",
            (self.owner, seq),
        )
        return seq

    def claim(self, max_count: int, max_bytes: int) -> Batch[Row]:
        """The oldest rows no live claim holds, up to max_count rows and max_bytes of
        payloads plus one byte each (the first is always taken), claimed for a lease."""
        with self._connection("claiming usage events") as connection:
            with connection.transaction(), connection.cursor() as cur:
                cur.execute(
                    f"""WITH picked AS (
                        SELECT seq FROM {TABLE}
                        WHERE status = 'pending'
                           OR (status = 'claimed' AND lease_until < now())
                        ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED)
                    UPDATE {TABLE} o SET status = 'claimed', claimed_by = %s,
                        lease_until = now() + make_interval(secs => %s),
                        claims = o.claims + 1, updated_at = now()
                    FROM picked WHERE o.seq = picked.seq
                    RETURNING o.seq, o.idempotency_key, o.payload,
                        o.submitter IS NOT NULL AND o.submitter <> %s""",
                    (max_count, self.owner, self.lease, self.owner),
                )
                rows = sorted(cur.fetchall())
                batch: Batch[Row] = Batch()
                total = 0
                spare: list[int] = []
                for seq, key, payload, foreign in rows:
                    total += len(payload) + 1
                    if spare or (batch.keys and total > max_bytes):
                        spare.append(seq)
                        continue
                    batch.add(key, bytes(payload), int(seq), None)
                    if foreign:  # another process's submit(): its answer is kept for it
                        self._foreign.add(int(seq))
                if spare:
                    cur.execute(_UNCLAIM, (spare, self.owner))
                self._forget_stale_answers(cur)
            return batch

    def renew(self, batch: Batch[Row]) -> None:
        with self._connection("renewing a claim") as connection:
            connection.execute(
                f"UPDATE {TABLE} SET lease_until = now() + make_interval(secs => %s) "
                "WHERE seq = ANY(%s) AND status = 'claimed' AND claimed_by = %s",
                (self.lease, list(batch.rows), self.owner),
            )

    def release(self, batch: Batch[Row]) -> None:
        with self._connection("releasing a claim") as connection:
            connection.execute(_UNCLAIM, (list(batch.rows), self.owner))
        self._foreign.difference_update(batch.rows)

    def settle(self, batch: Batch[Row], outcomes: Sequence[Outcome], mine: Sequence[bool]) -> None:
        """Delivered rows leave (or, submitted by another process, wait there as its
        answers); rejected ones stay with the reason."""
        delivered: list[Row] = []
        answered: list[tuple[bytes, int, Row, str]] = []
        rejected: tuple[list[Row], list[str], list[int]] = ([], [], [])
        for index, (row, outcome) in enumerate(zip(batch.rows, outcomes, strict=True)):
            if isinstance(outcome, Exception):
                rejected[0].append(row)
                rejected[1].append(reason_of(outcome))
                rejected[2].append(index)
            elif row in self._foreign:
                created = json.dumps(outcome, separators=(",", ":")).encode()
                answered.append((created, index, row, self.owner))
            else:
                delivered.append(row)
        with (
            self._connection("settling a batch") as connection,
            connection.transaction(),
            connection.cursor() as cur,
        ):
            if delivered:
                cur.execute(f"DELETE FROM {TABLE} WHERE seq = ANY(%s)", (delivered,))
            if answered:
                cur.executemany(
                    f"UPDATE {TABLE} SET status = 'answered', answer = %s, "
                    "batch_index = %s, claimed_by = NULL, lease_until = NULL, "
                    "updated_at = now() "
                    "WHERE seq = %s AND submitter IS NOT NULL AND submitter <> %s",
                    answered,
                )
            if rejected[0]:
                cur.execute(
                    f"""UPDATE {TABLE} o SET status = 'rejected', reason = r.reason,
                        batch_index = r.position, claimed_by = NULL, lease_until = NULL,
                        updated_at = now(),
                        submitter = CASE WHEN o.submitter = %s THEN NULL ELSE o.submitter END
                    FROM unnest(%s::bigint[], %s::text[], %s::int[]) AS r(seq, reason, position)
                    WHERE o.seq = r.seq""",
                    (self.owner, *rejected),
                )
        self._foreign.difference_update(batch.rows)

    def answers_for_me(self) -> list[tuple[Row, Outcome]]:
        """Answers other relays left for events this process submitted."""
        with (
            self._connection("reading answers") as connection,
            connection.transaction(),
            connection.cursor() as cur,
        ):
            cur.execute(
                f"DELETE FROM {TABLE} WHERE status = 'answered' AND submitter = %s "
                "RETURNING seq, idempotency_key, answer, batch_index",
                (self.owner,),
            )
            found = [
                Answer(seq, key, bytes(created), None, index)
                for seq, key, created, index in cur.fetchall()
            ]
            cur.execute(
                f"UPDATE {TABLE} SET submitter = NULL "
                "WHERE status = 'rejected' AND submitter = %s "
                "RETURNING seq, idempotency_key, reason, batch_index",
                (self.owner,),
            )
            found += [
                Answer(seq, key, None, reason, index) for seq, key, reason, index in cur.fetchall()
            ]
        return [(answer.seq, outcome_of(answer)) for answer in found]

    def left(self, cause: str) -> Left:
        return Left(
            logging.WARNING,
            f"close deadline passed; last cause: {cause}; they stay in the outbox {TABLE} "
            "and the next relay delivers them",
            f"closed before the event was acknowledged (last cause: {cause}); it stays in "
            f"the outbox {TABLE}",
        )

    def watch(self, changed: Callable[[], object]) -> Callable[[], None]:
        """Call changed() (from a thread of its own) as soon as a transaction that recorded
        events commits, and after each reconnection of its LISTEN connection; the function
        returned stops it (close() stops every one). Its own appends (submit()) do not call
        it: the engine knows of them."""
        watcher = OutboxWatch(self.dsn, CHANNEL, changed, lambda pid: pid == self._backend_pid)
        with self._lock:
            self._watches.append(watcher)
        return watcher.close

    def close(self) -> None:
        with self._lock:
            watches, self._watches = self._watches, []
        for watcher in watches:
            watcher.close()
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def reopen(self) -> PostgresOutbox:
        """A new outbox on the same database (a forked child's: never the parent's
        connection)."""
        return PostgresOutbox(self.dsn, lease=self.lease, check=False)

    # -- operating it ---

    def wait_for_events(
        self, timeout: float, *, listening: Callable[[], object] | None = None
    ) -> bool:
        """Block until a transaction that recorded events commits (NOTIFY) or timeout
        seconds pass; True when notified. Uses a connection of its own; listening() is
        called once it listens."""
        with Listener(self.dsn) as listener:
            listener.start()
            if listening is not None:
                listening()
            return listener.wait(timeout)

    def status(self) -> OutboxStatus:
        with self._connection("reading the outbox status") as connection:
            row = connection.execute(
                f"""SELECT count(*) FILTER (WHERE status = 'pending'
                                OR (status = 'claimed' AND lease_until < now())),
                           count(*) FILTER (WHERE status = 'claimed' AND lease_until >= now()),
                           count(*) FILTER (WHERE status = 'rejected'),
                           extract(epoch FROM now() - min(created_at)
                                   FILTER (WHERE status IN ('pending', 'claimed')))
                    FROM {TABLE}"""
            ).fetchone()
        assert row is not None  # an aggregate always has a row
        age = None if row[3] is None else float(row[3])
        return OutboxStatus(int(row[0]), int(row[1]), int(row[2]), age)

    def rejected(self) -> Iterator[RejectedRow]:
        with self._connection("reading rejected events") as connection:
            rows = connection.execute(
                f"SELECT idempotency_key, payload, reason, created_at, updated_at "
                f"FROM {TABLE} WHERE status = 'rejected' ORDER BY seq"
            ).fetchall()
        for key, payload, reason, recorded, rejected_at in rows:
            yield RejectedRow(key, bytes(payload), reason, recorded, rejected_at)

    def requeue(
        self, *, keys: Sequence[str] | None = None, reason_contains: str | None = None
    ) -> int:
        """Make rejected rows pending again: all, those of keys, or those whose reason
        contains the text; how many."""
        where = "status = 'rejected'"
        params: list[Any] = []
        if keys is not None:
            where += " AND idempotency_key = ANY(%s)"
            params.append(list(keys))
        if reason_contains is not None:
            where += " AND strpos(reason, %s) > 0"
            params.append(reason_contains)
        with self._connection("requeueing rejected events") as connection:
            cursor = connection.execute(
                f"UPDATE {TABLE} SET status = 'pending', reason = NULL, batch_index = NULL, "
                f"updated_at = now() WHERE {where}",
                params,
            )
            return cursor.rowcount

    def __repr__(self) -> str:
        return f"PostgresOutbox(owner={self.owner!r})"  # never the DSN: it may hold a password

    def __enter__(self) -> PostgresOutbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _forget_stale_answers(self, cur: psycopg.Cursor[Any]) -> None:
        """Answers whose submitter never came for them (it died) go after a while (looked
        for once a lease: it scans the table)."""
        now = time.monotonic()
        if now - self._answers_swept < self.lease:
            return
        self._answers_swept = now
        cur.execute(
            f"DELETE FROM {TABLE} WHERE status = 'answered' "
            "AND updated_at < now() - make_interval(secs => %s)",
            (self.lease * _ANSWER_LEASES,),
        )


class Listener:
    """A connection that LISTENs on the outbox's channel: wait() returns as soon as a
    transaction that recorded events commits. A lost connection is opened again on the next
    wait() (which then says True: events may have come meanwhile)."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._conn: psycopg.Connection[Any] | None = None

    def start(self) -> None:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, autocommit=True)
            self._conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))

    def wait(self, timeout: float) -> bool:
        """True when notified (or reconnected) within timeout seconds."""
        try:
            if self._conn is None or self._conn.closed:
                self.start()
                return True
            # psycopg keeps what arrives between two notifies() calls for the next one.
            return any(True for _ in self._conn.notifies(timeout=timeout, stop_after=1))
        except psycopg.OperationalError:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


_UNCLAIM: Final = (
    f"UPDATE {TABLE} SET status = 'pending', claimed_by = NULL, lease_until = NULL "
    "WHERE seq = ANY(%s) AND status = 'claimed' AND claimed_by = %s"
)


class _Using:
    """`with outbox._connection(doing) as connection`: one caller at a time (the engine's
    senders call from several threads), a failed connection dropped, and psycopg's errors
    raised as OutboxError saying what was being done."""

    def __init__(self, outbox: PostgresOutbox, doing: str) -> None:
        self._outbox = outbox
        self._doing = doing

    def __enter__(self) -> psycopg.Connection[Any]:
        self._outbox._lock.acquire()
        try:
            return self._outbox._open()
        except psycopg.Error as error:
            self._outbox._lock.release()
            raise outbox_error(self._doing, error) from error
        except BaseException:
            self._outbox._lock.release()
            raise

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        try:
            if isinstance(exc, psycopg.Error):
                if isinstance(exc, psycopg.OperationalError) or (
                    self._outbox._conn is not None and self._outbox._conn.broken
                ):
                    self._outbox._drop()
                raise outbox_error(self._doing, exc) from exc
        finally:
            self._outbox._lock.release()


def _version(cursor: psycopg.Cursor[Any]) -> int | None:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{TABLE}_version",))
    exists = cursor.fetchone()
    if not exists or not exists[0]:
        return None
    cursor.execute(f"SELECT max(version) FROM {TABLE}_version")
    row = cursor.fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _check_table(connection: psycopg.Connection[Any]) -> None:
    with connection.cursor() as cursor:
        found = _version(cursor)
    if found is None:
        raise OutboxError(
            f"there is no outbox table {TABLE} in this database: create it with "
            "`paygentic-usage outbox init --dsn ...` (or run the SQL `paygentic-usage outbox "
            "init --print-sql` prints)"
        )
    if found != SCHEMA_VERSION:
        raise OutboxError(
            f"the outbox table {TABLE} has schema version {found}; this paygentic-client "
            f"uses version {SCHEMA_VERSION}: run `paygentic-usage outbox init` of the "
            "matching version"
        )


def outbox_error(doing: str, error: psycopg.Error) -> OutboxError:
    """An OutboxError saying what failed; a missing table or privilege says what to do."""
    hint = ""
    if isinstance(error, psycopg.errors.UndefinedTable):
        hint = f" (no outbox table {TABLE}: run `paygentic-usage outbox init`)"
    elif isinstance(error, psycopg.errors.InsufficientPrivilege):
        hint = f" (the database user needs SELECT, INSERT, UPDATE, DELETE on {TABLE})"
    return OutboxError(f"{doing} failed: {error}{hint}")
