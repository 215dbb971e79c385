"""`paygentic-usage spool status|rejected|drain PATH` on real spools, drain against a real
sandbox and against an unreachable API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support.sandbox_fixture import TOKEN, SandboxFactory
from test_ingest_sandbox import stored_keys
from test_ingest_spool import events, keys_of

from paygentic_client import AuthenticatedClient, UsageIngester
from paygentic_client.api.usage_events import get_usage_event
from paygentic_client.cli.main import main
from paygentic_client.ingest.core import encode_event
from paygentic_client.ingest.spool import Spool
from paygentic_client.models import UsageEvent


def spool_with(path: Path, customer: str, count: int) -> list[str]:
    submitted = [encode_event(event) for event in events(customer, count)]
    with Spool(path) as spool:
        spool.append_many(submitted)
    return [key for key, _ in submitted]


def test_status_counts_what_the_spool_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.db"
    spool_with(path, "cus_cli", 5)
    with Spool(path, adopt=True) as spool:
        spool.claim(2)
        [rejected] = spool.claim(1)
        spool.mark_rejected([(rejected, "quantity must be at least 1")])
    assert main(["spool", "status", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == ["pending: 4", "claimed: 2", "rejected: 1"]
    assert lines[3].startswith("oldest pending: ") and lines[3].endswith(" s")


def test_rejected_prints_ndjson_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.db"
    keys = spool_with(path, "cus_cli", 3)
    with Spool(path, adopt=True) as spool:
        spool.mark_rejected([(event, f"bad {event.key}") for event in spool.claim(2)])
    assert main(["spool", "rejected", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["idempotencyKey"] for line in lines] == keys[:2]
    assert [line["reason"] for line in lines] == [f"bad {key}" for key in keys[:2]]
    assert lines[0]["event"]["customerId"] == "cus_cli"
    assert lines[0]["rejectedAt"].endswith("Z")


def test_a_file_that_is_not_a_spool_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    assert main(["spool", "status", str(path)]) == 2
    assert "not a paygentic spool" in capsys.readouterr().err
    assert main(["spool", "status", str(tmp_path / "missing.db")]) == 2


def test_drain_delivers_everything_and_exits_0(
    sandbox_factory: SandboxFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = sandbox_factory()
    path = tmp_path / "s.db"
    keys = spool_with(path, "cus_drain", 1200)
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", TOKEN)
    assert main(["spool", "drain", str(path), "--base-url", server.url, "--no-progress"]) == 0
    assert "1200 events delivered; the spool is empty" in capsys.readouterr().out
    client = AuthenticatedClient(base_url=server.url, token=TOKEN)
    assert sorted(stored_keys(client, "cus_drain")) == keys
    with Spool(path) as spool:
        assert spool.status().pending == 0


def test_drain_against_an_unreachable_api_exits_1_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    spool_with(path, "cus_drain", 10)
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", TOKEN)
    argv = ["spool", "drain", str(path), "--base-url", "http://127.0.0.1:9"]
    assert main([*argv, "--patience", "1", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "10 still pending" in err and "connection refused by 127.0.0.1:9" in err
    with Spool(path) as spool:
        assert (spool.status().pending, spool.status().claimed) == (10, 0)  # released


def test_drain_beside_a_live_ingester_resolves_its_handles(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """The drain as users run it, in a process of its own, while the ingester that submitted
    the events is still open: the ingester's handles get the drain's answers."""
    server = sandbox_factory()
    path = tmp_path / "s.db"
    client = AuthenticatedClient(base_url=server.url, token=TOKEN)
    # flush_interval=60: the ingester would not send these itself within the test.
    with UsageIngester(client, spool=path, flush_interval=60) as ingester:
        handles = [ingester.submit(event) for event in events("cus_beside", 5)]
        drained = subprocess.run(
            [sys.executable, "-m", "paygentic_client.cli", "spool", "drain", str(path)]
            + ["--base-url", server.url, "--no-progress"],
            env={**os.environ, "PAYGENTIC_BEARER_AUTH": TOKEN},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert drained.returncode == 0, drained.stderr
        assert "5 events delivered; the spool is empty" in drained.stdout
        assert ingester.flush(timeout=30)
    created = [handle.result(timeout=0) for handle in handles]
    assert [event.idempotency_key for event in created] == keys_of(events("cus_beside", 5))
    assert sorted(stored_keys(client, "cus_beside")) == keys_of(events("cus_beside", 5))
    for event in created:  # the handles hold the events the API stored, ids included
        stored = get_usage_event.sync(event.id, client=client)
        assert isinstance(stored, UsageEvent) and stored.idempotency_key == event.idempotency_key
    stats = ingester.stats()
    assert (stats.submitted, stats.delivered, stats.failed, stats.recovered) == (5, 5, 0, 0)
