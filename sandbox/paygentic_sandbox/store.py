"""SQLite storage of usage events.

One connection, serialized by a lock: SQLite writes one transaction at a time anyway, and
the server's handlers are short. Idempotency is enforced by the database itself, with
UNIQUE (merchant_id, idempotency_key), so even concurrent repeats make one event.

Durability: WAL with synchronous=NORMAL. A committed transaction is in the WAL file (in
the operating system's cache) before the response is sent, so it survives `kill -9` of the
server; only a power loss could lose the last transactions.

Listing is linear in what is listed and blind to the rest of the table (see `Store.page`):
an index per filter the API's list takes most (merchant, customer, time), and a page that
continues where the previous one of the same listing ended starts from that row instead of
counting and skipping everything before it.

Speed: checkpoints (copying the WAL into the database, with an fsync) run in a background
thread on their own connection instead of inside whichever commit crosses the threshold,
which would add 100 ms to that request.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from paygentic_sandbox import jsontext

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage_events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    consumer_id TEXT NOT NULL,
    timestamp_us INTEGER NOT NULL,
    -- The event as responses show it (JSON), so that reads need no re-encoding.
    document TEXT NOT NULL,
    refunded INTEGER NOT NULL DEFAULT 0,
    UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS usage_events_by_time
    ON usage_events (merchant_id, timestamp_us, id);
-- One customer's events, in list order: without it a customer's page reads (and its count
-- counts) every event of the merchant in the time range.
CREATE INDEX IF NOT EXISTS usage_events_by_customer
    ON usage_events (merchant_id, customer_id, timestamp_us, id);
"""

_INSERT = """
INSERT INTO usage_events (id, merchant_id, idempotency_key, customer_id, subscription_id,
                          consumer_id, timestamp_us, document)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (merchant_id, idempotency_key) DO NOTHING
"""
_KEYS_PER_QUERY = 400

_BY_KEY = "SELECT document FROM usage_events WHERE merchant_id = ? AND idempotency_key = ?"
_BY_ID = "SELECT document, refunded FROM usage_events WHERE id = ? AND merchant_id = ?"

CHECKPOINT_INTERVAL_SECONDS = 0.5

# SQLite's OFFSET is a signed 64-bit integer; past the number of rows any offset is alike.
_MAX_OFFSET = 2**62
# Listings whose next page is remembered (see Store.page); the least recently used goes.
_CONTINUATIONS = 1024


class NewEvent(NamedTuple):
    """A validated event ready to insert; `document` is its response form (JSON). A tuple
    of the table's columns in `_INSERT`'s order, so that it is itself the row SQLite binds."""

    id: str
    merchant_id: str
    idempotency_key: str
    customer_id: str
    subscription_id: str
    consumer_id: str
    timestamp_us: int
    document: str


class Stored(NamedTuple):
    document: str
    replayed: bool


@dataclass(frozen=True)
class ListFilter:
    merchant_id: str
    start_us: int
    end_us: int
    customer_id: str | None = None
    consumer_id: str | None = None
    subscription_id: str | None = None
    # Equalities on top-level fields of the stored event (generic_filters.py): (name, value).
    fields: tuple[tuple[str, Any], ...] = ()


class _Continuation(NamedTuple):
    """Where a listing's page ended: its last row's sort key, the listing's total, and the
    merchant's write generation both were read at."""

    timestamp_us: int
    id: str
    total: int
    generation: int


class Store:
    def __init__(self, path: str) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are opened explicitly, see `_transaction`.
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        # (filter, offset of the next page) -> where the page before it ended; and per
        # merchant a counter of the writes that may change what a listing holds. Both under
        # self._lock.
        self._continuations: OrderedDict[tuple[ListFilter, int], _Continuation] = OrderedDict()
        self._generations: dict[str, int] = {}
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA cache_size=-65536")  # 64 MiB
        self._db.executescript(_SCHEMA)
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        if path != ":memory:":
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, args=(path,), name="sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoint_loop(self, path: str) -> None:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            while not self._stop.wait(CHECKPOINT_INTERVAL_SECONDS):
                # PASSIVE never blocks the writer; what it cannot copy now waits for the next.
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            db.close()

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._lock:
            self._db.close()

    def insert_many(self, events: Sequence[NewEvent]) -> list[Stored]:
        """Insert every event in one transaction; an event whose key its merchant already
        used is not inserted, and the stored one is returned instead (also for a key that
        repeats within `events`: the first event with it is inserted).

        UNIQUE (merchant_id, idempotency_key) decides, with ON CONFLICT DO NOTHING: when
        the number of inserted rows shows that no key was taken (the usual case), no
        lookup is needed; otherwise the stored events are read back."""
        firsts: dict[tuple[str, str], NewEvent] = {}
        for event in events:
            firsts.setdefault((event.merchant_id, event.idempotency_key), event)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                changes_before = self._db.total_changes
                self._db.executemany(_INSERT, firsts.values())
                inserted = self._db.total_changes - changes_before
                if inserted:
                    self._invalidate_listings({event.merchant_id for event in firsts.values()})
                taken = {} if inserted == len(firsts) else self._taken_keys(firsts)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        results = []
        for event in events:
            key = (event.merchant_id, event.idempotency_key)
            if key in taken:
                results.append(Stored(taken[key], replayed=True))
            else:
                first = firsts[key]
                results.append(Stored(first.document, replayed=event is not first))
        return results

    def _taken_keys(self, firsts: dict[tuple[str, str], NewEvent]) -> dict[tuple[str, str], str]:
        """The stored documents of the keys that an earlier event, not the one in `firsts`,
        holds."""
        keys = sorted(firsts)
        taken: dict[tuple[str, str], str] = {}
        for start in range(0, len(keys), _KEYS_PER_QUERY):
            chunk = keys[start : start + _KEYS_PER_QUERY]
            pairs = " OR ".join(["(merchant_id = ? AND idempotency_key = ?)"] * len(chunk))
            values = [value for pair in chunk for value in pair]
            for event_id, merchant_id, key, document in self._db.execute(
                "SELECT id, merchant_id, idempotency_key, document FROM usage_events "
                f"WHERE {pairs}",
                values,
            ):
                if event_id != firsts[(merchant_id, key)].id:
                    taken[(merchant_id, key)] = document
        return taken

    def get(self, merchant_id: str, event_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(_BY_ID, (event_id, merchant_id)).fetchone()
        return str(row[0]) if row else None

    def refund(
        self, merchant_id: str, event_id: str, refund: dict[str, Any]
    ) -> tuple[str | None, bool]:
        """(the event after the refund, whether this call refunded it); (None, False) when
        the merchant has no such event. A refunded event is never refunded again."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(_BY_ID, (event_id, merchant_id)).fetchone()
                if row is None or row[1]:
                    self._db.execute("COMMIT")
                    return (str(row[0]) if row else None), False
                event = json.loads(row[0])
                event["refund"] = refund
                document = jsontext.dumps(event)
                self._db.execute(
                    "UPDATE usage_events SET document = ?, refunded = 1 WHERE id = ?",
                    (document, event_id),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return document, True

    def _invalidate_listings(self, merchant_ids: Iterable[str]) -> None:
        """New events may land before a remembered continuation: its offset and total no
        longer hold. Called under self._lock."""
        for merchant_id in merchant_ids:
            self._generations[merchant_id] = self._generations.get(merchant_id, 0) + 1

    def page(self, where: ListFilter, limit: int, offset: int) -> tuple[list[str], int]:
        """One page of matching events, ordered by timestamp then id, and the total.

        A listing read page after page (offset 0, then offset + limit, ... with the same
        filter) costs what it returns: the page that continues the previous one starts after
        that page's last row (a keyset seek on the index) and reuses its total, while no
        event of the merchant was inserted since. Any other offset counts and skips
        (`count(*)` and `OFFSET` on the index), as before.
        """
        index = "usage_events_by_customer" if where.customer_id else "usage_events_by_time"
        # INDEXED BY: without statistics (no ANALYZE) SQLite may pick the time index for a
        # customer's listing and read the whole merchant's range.
        table = f"usage_events INDEXED BY {index}"
        with self._lock:
            generation = self._generations.get(where.merchant_id, 0)
            key = (where, offset)
            continuation = self._continuations.get(key)
            if continuation is not None and continuation.generation == generation:
                self._continuations.move_to_end(key)
                # The seek replaces the start of the time range (the row it continues from is
                # in it), so that the index range begins at the row and not at start_us.
                after = (continuation.timestamp_us, continuation.id)
                condition, values = self._condition(where, after=after)
                rows = self._db.execute(
                    f"SELECT timestamp_us, id, document FROM {table} WHERE {condition} "
                    "ORDER BY timestamp_us, id LIMIT ?",
                    [*values, limit],
                ).fetchall()
                total = continuation.total
            else:
                condition, values = self._condition(where)
                (total,) = self._db.execute(
                    f"SELECT count(*) FROM {table} WHERE {condition}", values
                ).fetchone()
                rows = self._db.execute(
                    f"SELECT timestamp_us, id, document FROM {table} WHERE {condition} "
                    "ORDER BY timestamp_us, id LIMIT ? OFFSET ?",
                    [*values, limit, min(offset, _MAX_OFFSET)],
                ).fetchall()
            if rows and offset + len(rows) < total:
                last_timestamp, last_id, _ = rows[-1]
                self._remember(
                    (where, offset + len(rows)),
                    _Continuation(last_timestamp, last_id, int(total), generation),
                )
        return [str(row[2]) for row in rows], int(total)

    def _remember(self, key: tuple[ListFilter, int], continuation: _Continuation) -> None:
        self._continuations[key] = continuation
        self._continuations.move_to_end(key)
        if len(self._continuations) > _CONTINUATIONS:
            self._continuations.popitem(last=False)

    def _condition(
        self, where: ListFilter, after: tuple[int, str] | None = None
    ) -> tuple[str, list[Any]]:
        """The WHERE clause of a listing; with `after`, only the rows after that sort key."""
        clauses = ["merchant_id = ?", "timestamp_us <= ?"]
        values: list[Any] = [where.merchant_id, where.end_us]
        if after is None:
            clauses.append("timestamp_us >= ?")
            values.append(where.start_us)
        else:
            clauses.append("(timestamp_us, id) > (?, ?)")
            values += after
        for column, value in self._filters(where):
            clauses.append(f"{column} = ?")
            values.append(value)
        for name, value in where.fields:
            # The name is bound too: a JSON path, not SQL text.
            clauses.append("json_extract(document, ?) = ?")
            values += [f"$.{name}", value]
        return " AND ".join(clauses), values

    @staticmethod
    def _filters(where: ListFilter) -> Iterable[tuple[str, str]]:
        for column, value in (
            ("customer_id", where.customer_id),
            ("consumer_id", where.consumer_id),
            ("subscription_id", where.subscription_id),
        ):
            if value is not None:
                yield column, value

    def read(self, sql: str, values: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one read-only query, under the store's lock (the dashboard's views
        of the table: see dashboard/queries.py)."""
        with self._lock:
            return self._db.execute(sql, values).fetchall()

    def count(self) -> int:
        with self._lock:
            (total,) = self._db.execute("SELECT count(*) FROM usage_events").fetchone()
        return int(total)
