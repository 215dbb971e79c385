"""The PostgreSQL outbox (paygentic_client/ingest/outbox.py) against a real PostgreSQL
(tests/support/postgres_fixture.py: pgserver) and the sandbox app in process: an event
recorded in a transaction exists if and only if that transaction commits, is delivered
exactly once by any number of relays, and a key is never recorded for two bodies."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections import Counter

import psycopg
import pytest
from support.inprocess_sandbox import InProcessFactory
from support.outbox_support import FAST, PATIENCE, event, eventually, rows

from paygentic_client import AsyncUsageIngester, UsageIngester
from paygentic_client.errors import IdempotencyConflictError, OutboxError
from paygentic_client.ingest import outbox
from paygentic_client.ingest.core import encode_event
from paygentic_client.ingest.outbox import PostgresOutbox, record, record_many
from paygentic_client.models import Metadata


def test_a_rolled_back_transaction_records_nothing_and_a_committed_one_is_delivered_once(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    with psycopg.connect(outbox_dsn) as conn:
        record(conn, event(1))
        conn.rollback()
        record_many(conn, [event(2), event(3)])
        conn.commit()
    assert [key for key, _, _ in rows(outbox_dsn)] == ["ob_00002", "ob_00003"]
    # The bytes are the spool's (encode_event), so the relay sends what a submit() would.
    assert rows(outbox_dsn)[0][2] == encode_event(event(2))[1]

    sandbox = in_process_sandbox()
    relay = UsageIngester(
        sandbox.client(retry_policy=FAST), store=PostgresOutbox(outbox_dsn), flush_interval=0.05
    )
    try:
        eventually(lambda: rows(outbox_dsn) == [])
    finally:
        relay.close(timeout=PATIENCE)
    assert sorted(sandbox.stored_keys()) == ["ob_00002", "ob_00003"]
    assert len(sandbox.network.sent) == 1  # one batch, sent once


def test_record_many_stores_keys_and_bodies_byte_for_byte(outbox_dsn: str) -> None:
    # record_many() sends its two arrays in binary (no text escaping): keys and bodies with
    # quotes, backslashes, braces, commas, NULL-like text and non-ASCII come back unchanged.
    odd = ['q"uote', "back\\slash", "{brace},comma", "NULL", "caf\u00e9 \U0001f600", " lead"]
    events = [event(n, prefix=text) for n, text in enumerate(odd)]
    for one in events:
        one.metadata = Metadata.from_dict({"note": f'{one.idempotency_key} \\ " ,{{}}'})
    with psycopg.connect(outbox_dsn) as conn:
        record_many(conn, events)
        conn.commit()
    assert rows(outbox_dsn) == [
        (key, "pending", payload) for key, payload in (encode_event(one) for one in events)
    ]


def test_the_same_key_with_another_body_is_refused_at_once_and_the_same_body_is_a_no_op(
    outbox_dsn: str,
) -> None:
    with psycopg.connect(outbox_dsn) as conn:
        record(conn, event(1))
        conn.commit()
        record(conn, event(1))  # the same body: nothing new
        with pytest.raises(IdempotencyConflictError) as raised:
            record(conn, event(1, quantity=2))
        assert raised.value.idempotency_key == "ob_00001"
        conn.rollback()
        # Within one transaction too, before anything is committed.
        with pytest.raises(IdempotencyConflictError):
            record_many(conn, [event(7), event(7, quantity=3)])
        conn.rollback()
    assert [key for key, _, _ in rows(outbox_dsn)] == ["ob_00001"]


def test_init_twice_is_harmless_and_a_missing_table_is_said_at_once(
    outbox_dsn: str, postgres: str
) -> None:
    with psycopg.connect(outbox_dsn) as conn:
        record(conn, event(1))
        conn.commit()
        outbox.init(conn)
        outbox.init(conn)
        conn.commit()
    assert [key for key, _, _ in rows(outbox_dsn)] == ["ob_00001"]
    assert "CREATE TABLE IF NOT EXISTS paygentic_outbox" in outbox.outbox_sql()
    # The server's own database has no outbox.
    with pytest.raises(OutboxError, match="outbox init"):
        PostgresOutbox(postgres)


def test_rejected_rows_stay_with_the_reason_and_requeue_makes_them_pending(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    with psycopg.connect(outbox_dsn) as conn:
        record_many(conn, [event(1), event(2, quantity=0)])
    sandbox = in_process_sandbox()
    store = PostgresOutbox(outbox_dsn)
    relay = UsageIngester(sandbox.client(retry_policy=FAST), store=store, flush_interval=0.05)
    try:
        eventually(lambda: [s for _, s, _ in rows(outbox_dsn)] == ["rejected"])
    finally:
        relay.close(timeout=PATIENCE)
    assert sandbox.stored_keys() == ["ob_00001"]
    with PostgresOutbox(outbox_dsn) as reader:
        (rejected,) = reader.rejected()
        assert rejected.key == "ob_00002" and "minimum" in rejected.reason
        assert reader.status().rejected == 1
        assert reader.requeue() == 1
        assert reader.status().pending == 1


def test_two_relays_share_the_work_and_every_event_is_delivered_exactly_once(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    sandbox = in_process_sandbox(rates={"drop": 0.1, "503": 0.1}, seed=5)
    relays = [
        UsageIngester(
            sandbox.client(retry_policy=FAST),
            store=PostgresOutbox(outbox_dsn, lease=2.0),
            flush_interval=0.02,
            max_batch_size=25,
        )
        for _ in range(2)
    ]
    writers = [threading.Thread(target=write, args=(outbox_dsn, w)) for w in range(4)]
    try:
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(PATIENCE)
        eventually(lambda: rows(outbox_dsn) == [])
    finally:
        for relay in relays:
            relay.close(timeout=PATIENCE)
    stored = Counter(sandbox.stored_keys())
    assert len(stored) == 400 and set(stored.values()) == {1}
    # Both relays sent batches (the work was shared, not done by one).
    assert all(relay.stats().recovered > 0 for relay in relays)


def write(dsn: str, writer: int) -> None:
    """100 events in 20 transactions, one in three of them rolled back and recorded again."""
    with psycopg.connect(dsn) as conn:
        for chunk in range(20):
            batch = [event(writer * 1000 + chunk * 5 + i, prefix="w") for i in range(5)]
            if chunk % 3 == 0:
                record_many(conn, batch)
                conn.rollback()
            record_many(conn, batch)
            conn.commit()


@pytest.mark.slow  # a fresh interpreter
def test_importing_the_client_and_its_cli_never_imports_psycopg() -> None:
    code = (
        "import sys, paygentic_client, paygentic_client.ingest, paygentic_client.cli.main\n"
        "assert 'psycopg' not in sys.modules, 'psycopg was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=PATIENCE)


def test_a_dead_relays_claim_is_taken_over_once_its_lease_ran_out(outbox_dsn: str) -> None:
    with psycopg.connect(outbox_dsn) as conn:
        record_many(conn, [event(1), event(2)])
    dead = PostgresOutbox(outbox_dsn, lease=0.3)
    other = PostgresOutbox(outbox_dsn, lease=0.3)
    try:
        assert dead.claim(10, 1_000_000).keys == ["ob_00001", "ob_00002"]
        assert other.claim(10, 1_000_000).keys == []  # held by a live lease
        eventually(lambda: other.status().pending == 2)  # dead never renews it
        assert other.claim(10, 1_000_000).keys == ["ob_00001", "ob_00002"]
    finally:
        dead.close()
        other.close()


def test_a_claim_stops_at_max_bytes_and_leaves_the_rest_pending(outbox_dsn: str) -> None:
    with psycopg.connect(outbox_dsn) as conn:
        record_many(conn, [event(n) for n in range(5)])
    size = len(encode_event(event(0))[1]) + 1
    with PostgresOutbox(outbox_dsn) as store:
        assert len(store.claim(10, 2 * size)) == 2
        assert store.status().pending == 3 and store.status().claimed == 2


def test_submit_through_the_outbox_resolves_even_when_another_relay_delivers_it(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    sandbox = in_process_sandbox()
    client = sandbox.client(retry_policy=FAST)
    # Its flush_interval is 50 times the other's: the other relay claims what it submits
    # first, and leaves the answers in the outbox for it.
    submitter = UsageIngester(client, store=PostgresOutbox(outbox_dsn), flush_interval=1.0)
    other = UsageIngester(client, store=PostgresOutbox(outbox_dsn), flush_interval=0.02)
    try:
        handles = [submitter.submit(event(n)) for n in range(3)]
        eventually(lambda: other.stats().recovered == 3)
        assert all(handle.result(timeout=PATIENCE) for handle in handles)
        rejected = submitter.submit(event(9, quantity=0))
        with pytest.raises(Exception, match="minimum"):
            rejected.result(timeout=PATIENCE)
    finally:
        submitter.close(timeout=PATIENCE)
        other.close(timeout=PATIENCE)
    assert sorted(sandbox.stored_keys()) == ["ob_00000", "ob_00001", "ob_00002"]
    assert [status for _, status, _ in rows(outbox_dsn)] == ["rejected"]


def test_a_relay_reconnects_when_the_database_drops_its_connection(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    sandbox = in_process_sandbox()
    relay = UsageIngester(
        sandbox.client(retry_policy=FAST), store=PostgresOutbox(outbox_dsn), flush_interval=0.02
    )
    try:
        with psycopg.connect(outbox_dsn) as conn:
            record(conn, event(1))
        eventually(lambda: rows(outbox_dsn) == [])
        with psycopg.connect(outbox_dsn, autocommit=True) as admin:  # as a failover does
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            assert killed is not None and killed[0] >= 1
            record(admin, event(2))
        eventually(lambda: rows(outbox_dsn) == [])
    finally:
        relay.close(timeout=PATIENCE)
    assert sorted(sandbox.stored_keys()) == ["ob_00001", "ob_00002"]


def test_notify_wakes_a_listener_as_soon_as_a_recording_transaction_commits(
    outbox_dsn: str,
) -> None:
    store = PostgresOutbox(outbox_dsn)
    woke: list[float] = []
    listening = threading.Event()

    def listen() -> None:
        woke.append(float(store.wait_for_events(PATIENCE, listening=listening.set)))
        woke.append(time.monotonic())

    listener = threading.Thread(target=listen)
    listener.start()
    try:
        assert listening.wait(PATIENCE)
        with psycopg.connect(outbox_dsn) as conn:
            record(conn, event(1))
            conn.commit()
            committed = time.monotonic()
        listener.join(PATIENCE)
    finally:
        store.close()
    assert woke[0] == 1.0
    assert woke[1] - committed < 0.5  # under 100 ms unloaded; a margin for a loaded machine


def test_the_asyncio_ingester_relays_the_outbox_too(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    with psycopg.connect(outbox_dsn) as conn:
        record_many(conn, [event(n) for n in range(5)])
    sandbox = in_process_sandbox()

    async def relay() -> int:
        async with AsyncUsageIngester(
            sandbox.async_client(retry_policy=FAST),
            store=PostgresOutbox(outbox_dsn),
            flush_interval=0.02,
        ) as ingester:
            handle = await ingester.submit(event(9))  # its handle resolves as well
            await asyncio.wait_for(handle, PATIENCE)
            deadline = time.monotonic() + PATIENCE
            while rows(outbox_dsn) and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            return ingester.stats().recovered

    assert asyncio.run(relay()) == 5
    assert rows(outbox_dsn) == []
    assert len(sandbox.stored_keys()) == 6


def test_another_schema_version_and_missing_privileges_are_said_clearly(
    outbox_dsn: str,
) -> None:
    with psycopg.connect(outbox_dsn, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS outbox_stranger")
        admin.execute("CREATE ROLE outbox_stranger LOGIN")
        stranger = psycopg.conninfo.make_conninfo(outbox_dsn, user="outbox_stranger")
        with psycopg.connect(stranger) as conn, pytest.raises(OutboxError) as raised:
            record(conn, event(1))
        assert "needs SELECT, INSERT, UPDATE, DELETE on paygentic_outbox" in str(raised.value)
        admin.execute("UPDATE paygentic_outbox_version SET version = 2")
        with pytest.raises(OutboxError, match="schema version 2"):
            PostgresOutbox(outbox_dsn)
        with pytest.raises(OutboxError, match="upgrade it"):
            outbox.init(admin)
        admin.execute("REASSIGN OWNED BY outbox_stranger TO CURRENT_USER")
        admin.execute("DROP ROLE outbox_stranger")


def test_the_dsn_and_its_password_never_show_in_a_repr_or_an_error() -> None:
    dsn = "postgresql://app:sekrit-password@127.0.0.1:1/shop?connect_timeout=5"
    store = PostgresOutbox(dsn, check=False)
    assert "sekrit" not in repr(store)
    with pytest.raises(OutboxError) as raised:  # nothing listens on port 1
        PostgresOutbox(dsn)
    assert "sekrit" not in str(raised.value) and "opening the outbox failed" in str(raised.value)
    assert "sekrit" not in repr(raised.value.__cause__)
