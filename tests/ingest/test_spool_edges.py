"""The spool's edges (paygentic_client/ingest/spool.py), written against the mutants that
survived tests/ingest/test_spool.py (tests/MUTATION.md): the settings a connection gets, leases seen
through status(), adoption, claims that no live lease blocks, and every error said in plain
words."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from paygentic_client.errors import SpoolError
from paygentic_client.ingest import spool as spool_module
from paygentic_client.ingest.spool import SCHEMA_VERSION, Spool, SpooledEvent, spool_error


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[sqlite3.Connection]:
    """Every connection a Spool opens, to read the settings it gave them."""
    opened: list[sqlite3.Connection] = []
    real_connect = sqlite3.connect

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = real_connect(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(sqlite3, "connect", recording_connect)
    return opened


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    with Spool(tmp_path / "spool.db", lease=60) as opened:
        yield opened


def pragma(connection: sqlite3.Connection, name: str) -> object:
    return connection.execute(f"PRAGMA {name}").fetchone()[0]


def keys(events: list[SpooledEvent]) -> list[str]:
    return [event.key for event in events]


def fill(spool: Spool, count: int, prefix: str = "k") -> list[str]:
    made = [f"{prefix}{n}" for n in range(count)]
    spool.append_many([(key, b"{}") for key in made])
    return made


# -- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("durability", "synchronous", "fullfsync"), [("process-crash", 1, 0), ("power-loss", 2, 1)]
)
def test_each_durability_sets_synchronous_and_fullfsync(
    tmp_path: Path,
    connections: list[sqlite3.Connection],
    durability: spool_module.Durability,
    synchronous: int,
    fullfsync: int,
) -> None:
    with Spool(tmp_path / "s.db", durability=durability):
        [connection] = connections
        assert pragma(connection, "synchronous") == synchronous
        assert pragma(connection, "fullfsync") == fullfsync
        assert pragma(connection, "journal_mode") == "wal"


def test_bad_settings_are_refused_with_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"durability must be one of \['power-loss', 'process"):
        Spool(tmp_path / "s.db", durability="always")  # type: ignore[arg-type]
    with pytest.raises(ValueError) as caught:
        Spool(tmp_path / "s.db", lease=0)
    assert str(caught.value) == "lease must be positive"
    assert not (tmp_path / "s.db").exists()


def test_a_spool_is_usable_from_another_thread(spool: Spool) -> None:
    # The ingester's sender threads use the Spool its constructor opened.
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(spool.append("k", b"{}")))
    worker.start()
    worker.join()
    assert done and spool.status().pending == 1


def test_a_new_spool_file_gets_the_schema_version(tmp_path: Path) -> None:
    Spool(tmp_path / "s.db").close()
    with sqlite3.connect(tmp_path / "s.db") as other:
        assert pragma(other, "user_version") == SCHEMA_VERSION
        assert pragma(other, "application_id") == spool_module.APPLICATION_ID


def test_another_database_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE users (name TEXT)")
    with pytest.raises(SpoolError) as caught:
        Spool(path)
    assert str(caught.value) == (
        f"{path} is not a paygentic spool (an SQLite database of something else); pass another path"
    )


def test_a_file_that_is_not_a_database_says_so_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database\n" * 100)
    with pytest.raises(SpoolError) as caught:
        Spool(path)
    reason = "it is not a paygentic spool (not an SQLite database)"
    assert str(caught.value).startswith(f"spool {path}: could not open: {reason} [SQLITE_NOTADB")


def refusal_of_version(path: Path, version: int) -> str:
    """The error of opening a spool whose schema version was set to `version`."""
    Spool(path).close()
    with sqlite3.connect(path) as other:
        other.execute(f"PRAGMA user_version={version}")
    with pytest.raises(SpoolError) as caught:
        Spool(path)
    return str(caught.value)


def test_a_newer_schema_version_is_said_to_be_newer(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    assert refusal_of_version(path, SCHEMA_VERSION + 1) == (
        f"{path} is a spool of schema version {SCHEMA_VERSION + 1} (written by a newer "
        f"paygentic-client?); this paygentic-client reads version {SCHEMA_VERSION}"
    )


def test_an_older_schema_version_is_not_called_newer(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    assert refusal_of_version(path, SCHEMA_VERSION - 1) == (
        f"{path} is a spool of schema version {SCHEMA_VERSION - 1}; "
        f"this paygentic-client reads version {SCHEMA_VERSION}"
    )


def test_a_spool_opened_read_only_reads_and_does_not_write(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path) as writer:
        fill(writer, 3)
    with Spool(path, read_only=True) as reader:
        assert reader.status().pending == 3
        with pytest.raises(SpoolError, match="could not store event 'x'.*read-only"):
            reader.append("x", b"{}")
    assert not (tmp_path / "missing.db").exists()
    with pytest.raises(SpoolError) as caught:
        Spool(tmp_path / "missing.db", read_only=True)
    assert str(caught.value).startswith(f"spool {tmp_path / 'missing.db'}: could not open: ")
    assert not (tmp_path / "missing.db").exists()


# -- leases, seen through status() and other spools ----------------------------------------------


def test_a_claim_holds_its_rows_for_the_lease(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path, lease=60) as first, Spool(path, lease=60, adopt=True) as other:
        fill(first, 3)
        held = first.claim(2)
        assert first.status().claimed == 2
        # adopt: another process's unclaimed events at once, but never a live claim
        assert keys(other.claim(10)) == ["k2"]
        assert other.claim(10) == []
        first.release(held)
        assert keys(other.claim(10)) == ["k0", "k1"]


def test_renew_extends_the_lease_into_the_future(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.db", lease=60) as spool:
        fill(spool, 2)
        held = spool.claim(2)
        assert spool.renew(held) == 2
        assert spool.status().claimed == 2  # lease_until is still ahead of now


def test_renew_and_release_leave_other_owners_rows_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path, lease=60) as first, Spool(path, lease=60) as second:
        fill(first, 2)
        held = first.claim(2)
        assert second.renew(held) == 0
        second.release(held)
        assert first.status().claimed == 2


def test_without_adopt_a_fresh_event_of_another_spool_waits(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path, lease=60) as first, Spool(path, lease=60) as second:
        fill(first, 2)
        assert second.claim(10) == []
        assert keys(first.claim(10)) == ["k0", "k1"]


def test_a_claim_skips_held_rows_and_takes_only_what_it_selected(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path, lease=60) as first, Spool(path, lease=60, adopt=True) as other:
        fill(first, 5)
        [k0] = first.claim(1)
        [k1] = other.claim(1)
        first.release([k0])
        # k0 is free again, k1 held by other: a claim of two takes k0 and k2, not k1
        assert keys(first.claim(2)) == ["k0", "k2"]
        assert first.status().claimed == 3
        assert keys(first.claim(10)) == ["k3", "k4"]
        assert other.renew([k1]) == 1


def test_a_claim_of_one_takes_one(spool: Spool) -> None:
    fill(spool, 3)
    assert keys(spool.claim(1)) == ["k0"]
    assert spool.status().claimed == 1


def test_the_byte_budget_counts_a_separator_per_event(spool: Spool) -> None:
    spool.append_many([("a", b"x" * 9), ("b", b"x" * 9), ("c", b"x" * 9)])
    assert keys(spool.claim(10, max_bytes=20)) == ["a", "b"]  # 10 + 10
    assert keys(spool.claim(10, max_bytes=19)) == ["c"]  # the first is always taken


# -- reading --------------------------------------------------------------------------------------


def test_oldest_age_of_a_fresh_event_is_under_a_second(spool: Spool) -> None:
    spool.append("k", b"{}")
    age = spool.status().oldest_age
    assert age is not None and 0.0 <= age < 1.0


def test_rejected_events_keep_their_times_and_the_first_row(spool: Spool) -> None:
    before = time.time()
    fill(spool, 2)
    events = spool.claim(2)
    spool.mark_rejected([(event, f"bad {event.key}") for event in events])
    after = time.time()
    rejected = list(spool.rejected())
    assert [(event.key, event.reason) for event in rejected] == [("k0", "bad k0"), ("k1", "bad k1")]
    for event in rejected:
        assert before <= event.submitted_at <= event.rejected_at <= after
    assert spool.status().rejected == 2


def test_mark_delivered_removes_the_rows(spool: Spool) -> None:
    fill(spool, 3)
    first, second, third = spool.claim(3)
    spool.mark_delivered([first, third])
    assert keys(spool.claim(3)) == []
    spool.release([second])
    assert keys(spool.claim(3)) == ["k1"]
    assert spool.status().rejected == 0


def test_repr_names_the_file_and_the_durability(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.db", durability="power-loss") as spool:
        assert repr(spool) == f"<Spool {str(tmp_path / 's.db')!r} durability='power-loss'>"


# -- errors in plain words ---------------------------------------------------------------------


def test_an_operation_on_a_closed_spool_says_what_it_was_doing(spool: Spool) -> None:
    event = SpooledEvent(1, "k", b"{}")
    spool.close()
    expected: dict[str, Callable[[], object]] = {
        "claim events": lambda: spool.claim(1),
        "renew a claim": lambda: spool.renew([event]),
        "release a claim": lambda: spool.release([event]),
        "record the API's answer": lambda: spool.settle([event]),
        "read the status": spool.status,
        "read rejected events": lambda: list(spool.rejected()),
        "store 1 events": lambda: spool.append_many([("k", b"{}")]),
        "store event 'k'": lambda: spool.append("k", b"{}"),
    }
    for doing, operation in expected.items():
        with pytest.raises(SpoolError) as caught:
            operation()
        # no sqlite error name to translate: sqlite3's own words, in brackets once
        message = str(caught.value)
        assert message.startswith(f"spool {spool.path}: could not {doing}: ")
        assert message.endswith("closed database. [Cannot operate on a closed database.]")
        assert isinstance(caught.value.__cause__, sqlite3.ProgrammingError)


def test_an_error_inside_a_transaction_rolls_back_and_is_a_spool_error(
    spool: Spool, tmp_path: Path
) -> None:
    fill(spool, 2)
    with sqlite3.connect(tmp_path / "spool.db") as other:
        other.execute("ALTER TABLE rejected RENAME TO elsewhere")
    [event, kept] = spool.claim(2)
    with pytest.raises(SpoolError) as caught:
        spool.settle([kept], [(event, "refused")])
    assert str(caught.value).startswith(
        f"spool {spool.path}: could not record the API's answer: no such table: rejected ["
    )
    with sqlite3.connect(tmp_path / "spool.db") as other:
        other.execute("ALTER TABLE elsewhere RENAME TO rejected")
    # rolled back: neither the delivered row nor the rejected one left pending
    assert spool.status().pending == 2
    spool.settle([kept])  # and the spool still works
    assert spool.status().pending == 1


def test_a_spool_held_locked_by_another_process_fails_after_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    Spool(path).close()
    monkeypatch.setattr(spool_module, "BUSY_TIMEOUT", 0.05)
    with Spool(path) as spool, sqlite3.connect(path, isolation_level=None) as other:
        other.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(SpoolError, match=r"another process held it locked .*\[SQLITE_BUSY: "):
            spool.append("k", b"{}")
        # its own timeout, not sqlite3's default of 5 s
        assert time.monotonic() - started < 3.0
        other.execute("ROLLBACK")
        spool.append("k", b"{}")


def test_a_corrupt_file_is_said_to_be_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path) as spool:
        fill(spool, 200)
    with sqlite3.connect(path) as other:
        page_size = pragma(other, "page_size")
        pages = pragma(other, "page_count")
    assert isinstance(page_size, int) and isinstance(pages, int) and pages > 2
    with path.open("r+b") as file:  # every page but the header's: garbage
        file.seek(page_size)
        file.write(b"\xa5" * page_size * (pages - 1))
    # Found by the constructor (it writes this Spool's row among the submitters), not later.
    with pytest.raises(SpoolError, match=r"could not open: the file is corrupt \[SQLITE_CORRUPT"):
        Spool(path)


@pytest.mark.parametrize(
    ("name", "plain"),
    [
        ("SQLITE_IOERR_WRITE", "the operating system reported an I/O error"),
        ("SQLITE_PERM", "no permission"),
        ("SQLITE_READONLY_DIRECTORY", "the file or its directory is read-only"),
        ("SQLITE_CANTOPEN_ISDIR", "it cannot be opened (missing directory, or no permission)"),
        ("SQLITE_NOTADB", "it is not a paygentic spool (not an SQLite database)"),
        ("SQLITE_FULL", "the disk is full (or the spool reached max_bytes)"),
        ("SQLITE_SOMETHING_NEW", "sqlite's words"),
    ],
)
def test_sqlite_error_names_are_said_in_plain_words(name: str, plain: str) -> None:
    error = sqlite3.OperationalError("sqlite's words")
    error.sqlite_errorname = name
    message = str(spool_error(Path("/x/s.db"), "do it", error))
    assert message == f"spool /x/s.db: could not do it: {plain} [{name}: sqlite's words]"


class FailingCommits(sqlite3.Connection):
    """A connection whose COMMITs fail, once armed, as a disk failing at that moment would."""

    armed = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.armed and sql == "COMMIT":
            error = sqlite3.OperationalError("disk I/O error")
            error.sqlite_errorname = "SQLITE_IOERR_FSYNC"
            raise error
        return super().execute(sql, *args)


def test_a_commit_that_fails_is_rolled_back_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_connect = sqlite3.connect

    def connect_failing_commits(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        connection: sqlite3.Connection = real_connect(*args, **kwargs, factory=FailingCommits)
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_failing_commits)
    with Spool(tmp_path / "s.db") as spool:
        fill(spool, 2)
        claimed = spool.claim(2)
        FailingCommits.armed = True
        try:
            with pytest.raises(SpoolError) as caught:
                spool.settle(claimed)
        finally:
            FailingCommits.armed = False
        assert str(caught.value) == (
            f"spool {spool.path}: could not record the API's answer: the operating system "
            "reported an I/O error [SQLITE_IOERR_FSYNC: disk I/O error]"
        )
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        assert spool.status().pending == 2  # rolled back: nothing settled
        spool.settle(claimed)
        assert spool.status().pending == 0
