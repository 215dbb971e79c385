"""SQLite storage of usage events.

One connection, serialized by a lock: SQLite writes one transaction at a time anyway, and
the server's handlers are short. Idempotency is enforced by the database itself, with
UNIQUE (merchant_id, idempotency_key), so even concurrent repeats make one event.

Durability: WAL with synchronous=NORMAL. A committed transaction is in the WAL file (in
the operating system's cache) before the response is sent, so it survives `kill -9` of the
server; only a power loss could lose the last transactions.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    timestamp_us INTEGER NOT NULL,
    -- The event as responses show it, without `refund` (JSON).
    document TEXT NOT NULL,
    -- The `refund` object (JSON), NULL until the event is refunded.
    refund TEXT,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS usage_events_by_time
    ON usage_events (merchant_id, timestamp_us, id);
"""

_INSERT = """
INSERT INTO usage_events (id, merchant_id, idempotency_key, customer_id, subscription_id,
                          consumer_id, timestamp_us, document)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
"""

_BY_KEY = "SELECT document, refund FROM usage_events WHERE merchant_id = ? AND idempotency_key = ?"

# SQLite's OFFSET is a signed 64-bit integer; past the number of rows any offset is alike.
_MAX_OFFSET = 2**62


@dataclass(frozen=True)
class NewEvent:
    """A validated event ready to insert; `document` is its response form."""

    id: str
    merchant_id: str
    idempotency_key: str
    customer_id: str
    subscription_id: str
    consumer_id: str
    timestamp_us: int
    document: dict[str, Any]


@dataclass(frozen=True)
class Stored:
    event: dict[str, Any]
    replayed: bool


@dataclass(frozen=True)
class ListFilter:
    merchant_id: str
    start_us: int
    end_us: int
    customer_id: str | None = None
    consumer_id: str | None = None
    subscription_id: str | None = None


def _event(document: str, refund: str | None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(document)
    event["refund"] = json.loads(refund) if refund is not None else None
    return event


class Store:
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are opened explicitly, see `_transaction`.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def insert_many(self, events: Sequence[NewEvent]) -> list[Stored]:
        """Insert every event in one transaction; an event whose key its merchant already
        used is not inserted, and the stored one is returned instead (also for a key that
        repeats within `events`)."""
        results = []
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for event in events:
                    results.append(self._insert_one(event))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return results

    def _insert_one(self, event: NewEvent) -> Stored:
        document = json.dumps(event.document, separators=(",", ":"))
        cursor = self._db.execute(
            _INSERT,
            (
                event.id,
                event.merchant_id,
                event.idempotency_key,
                event.customer_id,
                event.subscription_id,
                event.consumer_id,
                event.timestamp_us,
                document,
            ),
        )
        if cursor.rowcount == 1:
            return Stored({**event.document, "refund": None}, replayed=False)
        row = self._db.execute(_BY_KEY, (event.merchant_id, event.idempotency_key)).fetchone()
        return Stored(_event(*row), replayed=True)

    def get(self, merchant_id: str, event_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT document, refund FROM usage_events WHERE id = ? AND merchant_id = ?",
                (event_id, merchant_id),
            ).fetchone()
        return _event(*row) if row else None

    def refund(
        self, merchant_id: str, event_id: str, refund: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, bool]:
        """(the event after the refund, whether this call refunded it); (None, False) when
        the merchant has no such event. A refunded event is never refunded again."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(
                    "UPDATE usage_events SET refund = ? "
                    "WHERE id = ? AND merchant_id = ? AND refund IS NULL",
                    (json.dumps(refund), event_id, merchant_id),
                )
                row = self._db.execute(
                    "SELECT document, refund FROM usage_events WHERE id = ? AND merchant_id = ?",
                    (event_id, merchant_id),
                ).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return (_event(*row) if row else None), cursor.rowcount == 1

    def page(self, where: ListFilter, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        """One page of matching events, ordered by timestamp then id, and the total."""
        clauses = ["merchant_id = ?", "timestamp_us >= ?", "timestamp_us <= ?"]
        values: list[Any] = [where.merchant_id, where.start_us, where.end_us]
        for column, value in self._filters(where):
            clauses.append(f"{column} = ?")
            values.append(value)
        condition = " AND ".join(clauses)
        with self._lock:
            (total,) = self._db.execute(
                f"SELECT count(*) FROM usage_events WHERE {condition}", values
            ).fetchone()
            rows = self._db.execute(
                f"SELECT document, refund FROM usage_events WHERE {condition} "
                "ORDER BY timestamp_us, id LIMIT ? OFFSET ?",
                [*values, limit, min(offset, _MAX_OFFSET)],
            ).fetchall()
        return [_event(*row) for row in rows], int(total)

    @staticmethod
    def _filters(where: ListFilter) -> Iterable[tuple[str, str]]:
        for column, value in (
            ("customer_id", where.customer_id),
            ("consumer_id", where.consumer_id),
            ("subscription_id", where.subscription_id),
        ):
            if value is not None:
                yield column, value

    def count(self) -> int:
        with self._lock:
            (total,) = self._db.execute("SELECT count(*) FROM usage_events").fetchone()
        return int(total)
