"""The reads of the store behind the dashboard's pages: one merchant's events, filtered.

Only ever the signed-in merchant's rows (`merchant_id = ?` leads every query, and the
store's indexes). The billable metric is inside each event's JSON document: SQLite's
json_each finds it there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paygentic_sandbox.store import Store

# The usage chart reads at most this many events (the newest ones count when there are more).
USAGE_EVENTS_READ = 100_000


@dataclass(frozen=True)
class EventFilter:
    customer_id: str = ""
    metric: str = ""
    key: str = ""
    start_us: int | None = None
    end_us: int | None = None


@dataclass(frozen=True)
class EventRow:
    event: dict[str, Any]
    refunded: bool

    @property
    def disputed(self) -> bool:
        return bool(self.event.get("dispute"))


def _where(merchant_id: str, where: EventFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = ["merchant_id = ?"]
    values: list[Any] = [merchant_id]
    for column, value in (("customer_id", where.customer_id), ("idempotency_key", where.key)):
        if value:
            clauses.append(f"{column} = ?")
            values.append(value)
    if where.start_us is not None:
        clauses.append("timestamp_us >= ?")
        values.append(where.start_us)
    if where.end_us is not None:
        clauses.append("timestamp_us <= ?")
        values.append(where.end_us)
    if where.metric:
        clauses.append(
            "EXISTS (SELECT 1 FROM json_each(document, '$.properties') "
            "WHERE json_extract(value, '$.billableMetricId') = ?)"
        )
        values.append(where.metric)
    return " AND ".join(clauses), values


def events(
    store: Store, merchant_id: str, where: EventFilter, limit: int, offset: int
) -> tuple[list[EventRow], int]:
    """One page of the merchant's matching events, newest first, and how many match."""
    condition, values = _where(merchant_id, where)
    ((total,),) = store.read(f"SELECT count(*) FROM usage_events WHERE {condition}", values)
    rows = store.read(
        f"SELECT document, refunded FROM usage_events WHERE {condition} "
        "ORDER BY timestamp_us DESC, id DESC LIMIT ? OFFSET ?",
        [*values, limit, offset],
    )
    return [EventRow(_parsed(document), bool(refunded)) for document, refunded in rows], int(total)


@dataclass(frozen=True)
class Usage:
    """One property of one event that counts as usage."""

    timestamp_us: int
    customer_id: str
    metric: str
    quantity: Decimal


def usage(store: Store, merchant_id: str, where: EventFilter) -> list[Usage]:
    """The quantities of the merchant's matching events that are not refunded (a refund
    reverts the consumption), oldest first; only the given metric's when one is given."""
    condition, values = _where(merchant_id, where)
    rows = store.read(
        "SELECT timestamp_us, customer_id, document FROM ("
        f"SELECT timestamp_us, customer_id, document FROM usage_events WHERE {condition} "
        "AND refunded = 0 ORDER BY timestamp_us DESC LIMIT ?) ORDER BY timestamp_us",
        [*values, USAGE_EVENTS_READ],
    )
    found = []
    for timestamp_us, customer_id, document in rows:
        for prop in _parsed(document)["properties"]:
            metric = prop["billableMetricId"]
            if not where.metric or metric == where.metric:
                found.append(Usage(timestamp_us, customer_id, metric, Decimal(prop["quantity"])))
    return found


def _parsed(document: str) -> dict[str, Any]:
    # Quantities and prices exactly as stored: Decimal, never float.
    parsed: dict[str, Any] = json.loads(document, parse_float=Decimal)
    return parsed
