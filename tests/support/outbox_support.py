"""What the outbox's tests share (tests/ingest/test_outbox*.py): events, the table's rows,
a bounded wait."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable

import psycopg

from paygentic_client import RetryPolicy
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty
from support.sandbox_fixture import MERCHANT_ID

FAST = RetryPolicy(backoff_initial=0.001, backoff_max=0.01)
STAMP = datetime.datetime(2024, 2, 1, 9, 0, tzinfo=datetime.UTC)  # every event's timestamp
PATIENCE = 30.0  # what takes a fraction of a second, on a loaded machine; a hang still ends


def event(n: int, quantity: float = 1, prefix: str = "ob") -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"{prefix}_{n:05d}",
        customer_id="cus_outbox",
        merchant_id=MERCHANT_ID,
        timestamp=STAMP,
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_o", quantity=quantity)],
    )


def rows(dsn: str) -> list[tuple[str, str, bytes]]:
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT idempotency_key, status, payload FROM paygentic_outbox ORDER BY seq"
        ).fetchall()
    return [(key, status, bytes(payload)) for key, status, payload in found]


def eventually(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, "not within the patience"
        time.sleep(0.02)
