"""`paygentic-usage spool status|rejected|requeue|drain PATH` on real spools, drain against a
real sandbox, the sandbox in process, an unreachable API, stale leases and a full disk."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.inprocess_sandbox import InProcessFactory
from support.sandbox_fixture import TOKEN, SandboxFactory
from support.tmpfs import TmpfsFactory, fill_up
from test_ingest_sandbox import stored_keys
from test_ingest_spool import events, keys_of

from paygentic_client import AuthenticatedClient, UsageIngester
from paygentic_client.cli import spool as spool_cli
from paygentic_client.cli.main import main
from paygentic_client.ingest.core import encode_event
from paygentic_client.ingest.spool import Spool


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


def test_drain_beside_a_live_ingester_leaves_its_journaled_events_to_it(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """The drain as users run it, in a process of its own, while the ingester that submitted
    the events is still open: they are in that ingester's journal, which only it sends while
    it lives; the drain says so and exits 0 without waiting for them, and the ingester
    delivers them, once."""
    server = sandbox_factory()
    path = tmp_path / "s.db"
    client = AuthenticatedClient(base_url=server.url, token=TOKEN)
    # flush_interval=60: the ingester would not send these itself during the drain.
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
        assert "0 events delivered; 5 more are with live processes" in drained.stdout
        with Spool(path, read_only=True) as spool:
            assert (spool.status().pending, spool.status().journaled) == (5, 5)
        assert stored_keys(client, "cus_beside") == []
        assert ingester.flush(timeout=30)
    created = [handle.result(timeout=0) for handle in handles]
    assert [event.idempotency_key for event in created] == keys_of(events("cus_beside", 5))
    assert sorted(stored_keys(client, "cus_beside")) == keys_of(events("cus_beside", 5))
    stats = ingester.stats()
    assert (stats.submitted, stats.delivered, stats.failed, stats.recovered) == (5, 5, 0, 0)
    with Spool(path) as spool:
        assert spool.status().pending == 0


# -- status: every figure, for people and for scripts -------------------------------------------


def spool_with_rejections(path: Path) -> list[str]:
    """Five events: two claimed, two rejected for one reason, one for another."""
    keys = spool_with(path, "cus_cli", 8)
    with Spool(path, adopt=True) as spool:
        first, second, third = spool.claim(3)
        spool.mark_rejected([(first, "quantity must be at least 1"), (third, "no such customer")])
        spool.mark_rejected([(second, "quantity must be at least 1")])
        spool.claim(2)
    return keys


def test_status_shows_live_submitters_the_file_size_and_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.db"
    spool_with_rejections(path)
    with Spool(path):  # a live process using the spool
        assert main(["spool", "status", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    # The claimant closed without releasing: its lease runs on (its lock file went with it).
    assert lines[:3] == ["pending: 5", "claimed: 2", "rejected: 3"]
    assert lines[4] == "live submitters: 1"
    assert lines[5].startswith("file size: ") and lines[5].endswith("KiB")
    assert lines[6:] == [
        "rejected 2: quantity must be at least 1",
        "rejected 1: no such customer",
    ]


def test_status_json_gives_every_figure_for_scripts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.db"
    spool_with_rejections(path)
    with Spool(path, adopt=True) as live:
        live.claim(2)
        assert main(["spool", "status", "--json", str(path)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures.pop("oldestAgeSeconds") >= 0
    assert figures.pop("fileBytes") >= path.stat().st_size > 0
    assert figures.pop("freeBytes") > 0
    assert figures == {
        "path": str(path),
        "pending": 5,
        "claimed": 4,
        "journaled": 0,
        "rejected": 3,
        "rejectedByReason": {"quantity must be at least 1": 2, "no such customer": 1},
        "liveSubmitters": 1,
        "diskFull": False,
        "whatToFree": None,
    }


# -- requeue: nothing is a dead end ---------------------------------------------------------------


def rejected_keys(path: Path) -> list[str]:
    with Spool(path, read_only=True) as spool:
        return [event.key for event in spool.rejected()]


def test_requeue_by_key_by_reason_and_all_moves_rejected_events_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.db"
    keys = spool_with(path, "cus_cli", 5)
    with Spool(path, adopt=True) as spool:
        events_ = spool.claim(5)
        spool.mark_rejected([(event, f"401 token rotated ({event.key})") for event in events_[:2]])
        spool.mark_rejected([(event, "522 from the proxy") for event in events_[2:]])
    assert main(["spool", "requeue", str(path), "--key", keys[0], "cus_none"]) == 0
    assert "1 events moved back to pending" in capsys.readouterr().out
    assert rejected_keys(path) == keys[1:]
    assert main(["spool", "requeue", str(path), "--reason-contains", "522"]) == 0
    assert capsys.readouterr().out.startswith("3 events moved back to pending")
    assert rejected_keys(path) == keys[1:2]
    assert main(["spool", "requeue", str(path), "--reason-contains", "nothing like it"]) == 0
    assert "nothing moved" in capsys.readouterr().out
    assert main(["spool", "requeue", str(path), "--all"]) == 0
    assert capsys.readouterr().out.startswith("1 events moved back to pending")
    with Spool(path, adopt=True) as spool:
        assert spool.status().rejected == 0
        back = spool.claim(10)
    # In the order they were rejected in, each once, with their payloads.
    assert [event.key for event in back] == [keys[0], *keys[2:], keys[1]]
    assert json.loads(back[0].payload)["customerId"] == "cus_cli"


def test_requeue_needs_exactly_one_choice(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    spool_with(path, "cus_cli", 1)
    for argv in ([], ["--all", "--key", "k"]):
        with pytest.raises(SystemExit) as exited:
            main(["spool", "requeue", str(path), *argv])
        assert exited.value.code == 2
    assert main(["spool", "requeue", str(tmp_path / "missing.db"), "--all"]) == 2


# -- drain: stuck leases, a full disk --------------------------------------------------------------


def drain_in_process(client: AuthenticatedClient, path: Path) -> spool_cli.DrainResult:
    return spool_cli.drain(client, path, patience=10, start=lambda _: None, advance=lambda _: None)


def test_drain_takes_over_a_claim_leased_an_hour_ahead(
    in_process_sandbox: InProcessFactory, tmp_path: Path
) -> None:
    """A claimant killed with its clock an hour ahead left its lease: the drain sat at 0%."""
    sandbox = in_process_sandbox()
    path = tmp_path / "s.db"
    keys = spool_with(path, "cus_ahead", 20)
    with sqlite3.connect(path) as writer:
        writer.execute(
            "UPDATE pending SET owner = 'elsewhere:1:abc', lease_until = ?",
            (time.time() + 3600,),
        )
    result = drain_in_process(sandbox.client(), path)
    assert (result.delivered, result.left, result.rejected) == (20, 0, 0)
    assert sorted(sandbox.stored_keys()) == keys


def test_drain_on_a_full_disk_says_what_to_free_then_works_when_freed(
    small_tmpfs: TmpfsFactory,
    in_process_sandbox: InProcessFactory,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point = small_tmpfs("2m")
    path = point / "s.db"
    keys = spool_with(path, "cus_full", 300)
    ballast = point / "ballast"
    fill_up(ballast)
    assert main(["spool", "status", str(path)]) == 0
    out = capsys.readouterr().out
    assert "pending: 300" in out
    assert "disk full: free at least " in out and f"mounted at {point} (0 bytes free)" in out
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", TOKEN)
    argv = ["spool", "drain", str(path), "--base-url", "http://127.0.0.1:9", "--no-progress"]
    assert main([*argv, "--patience", "1"]) == 1
    err = capsys.readouterr().err
    assert "the disk is full" in err and "free at least" in err and str(point) in err
    assert "Traceback" not in err
    ballast.unlink()
    sandbox = in_process_sandbox()
    result = drain_in_process(sandbox.client(), path)
    assert (result.delivered, result.left) == (300, 0)
    assert sorted(sandbox.stored_keys()) == keys
