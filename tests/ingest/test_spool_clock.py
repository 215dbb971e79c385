"""The spool through wall-clock jumps (issue 24): a lease, a submission time or a sign of
life dated further ahead than the longest lease was written before the clock went back, and
counts as expired; ages never print negative. The clocks are injected (Spool's `clock=`), or
rows are written as a process whose clock ran ahead would have written them."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from support.fake_clock import FakeClock

from paygentic_client.cli.main import main
from paygentic_client.ingest.spool import Answer, Spool

HOUR = 3600.0


def fill(spool: Spool, count: int, prefix: str = "k") -> list[str]:
    keys = [f"{prefix}{n}" for n in range(count)]
    spool.append_many([(key, b"{}") for key in keys])
    return keys


def ahead(hours: float) -> FakeClock:
    """The wall clock of a process whose clock runs `hours` ahead of this one's."""
    clock = FakeClock()
    clock.now = time.time() + hours * HOUR
    return clock


def test_a_claim_dated_an_hour_ahead_is_taken_over_at_once(tmp_path: Path) -> None:
    """A claimant whose clock ran an hour ahead held its rows for an hour (issue 24)."""
    path = tmp_path / "s.db"
    with Spool(path, lease=30, clock=ahead(1)) as fast, Spool(path, lease=30) as other:
        keys = fill(fast, 3)
        assert [event.key for event in fast.claim(10)] == keys
        assert other.status().claimed == 0
        taken = other.claim(10)
        assert [event.key for event in taken] == keys
        assert fast.renew(taken) == 0  # they are other's now


def test_rows_leased_an_hour_ahead_by_a_killed_claimant_are_claimed(tmp_path: Path) -> None:
    """The same, written as the killed claimant left the file (no injected clock)."""
    path = tmp_path / "s.db"
    with Spool(path, lease=30) as spool:
        keys = fill(spool, 3)
        with sqlite3.connect(path) as writer:
            writer.execute(
                "UPDATE pending SET owner = 'gone:1:abc', lease_until = ?",
                (time.time() + HOUR + 30,),
            )
        assert spool.status().claimed == 0
        assert [event.key for event in spool.claim(10)] == keys


def test_a_lease_within_the_longest_lease_is_respected(tmp_path: Path) -> None:
    """A process with a longer lease than ours holds its rows for its lease: the limit is
    the longest lease among the processes sharing the file, not ours."""
    path = tmp_path / "s.db"
    with Spool(path, lease=120) as long, Spool(path, lease=30, adopt=True) as short:
        fill(long, 2)
        held = long.claim(2)
        assert short.claim(10) == []
        assert short.status().claimed == 2
        assert long.renew(held) == 2


def test_a_lease_written_before_the_clock_went_back_an_hour_expires(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "s.db"
    with Spool(path, lease=30, clock=clock) as first, Spool(path, lease=30, clock=clock) as second:
        keys = fill(first, 2)
        assert len(first.claim(2)) == 2
        clock.now -= HOUR
        assert second.status().claimed == 0  # a lease an hour and a half away holds nothing
        taken = Spool(path, lease=30, adopt=True, clock=clock)
        with taken:
            assert [event.key for event in taken.claim(10)] == keys


def test_an_event_dated_ahead_is_adopted_without_waiting_for_the_clock(tmp_path: Path) -> None:
    """Another process's unclaimed event is adopted once a lease old; one dated an hour
    ahead (its submitter's clock ran fast) would have waited an hour and a lease."""
    path = tmp_path / "s.db"
    with Spool(path, lease=30, clock=ahead(1)) as fast, Spool(path, lease=30) as other:
        keys = fill(fast, 2)
        fill(other, 1, "mine")
        assert [event.key for event in other.claim(10)] == [*keys, "mine0"]


def test_a_sign_of_life_is_written_at_once_after_the_clock_went_back(tmp_path: Path) -> None:
    clock = FakeClock()
    clock.now = time.time()
    path = tmp_path / "s.db"
    with Spool(path, lease=30, clock=clock) as spool:
        spool.claim(1)
        clock.now -= HOUR
        spool.claim(1)  # else it would say nothing for an hour and look dead meanwhile
        with sqlite3.connect(path) as reader:
            [(seen_at,)] = reader.execute(
                "SELECT seen_at FROM submitters WHERE owner = ?", (spool.owner,)
            ).fetchall()
    assert seen_at == clock.now


def test_a_submitter_alive_only_by_a_time_dated_ahead_gets_no_answer_and_is_forgotten(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    clock = FakeClock()
    clock.now = time.time()
    with Spool(path, lease=30, adopt=True, clock=clock) as other:
        with sqlite3.connect(path) as writer:  # a process of another host, its clock an hour on
            writer.execute(
                "INSERT INTO submitters (owner, seen_at, lease) VALUES ('far:1:abc', ?, 30)",
                (time.time() + HOUR,),
            )
            writer.execute(
                "INSERT INTO pending (key, payload, submitted_at, submitter) "
                "VALUES ('theirs', '{}', ?, 'far:1:abc')",
                (time.time() + HOUR,),
            )
        clock.now += 11  # a third of its lease: other writes its sign of life, and forgets
        [event] = other.claim(1)
        other.settle([event], [], [Answer(event.seq, event.key, b"{}", None, 0)])
        with sqlite3.connect(path) as reader:
            assert reader.execute("SELECT count(*) FROM answers").fetchone() == (0,)
            owners = reader.execute("SELECT owner FROM submitters").fetchall()
        assert owners == [(other.owner,)]


def test_ages_never_print_negative(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.db"
    with Spool(path, clock=ahead(1)) as fast:
        fill(fast, 1)
    with Spool(path, read_only=True) as reader:
        assert reader.status().oldest_age == 0.0
        assert reader.report().status.oldest_age == 0.0
    assert main(["spool", "status", str(path)]) == 0
    assert "oldest pending: 0.0 s" in capsys.readouterr().out
