"""A PostgreSQL restart while relays run (tests/support/postgres_fixture.py's
`restartable_postgres`: pgserver stops the session's server, every session ended, and
starts it again on the same data directory): the relays reconnect by themselves, their
store connections and their LISTEN ones alike, and every event recorded before, during and
after is delivered exactly once."""

from __future__ import annotations

import threading

import psycopg
from support.inprocess_sandbox import InProcessFactory
from support.outbox_support import FAST, PATIENCE, event, eventually, rows
from support.postgres_fixture import RestartablePostgres

from paygentic_client import UsageIngester
from paygentic_client.ingest.outbox import PostgresOutbox, record_many

# Far longer than the test: after the restart, only reconnected LISTENs wake the relays.
POLL = 600.0
RELAYS = 3


def listeners(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query = 'LISTEN \"paygentic_outbox\"'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def record_transactions(dsn: str, first: int, count: int) -> set[str]:
    """count transactions of 20 events each; their keys."""
    keys: set[str] = set()
    with psycopg.connect(dsn) as conn:
        for transaction in range(first, first + count):
            batch = [event(transaction * 100 + n, prefix="restart") for n in range(20)]
            record_many(conn, batch)
            conn.commit()
            keys |= {item.idempotency_key for item in batch}
    return keys


def test_relays_reconnect_after_a_database_restart_and_deliver_every_event_once(
    restartable_postgres: RestartablePostgres, in_process_sandbox: InProcessFactory
) -> None:
    database = restartable_postgres
    # drop: the sandbox stored the batch and the answer is lost (sent again: the same keys)
    sandbox = in_process_sandbox(rates={"drop": 0.2, "503": 0.1})
    relays = [
        UsageIngester(
            sandbox.client(retry_policy=FAST),
            store=PostgresOutbox(database.dsn, lease=2.0),
            flush_interval=POLL,
            max_batch_size=50,
        )
        for _ in range(RELAYS)
    ]
    expected: set[str] = set()
    try:
        eventually(lambda: listeners(database.dsn) == RELAYS)
        sandbox.network.gate.close()  # batches wait on the wire, their rows claimed
        expected |= record_transactions(database.dsn, 0, 10)
        assert sandbox.network.gate.wait_held(2, PATIENCE)
        # Restarted while relays hold claims and wait for answers: their connections die,
        # the answers come after it (to settle on a new connection), and leases of 2 s run
        # out meanwhile (the rows are claimed and sent again: the keys are the same).
        database.restart()
        sandbox.network.gate.open()
        eventually(lambda: listeners(database.dsn) == RELAYS)  # they LISTEN again
        writer = threading.Thread(
            target=lambda: expected.update(record_transactions(database.dsn, 10, 10))
        )
        writer.start()
        writer.join(PATIENCE)
        eventually(lambda: rows(database.dsn) == [])
    finally:
        for relay in relays:
            relay.close(timeout=PATIENCE)
    stored = sandbox.stored_keys()
    assert len(expected) == 20 * 20
    assert len(stored) == len(expected)  # none twice
    assert set(stored) == expected
    assert sum(relay.stats().recovered for relay in relays) >= len(expected)
