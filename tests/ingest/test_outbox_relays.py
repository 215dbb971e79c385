"""Relay processes (`paygentic-usage outbox relay`) sharing one outbox against a sandbox
process that loses answers after committing (drop-after-commit) and answers 503, while a
writer records events in transactions (some rolled back), one relay is SIGKILLed at a random
moment, and PostgreSQL is restarted once (every session ended, the server stopped and started
again on the same data directory): every committed event is stored exactly once, no
rolled-back one ever."""

from __future__ import annotations

import datetime
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from support.outbox_support import STAMP, event
from support.postgres_fixture import RestartablePostgres
from support.sandbox_fixture import TOKEN, SandboxFactory

from paygentic_client import AuthenticatedClient
from paygentic_client.api.usage_events import list_usage_events
from paygentic_client.ingest.outbox import PostgresOutbox, record_many

ROOT = Path(__file__).resolve().parents[2]
PATIENCE = 120.0


def start_relay(url: str, dsn: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "paygentic_client.cli", "outbox", "relay"]
    options = ["--dsn", dsn, "--base-url", url, "--poll", "0.1", "--lease", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PAYGENTIC_BEARER_AUTH": TOKEN}
    return subprocess.Popen(command + options, env=env, stderr=subprocess.PIPE, text=True)


def test_four_relays_one_killed_and_a_restart_deliver_every_committed_event_once(
    restartable_postgres: RestartablePostgres, sandbox_factory: SandboxFactory
) -> None:
    outbox_dsn = restartable_postgres.dsn
    server = sandbox_factory(faults="drop-after-commit=0.2,503=0.1", seed=29)
    relays = [start_relay(server.url, outbox_dsn) for _ in range(4)]
    for relay in relays:
        # Each has its SIGTERM handler before the test goes on: on a loaded machine a relay
        # still importing when the events were all delivered died of the SIGTERM (-15).
        assert relay.stderr is not None
        assert relay.stderr.readline().startswith("relaying the outbox"), relay.poll()
    chance = random.Random(29)
    kill_at = chance.randrange(5, 35)  # after this many transactions
    restart_at = chance.randrange(5, 35)
    expected: set[str] = set()
    try:
        for transaction in range(40):
            # A connection a transaction: the writer's own session ends with the restart too.
            with psycopg.connect(outbox_dsn) as conn:
                batch = [event(transaction * 100 + n, prefix="chaos") for n in range(30)]
                record_many(conn, batch)
                if transaction % 5 == 4:
                    conn.rollback()  # never sent
                else:
                    conn.commit()
                    expected |= {item.idempotency_key for item in batch}
            if transaction == kill_at:
                relays[0].send_signal(signal.SIGKILL)
            if transaction == restart_at:
                restartable_postgres.restart()
            time.sleep(0.05)
        with PostgresOutbox(outbox_dsn) as outbox:
            deadline = time.monotonic() + PATIENCE
            while (outbox.status().pending or outbox.status().claimed) and (
                time.monotonic() < deadline
            ):
                time.sleep(0.1)
            status = outbox.status()
        assert (status.pending, status.claimed, status.rejected) == (0, 0, 0)
    finally:
        for relay in relays[1:]:
            relay.send_signal(signal.SIGTERM)
        outputs = [relay.communicate(timeout=PATIENCE)[1] for relay in relays]
    assert relays[0].returncode == -signal.SIGKILL
    assert [relay.returncode for relay in relays[1:]] == [0, 0, 0], outputs
    server.stop()
    clean = AuthenticatedClient(base_url=sandbox_factory().url, token=TOKEN)
    stored = stored_keys(clean, "cus_outbox")
    assert len(stored) == len(expected) == 32 * 30
    assert set(stored) == expected


def stored_keys(client: AuthenticatedClient, customer_id: str) -> list[str]:
    """The idempotency keys of every event the sandbox holds for the customer."""
    keys: list[str] = []
    while True:
        page = list_usage_events.sync(
            client=client,
            start_time=STAMP - datetime.timedelta(days=1),
            end_time=STAMP + datetime.timedelta(days=1),
            customer_id=customer_id,
            limit=100,
            offset=len(keys),
        )
        keys.extend(str(item.idempotency_key) for item in page.data)
        if not page.data or len(keys) >= page.pagination.total:
            return keys
