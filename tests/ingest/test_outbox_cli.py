"""`paygentic-usage outbox ...` (paygentic_client/cli/outbox.py) against a real PostgreSQL
(tests/support/postgres_fixture.py) and the sandbox app in process."""

from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest
from support.inprocess_sandbox import InProcessFactory
from support.outbox_support import FAST, PATIENCE, event, eventually, rows

from paygentic_client.cli import main as cli
from paygentic_client.cli import outbox as outbox_cli
from paygentic_client.ingest.outbox import record, record_many


def test_init_prints_its_sql_without_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["outbox", "init", "--print-sql"]) == 0
    assert "CREATE TABLE IF NOT EXISTS paygentic_outbox" in capsys.readouterr().out


def test_without_a_dsn_it_says_how_to_give_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PAYGENTIC_OUTBOX_DSN", raising=False)
    assert cli.main(["outbox", "status"]) == 2
    assert "--dsn or PAYGENTIC_OUTBOX_DSN" in capsys.readouterr().err


def test_init_status_rejected_and_requeue(
    outbox_dsn: str, postgres: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outbox", "init", "--dsn", outbox_dsn]) == 0  # again: harmless
    with psycopg.connect(outbox_dsn) as conn:
        record_many(conn, [event(1), event(2)])
        conn.execute(
            "UPDATE paygentic_outbox SET status = 'rejected', reason = 'no such metric' "
            "WHERE idempotency_key = 'ob_00002'"
        )
    capsys.readouterr()
    assert cli.main(["outbox", "status", "--json", "--dsn", outbox_dsn]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert (figures["pending"], figures["claimed"], figures["rejected"]) == (1, 0, 1)
    assert cli.main(["outbox", "rejected", "--dsn", outbox_dsn]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    rejected = json.loads(line)
    assert rejected["idempotencyKey"] == "ob_00002" and rejected["reason"] == "no such metric"
    assert rejected["event"]["idempotencyKey"] == "ob_00002"
    assert cli.main(["outbox", "requeue", "--dsn", outbox_dsn, "--reason-contains", "nope"]) == 0
    assert "nothing moved" in capsys.readouterr().out
    assert cli.main(["outbox", "requeue", "--dsn", outbox_dsn, "--key", "ob_00002"]) == 0
    assert "1 events moved back to pending" in capsys.readouterr().out
    assert [status for _, status, _ in rows(outbox_dsn)] == ["pending", "pending"]
    # A database without the outbox: a clear error, status 2.
    assert cli.main(["outbox", "status", "--dsn", postgres]) == 2
    assert "outbox init" in capsys.readouterr().err


def test_drain_delivers_everything_and_says_so(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    with psycopg.connect(outbox_dsn) as conn:
        record_many(conn, [event(n) for n in range(30)] + [event(99, quantity=0)])
    sandbox = in_process_sandbox()
    result = outbox_cli.drain(sandbox.client(retry_policy=FAST), outbox_dsn, patience=PATIENCE)
    assert (result.delivered, result.rejected, result.left) == (30, 1, 0)
    assert len(sandbox.stored_keys()) == 30
    status, message = outbox_cli.drain_message(result)
    assert status == 1 and "1 rejected" in message


def test_relay_is_woken_by_notify_not_by_its_poll(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    sandbox = in_process_sandbox()
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            # A poll far longer than the test: only a NOTIFY can make it claim in time.
            outbox_cli.relay(
                sandbox.client(retry_policy=FAST), outbox_dsn, poll=PATIENCE * 4, stop=stop
            )
        except BaseException as error:
            errors.append(error)

    relay = threading.Thread(target=run)
    relay.start()
    try:
        # The first wait() listens and looks once; then it waits for NOTIFY.
        eventually(lambda: _listening(outbox_dsn))
        with psycopg.connect(outbox_dsn) as conn:
            record(conn, event(1))
            conn.commit()
            committed = time.monotonic()
        eventually(lambda: rows(outbox_dsn) == [])
        delivered_after = time.monotonic() - committed
    finally:
        stop.set()
        # The relay sees stop at its next wake: a NOTIFY wakes it.
        with psycopg.connect(outbox_dsn, autocommit=True) as conn:
            conn.execute("NOTIFY paygentic_outbox")
        relay.join(PATIENCE)
    assert not errors and not relay.is_alive()
    assert sandbox.stored_keys() == ["ob_00001"]
    assert delivered_after < 5  # well under a second unloaded; the poll was 120 s


def _listening(dsn: str) -> bool:
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            # idle: the LISTEN is done, not just started (a NOTIFY before it is not heard)
            "AND query LIKE 'LISTEN%' AND state = 'idle'"
        ).fetchone()
    return found is not None and found[0] > 0
