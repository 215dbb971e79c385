"""`paygentic-usage outbox init|status|rejected|requeue|drain|relay`: operating the
PostgreSQL outbox (paygentic_client.ingest.outbox). The DSN comes from --dsn or
PAYGENTIC_OUTBOX_DSN (better: a password in an argument shows in the process list).

init: create or upgrade the outbox table (idempotent); --print-sql prints the SQL instead,
for teams that run migrations themselves (Alembic, Django). status: pending, claimed (by a
live relay), rejected, the age of the oldest waiting event (--json: one JSON object).
rejected: the rejected events with the API's reasons, one JSON object a line. requeue: move
rejected events back to pending (--all, --key KEY..., or --reason-contains TEXT). drain:
deliver every pending event, then exit 0; non-zero with the reason when events were
rejected or the API took nothing for --patience seconds. relay: deliver what is recorded,
as it is committed (LISTEN/NOTIFY, polling as the fallback), until interrupted (SIGINT or
SIGTERM).

psycopg is imported only here, when an outbox command runs (the `postgres` extra).
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ..client import AuthenticatedClient
from .spool import DrainResult

POSTGRES_MISSING = (
    "the outbox needs psycopg, which comes with the postgres extra:\n"
    '    pip install "paygentic-client[postgres]"'
)


def init(dsn: str, out: TextIO) -> int:
    import psycopg

    from ..errors import OutboxError
    from ..ingest.outbox import SCHEMA_VERSION, TABLE, init

    try:
        with psycopg.connect(dsn) as conn:
            init(conn)
    except psycopg.Error as error:
        raise OutboxError(f"creating the outbox failed: {error}") from error
    print(f"the outbox table {TABLE} is ready (schema version {SCHEMA_VERSION})", file=out)
    return 0


def print_sql(out: TextIO) -> int:
    from ..ingest.outbox import outbox_sql

    out.write(outbox_sql())
    return 0


def status(dsn: str, out: TextIO, *, as_json: bool) -> int:
    from ..ingest.outbox import PostgresOutbox

    with PostgresOutbox(dsn) as store:
        figures = store.status()
    if as_json:
        line = {
            "pending": figures.pending,
            "claimed": figures.claimed,
            "rejected": figures.rejected,
            "oldestAgeSeconds": figures.oldest_age,
        }
        out.write(json.dumps(line) + "\n")
        return 0
    age = "-" if figures.oldest_age is None else f"{figures.oldest_age:.1f} s"
    print(f"pending: {figures.pending}", file=out)
    print(f"claimed: {figures.claimed}", file=out)
    print(f"rejected: {figures.rejected}", file=out)
    print(f"oldest waiting: {age}", file=out)
    return 0


def rejected(dsn: str, out: TextIO) -> int:
    from ..ingest.outbox import PostgresOutbox

    with PostgresOutbox(dsn) as store:
        for row in store.rejected():
            line = {
                "idempotencyKey": row.key,
                "reason": row.reason,
                "recordedAt": row.recorded_at.isoformat(),
                "rejectedAt": row.rejected_at.isoformat(),
                "event": json.loads(row.payload),
            }
            out.write(json.dumps(line) + "\n")
    return 0


def requeue(
    dsn: str,
    out: TextIO,
    *,
    everything: bool = False,
    keys: Sequence[str] = (),
    reason_contains: str | None = None,
) -> int:
    """Move the chosen rejected events back to pending (one of the three choices)."""
    from ..ingest.outbox import PostgresOutbox

    with PostgresOutbox(dsn) as store:
        if everything:
            moved = store.requeue()
        elif keys:
            moved = store.requeue(keys=keys)
        else:
            assert reason_contains is not None
            moved = store.requeue(reason_contains=reason_contains)
    if not moved:
        print("no rejected event matched: nothing moved", file=out)
        return 0
    print(
        f"{moved} events moved back to pending; a relay delivers them, or run "
        "`paygentic-usage outbox drain`",
        file=out,
    )
    return 0


def drain(
    client: AuthenticatedClient, dsn: str, *, patience: float, poll: float = 0.1
) -> DrainResult:
    """Deliver what the outbox holds; stops when nothing waits or nothing moved for
    patience seconds. Events claimed by a live relay are left to it."""
    from ..ingest.outbox import PostgresOutbox
    from ..ingest.threaded import UsageIngester

    with PostgresOutbox(dsn) as reader:
        before = last = reader.status()
        ingester = UsageIngester(
            client, store=PostgresOutbox(dsn), flush_interval=poll, max_in_flight=2
        )
        moved_at = time.monotonic()
        try:
            while _waiting(last) and time.monotonic() - moved_at < patience:
                time.sleep(poll)
                now = reader.status()
                if _waiting(now) < _waiting(last):
                    moved_at = time.monotonic()
                last = now
            cause = ingester.stats().stall_cause
        finally:
            ingester.close(timeout=0)
    rejected = last.rejected - before.rejected
    delivered = _waiting(before) - _waiting(last) - rejected
    return DrainResult(max(0, delivered), rejected, _waiting(last), cause)


def _waiting(figures: Any) -> int:
    return int(figures.pending + figures.claimed)


def drain_message(result: DrainResult) -> tuple[int, str]:
    done = f"{result.delivered} events delivered"
    if result.left:
        cause = result.cause or "events are claimed by another live relay"
        return 1, f"{done}; {result.left} still waiting: nothing moved ({cause})"
    if result.rejected:
        see = "paygentic-usage outbox rejected"
        return 1, f"{done}; {result.rejected} rejected by the API (see `{see}`)"
    return 0, f"{done}; the outbox is empty"


def relay(
    client: AuthenticatedClient,
    dsn: str,
    *,
    poll: float,
    lease: float = 30.0,
    stop: threading.Event | None = None,
    out: TextIO = sys.stderr,
) -> int:
    """Relay until stop is set (or SIGINT/SIGTERM when it is None): a NOTIFY claims what
    was committed at once (the ingester LISTENs: PostgresOutbox.watch); every poll seconds
    the outbox is looked at anyway."""
    from ..ingest.outbox import PostgresOutbox
    from ..ingest.threaded import UsageIngester

    if stop is None:
        stop = _stop_on_signals()
    ingester = UsageIngester(client, store=PostgresOutbox(dsn, lease=lease), flush_interval=poll)
    print("relaying the outbox; stop with Ctrl-C or SIGTERM", file=out)
    try:
        while not stop.wait(1.0):  # a timeout: the main thread runs the signal handlers
            pass
    finally:
        ingester.close()
    stats = ingester.stats()
    print(f"relayed {stats.recovered} events", file=out)
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop
