"""The durable spool (paygentic_client/ingest/spool.py): order, claims and leases, settling,
status, the errors of unusable files, and processes sharing one file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.tmpfs import TmpfsFactory

from paygentic_client.errors import PaygenticError, SpoolError
from paygentic_client.ingest.spool import SCHEMA_VERSION, Answer, Spool, SpooledEvent
from paygentic_client.ingest.spool_liveness import lock_directory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    with Spool(tmp_path / "spool.db", lease=60) as opened:
        yield opened


def fill(spool: Spool, count: int, prefix: str = "k") -> list[str]:
    keys = [f"{prefix}{n:04d}" for n in range(count)]
    spool.append_many([(key, b'{"k":"%s"}' % key.encode()) for key in keys])
    return keys


def test_events_are_claimed_in_order_and_not_twice(spool: Spool) -> None:
    keys = fill(spool, 10)
    first = spool.claim(4)
    second = spool.claim(100)
    assert [event.key for event in first + second] == keys
    assert spool.claim(100) == []
    assert spool.status().claimed == 10


def test_a_claim_stops_at_the_byte_budget_but_takes_one(spool: Spool) -> None:
    spool.append("big", b"x" * 500)
    fill(spool, 3)
    assert [event.key for event in spool.claim(10, max_bytes=10)] == ["big"]
    # each payload is 13 bytes plus a separator: two fit in 28, not in 27
    assert len(spool.claim(10, max_bytes=27)) == 1
    assert len(spool.claim(10, max_bytes=28)) == 2


def test_append_commits_before_it_returns(spool: Spool, tmp_path: Path) -> None:
    spool.append("k1", b"{}")
    other = sqlite3.connect(tmp_path / "spool.db")
    assert other.execute("SELECT key FROM pending").fetchall() == [("k1",)]
    other.close()


def test_another_spool_waits_a_lease_then_takes_over_in_order(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path, lease=0.3) as first, Spool(path, lease=0.3) as second:
        keys = fill(first, 6)
        held = first.claim(3)
        # first's events: first sends them while it lives (its claim holds three of them)
        assert second.claim(10) == []
        assert [event.key for event in first.claim(10)] == keys[3:]
        taken: list[str] = []
        deadline = time.monotonic() + 10
        while len(taken) < 6 and time.monotonic() < deadline:
            taken += [event.key for event in second.claim(10)]
        assert sorted(taken) == keys  # every lease ran out: all taken over, once each
        assert taken[:3] == [event.key for event in held] or taken[:3] == keys[3:]


def test_renew_keeps_a_claim_and_reports_what_was_lost(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path, lease=0.5) as first, Spool(path, lease=0.5) as second:
        fill(first, 2)
        held = first.claim(2)
        assert first.renew(held) == 2
        time.sleep(0.6)  # the lease runs out: waiting on the clock is the point here
        taken = second.claim(1)
        assert first.renew(held) == 1  # the other one is second's now
        assert [event.key for event in taken] == ["k0000"]


def test_released_events_are_claimed_again_first(spool: Spool) -> None:
    fill(spool, 4)
    batch = spool.claim(2)
    spool.release(batch)
    assert [event.key for event in spool.claim(4)] == ["k0000", "k0001", "k0002", "k0003"]


def test_settle_removes_delivered_and_keeps_rejected_with_reason(spool: Spool) -> None:
    fill(spool, 3)
    one, two, three = spool.claim(3)
    spool.settle([one, three], [(two, "quantity must be at least 1")])
    status = spool.status()
    assert (status.pending, status.claimed, status.rejected) == (0, 0, 1)
    assert status.oldest_age is None
    [rejected] = list(spool.rejected())
    assert (rejected.key, rejected.reason) == ("k0001", "quantity must be at least 1")
    assert rejected.payload == b'{"k":"k0001"}'
    spool.settle([one])  # settling twice (two processes got the answer) changes nothing
    assert spool.status().rejected == 1


def test_a_reused_seq_is_not_settled_by_an_old_answer(spool: Spool) -> None:
    fill(spool, 1, "old")
    [old] = spool.claim(1)
    spool.settle([old])
    spool.append("new", b"{}")  # the table was empty: the seq may be the same
    spool.settle([old])
    assert spool.status().pending == 1


# -- answers another process got, kept for the live submitter --------------------------------


def answers_of(event: SpooledEvent, created: bytes | None, reason: str | None) -> Answer:
    return Answer(event.seq, event.key, created, reason, index=0)


def kept_answers(path: Path) -> list[tuple[str, str]]:
    """(key, submitter) of every answer the file holds."""
    with sqlite3.connect(path) as other:
        return other.execute("SELECT key, submitter FROM answers ORDER BY seq").fetchall()


def test_an_answer_for_a_live_submitter_reaches_it_once(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as submitter, Spool(path, adopt=True) as other:
        fill(submitter, 2)
        created, refused = other.claim(2)
        other.settle(
            [created],
            [(refused, "quantity must be at least 1")],
            [answers_of(created, b'{"id":"usg_1"}', None), answers_of(refused, None, "no")],
        )
        assert submitter.status().pending == 0
        assert submitter.answers_for_me() == [
            Answer(created.seq, "k0000", b'{"id":"usg_1"}', None, 0),
            Answer(refused.seq, "k0001", None, "no", 0),
        ]
        assert submitter.answers_for_me() == []  # read once
        assert other.answers_for_me() == []
        assert kept_answers(path) == []


def test_no_answer_is_kept_for_a_submitter_that_closed_or_for_the_settler_itself(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as submitter:
        fill(submitter, 1, "gone")
    with Spool(path, adopt=True) as other:
        fill(other, 1, "own")
        gone, own = other.claim(2)
        other.settle([gone, own], [], [answers_of(gone, b"{}", None), answers_of(own, b"{}", None)])
        assert other.status().pending == 0
        assert kept_answers(path) == []


def without_its_lock_file(spool: Spool) -> None:
    """As a process of another host, or one whose lock file went: no word from the kernel
    about it either way, so its signs of life alone say whether it lives."""
    for lock in lock_directory(spool.path).glob(f"*-{spool.owner.rsplit(':', 1)[1]}.lock"):
        lock.unlink()


def test_a_silent_submitter_gets_no_answer_and_is_forgotten_with_its_answers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spool.db"
    with Spool(path, lease=0.05) as silent, Spool(path, lease=0.05, adopt=True) as other:
        without_its_lock_file(silent)
        fill(silent, 2)
        first, second = other.claim(2)
        other.settle([first], [], [answers_of(first, b"{}", None)])
        assert kept_answers(path) == [("k0000", silent.owner)]  # alive: it was just opened
        time.sleep(0.1)  # over its lease without a claim or a renewal: it counts as gone
        other.settle([second], [], [answers_of(second, b"{}", None)])
        assert kept_answers(path) == [("k0000", silent.owner)]
        time.sleep(0.5)  # ten leases: what it left is forgotten at the next claim
        other.claim(1)
        assert kept_answers(path) == []
        with sqlite3.connect(path) as reader:
            owners = reader.execute("SELECT owner FROM submitters").fetchall()
        assert owners == [(other.owner,)]


def test_a_silent_submitter_whose_lock_is_held_gets_its_answers_and_is_not_forgotten(
    tmp_path: Path,
) -> None:
    # A process busy in one request longer than its lease (a slow API under faults) writes no
    # sign of life, but the kernel says it lives: its answers are kept for it.
    path = tmp_path / "spool.db"
    with Spool(path, lease=0.05) as busy, Spool(path, lease=0.05, adopt=True) as other:
        fill(busy, 2)
        first, second = other.claim(2)
        time.sleep(0.6)  # over ten leases without a claim or a renewal
        other.settle([first, second], [], [answers_of(first, b"{}", None)])
        other.claim(1)  # where the silent are forgotten
        assert kept_answers(path) == [("k0000", busy.owner)]
        assert [answer.key for answer in busy.answers_for_me()] == ["k0000"]
        with sqlite3.connect(path) as reader:
            owners = sorted(owner for (owner,) in reader.execute("SELECT owner FROM submitters"))
        assert owners == sorted([busy.owner, other.owner])


def test_a_claim_or_a_renewal_shows_the_submitter_is_alive(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"

    def answered_for_the_submitter(other: Spool) -> str:
        [taken] = other.claim(1)
        other.settle([taken], [], [answers_of(taken, b"{}", None)])
        return taken.key

    with Spool(path, lease=0.3) as submitter, Spool(path, lease=0.3, adopt=True) as other:
        fill(submitter, 2, "a")
        time.sleep(0.35)  # a lease without a sign of life: it would count as gone
        held = submitter.claim(1)
        assert answered_for_the_submitter(other) == "a0001"
        assert [answer.key for answer in submitter.answers_for_me()] == ["a0001"]
        fill(submitter, 1, "b")
        time.sleep(0.35)
        assert submitter.renew(held) == 1
        assert answered_for_the_submitter(other) == "b0000"
        assert [answer.key for answer in submitter.answers_for_me()] == ["b0000"]


def test_a_closed_spool_leaves_no_submitter_row_and_no_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "spool.db"
    with Spool(path, adopt=True) as other:
        submitter = Spool(path)
        fill(submitter, 1)
        [taken] = other.claim(1)
        other.settle([taken], [], [answers_of(taken, b"{}", None)])
        assert kept_answers(path) == [("k0000", submitter.owner)]
        submitter.close()
        submitter.close()  # a second close does nothing (and says nothing)
        assert caplog.records == []
        assert kept_answers(path) == []
        with sqlite3.connect(path) as reader:
            owners = reader.execute("SELECT owner FROM submitters").fetchall()
        assert owners == [(other.owner,)]


def test_a_spool_file_without_the_answer_tables_gets_them_and_keeps_its_version(
    tmp_path: Path,
) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as spool:
        fill(spool, 1)
    with sqlite3.connect(path) as other:  # as a version 1 file written before them
        other.execute("DROP TABLE answers")
        other.execute("DROP TABLE submitters")
    with Spool(path, adopt=True) as spool:
        assert spool.answers_for_me() == []
        # Its event is still there, and a claim (which writes to submitters) works.
        assert [event.key for event in spool.claim(1)] == ["k0000"]
    with sqlite3.connect(path) as other:
        names = {name for (name,) in other.execute("SELECT name FROM sqlite_master")}
        assert {"answers", "submitters"} <= names
        assert other.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


def test_status_counts_and_ages(spool: Spool) -> None:
    fill(spool, 5)
    spool.claim(2)
    status = spool.status()
    assert (status.pending, status.claimed, status.rejected) == (5, 2, 0)
    assert status.oldest_age is not None and 0 <= status.oldest_age < 60


def test_rejected_reads_every_page(spool: Spool) -> None:
    fill(spool, 1201)
    events = spool.claim(1201)
    spool.mark_rejected((event, "no") for event in events)
    assert [event.key for event in spool.rejected()] == [event.key for event in events]


def test_durability_levels_set_synchronous(tmp_path: Path) -> None:
    for durability, level in (("process-crash", 1), ("power-loss", 2)):
        with Spool(tmp_path / f"{durability}.db", durability=durability) as opened:  # type: ignore[arg-type]
            assert opened._connection.execute("PRAGMA synchronous").fetchone()[0] == level
            journal = opened._connection.execute("PRAGMA journal_mode").fetchone()[0]
            assert journal == "wal"
    with pytest.raises(ValueError):
        Spool(tmp_path / "x.db", durability="sometimes")  # type: ignore[arg-type]


# -- files that are not (usable) spools ---------------------------------------------------------


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(SpoolError, match="not a paygentic spool") as caught:
        Spool(path)
    assert isinstance(caught.value, PaygenticError)
    assert path.read_text().startswith("these are my notes")


def test_another_sqlite_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(SpoolError, match="not a paygentic spool"):
        Spool(path)
    with sqlite3.connect(path) as other:
        tables = other.execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("users",)]


def test_an_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    Spool(path).close()
    with sqlite3.connect(path) as other:
        other.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    with pytest.raises(SpoolError, match=f"schema version {SCHEMA_VERSION + 1}.*newer"):
        Spool(path)


def test_a_missing_directory_is_a_spool_error(tmp_path: Path) -> None:
    with pytest.raises(SpoolError, match="cannot be opened"):
        Spool(tmp_path / "no" / "such" / "spool.db")


def test_a_full_spool_fails_append_and_keeps_what_it_had(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path, max_bytes=64 * 1024) as small:
        stored = 0
        with pytest.raises(SpoolError, match="disk is full") as caught:
            for n in range(10_000):
                small.append(f"k{n}", b"x" * 1000)
                stored += 1
        assert isinstance(caught.value.__cause__, sqlite3.Error)
        with pytest.raises(SpoolError, match="disk is full"):
            small.append_many([(f"m{n}", b"y" * 1000) for n in range(100)])
        assert small.status().pending == stored  # none of the failed appends is there


@pytest.fixture
def mount_point(small_tmpfs: TmpfsFactory) -> Path:
    """A tiny tmpfs of our own (support/tmpfs.py: root only, always unmounted)."""
    return small_tmpfs("128k")


def test_a_full_disk_fails_append(mount_point: Path) -> None:
    with Spool(mount_point / "spool.db") as spool:
        with pytest.raises(SpoolError, match="disk is full"):
            for n in range(10_000):
                spool.append(f"k{n}", os.urandom(1000))
        pending = spool.status().pending
    assert 0 < pending < 10_000


def test_a_read_only_spool_is_refused_by_the_constructor(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes read-only files (see the read-only mount test)")
    path = tmp_path / "spool.db"
    Spool(path).close()
    path.chmod(0o444)
    with pytest.raises(SpoolError, match="read-only"):
        Spool(path)


def test_a_spool_on_a_read_only_filesystem_is_refused(mount_point: Path) -> None:
    path = mount_point / "spool.db"
    with Spool(path) as spool:
        spool.append("k", b"{}")
    subprocess.run(["mount", "-o", "remount,ro", str(mount_point)], check=True)
    with pytest.raises(SpoolError, match="read-only|cannot be opened"):
        Spool(path)


# -- processes sharing one spool ----------------------------------------------------------------

WORKER = textwrap.dedent(
    """
    import sys, time
    from paygentic_client.ingest.spool import Spool
    path, name, crash = sys.argv[1], sys.argv[2], sys.argv[3] == "crash"
    with Spool(path, lease=1.0) as spool, open(name, "a") as log:
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 3:
            batch = spool.claim(7)
            if not batch:
                time.sleep(0.01)
                continue
            idle_since = time.monotonic()
            if crash:
                import os
                os._exit(9)  # dies holding its claim
            time.sleep(0.02)  # "sending": the others claim meanwhile
            log.write("".join(event.key + "\\n" for event in batch))
            log.flush()
            spool.settle(batch)
    """
)


@pytest.mark.slow  # processes of their own: the slow tier
def test_processes_sharing_a_spool_send_each_event_once(tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    with Spool(path) as spool:
        keys = fill(spool, 600)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    crasher = subprocess.run(
        [sys.executable, "-c", WORKER, str(path), str(tmp_path / "crash.log"), "crash"], env=env
    )
    assert crasher.returncode == 9
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), str(tmp_path / f"w{n}.log"), "work"],
            env=env,
        )
        for n in range(3)
    ]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0]
    sent = Counter(
        line for n in range(3) for line in (tmp_path / f"w{n}.log").read_text().splitlines()
    )
    assert sorted(sent) == keys  # the crashed claim was taken over after its lease
    assert set(sent.values()) == {1}
    assert sum(1 for n in range(3) if (tmp_path / f"w{n}.log").read_text()) >= 2
    with Spool(path) as spool:
        assert spool.status().pending == 0


def _open_at(path: str, start: float) -> str:
    """Open (and so create) the spool at `path` once the wall clock reaches `start`: the
    processes of a round then race for the new file."""
    while time.time() < start:
        pass
    try:
        with Spool(path):
            return "opened"
    except SpoolError as error:
        return str(error)


@pytest.mark.slow  # processes
@pytest.mark.forks
def test_processes_creating_one_new_spool_at_once_all_open_it(tmp_path: Path) -> None:
    """Several workers started together on a spool that does not exist yet (a web server's
    processes): each opens it. SQLite answered one of them SQLITE_BUSY at once while another
    switched the new file to WAL (12 of 60 such rounds failed before Spool retried)."""
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(4) as pool:
        for round_ in range(40):
            path = str(tmp_path / f"s{round_}.db")
            start = time.time() + 0.05
            outcomes = pool.starmap(_open_at, [(path, start)] * 4, chunksize=1)
            assert outcomes == ["opened"] * 4, outcomes
