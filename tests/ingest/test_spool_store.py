"""The spool as the engine's store (SpoolStore, ingest/stores.py) with its journal: what its
claims carry and respect, what close() moves into the database and keeps when that fails,
and what its errors say. The mutation run of 2026-12-07 (tests/MUTATION.md) asked for these."""

from __future__ import annotations

import datetime
import errno
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paygentic_client._runtime.replay import SentFields
from paygentic_client.errors import SpoolError
from paygentic_client.ingest.journal import Journal, journal_stems
from paygentic_client.ingest.spool import Spool
from paygentic_client.ingest.spool_liveness import lock_directory
from paygentic_client.ingest.stores import SpoolStore

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SpoolStore]:
    """A spool store on a new file, closed after the test."""
    opened = SpoolStore(Spool(tmp_path / "s.db"))
    yield opened
    opened.close()


def identity(n: int) -> SentFields:
    """What an event bills, as the replay check compares it (replay.sent_fields)."""
    return ("cus_s", "mer_s", datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC), "bm", False, n)


def test_a_claim_carries_each_events_identity_for_the_replay_check(store: SpoolStore) -> None:
    """An API that answers a key with another event is caught by comparing what was sent
    (its identity) with the answer: a journaled event must keep it, both ways of appending."""
    store.append("one", b"{}", identity(1))
    store.append_many([("two", b"{}", identity(2)), ("three", b"{}", identity(3))])
    batch = store.claim_now(10, 10_000) or store.claim(10, 10_000)
    assert batch.keys == ["one", "two", "three"]
    assert batch.identities == [identity(1), identity(2), identity(3)]


def test_claims_keep_to_the_byte_budget_for_own_events_and_those_of_the_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    with Spool(path) as other:  # a process that left three events in the database
        other.append_many([(f"db{n}", b"x" * 100) for n in range(3)])
    store = SpoolStore(Spool(path, adopt=True))  # takes them at once (as the drain does)
    try:
        store.append_many([(f"own{n}", b"y" * 100, None) for n in range(3)])
        budget = 2 * 101  # two payloads and their separators
        first = store.claim(10, budget)  # the database first: a look is due
        assert first.keys == ["db0", "db1"]
        own = store.claim_now(10, budget)
        assert own is not None and own.keys == ["own0", "own1"]
    finally:
        store.close()


def test_close_moves_every_event_left_into_the_database_with_its_submission_time(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = SpoolStore(Spool(path))
    before = time.time()
    store.append("a", b"{}", None)
    store.append_many([("b", b"{}", None), ("c", b"{}", None)])
    given_back = store.claim_now(1, 10_000) or store.claim(1, 10_000)
    store.release(given_back)  # at the close deadline: close() moves it too
    store.close()
    assert journal_stems(lock_directory(path)) == set()  # moved, then removed
    with Spool(path, adopt=True) as reopened:  # as the drain (else: once a lease old)
        status = reopened.status()
        assert status.pending == 3 and status.journaled == 0
        assert status.oldest_age is not None
        assert status.oldest_age <= time.time() - before + 1  # not the epoch
        assert sorted(event.key for event in reopened.claim(10)) == ["a", "b", "c"]


def test_a_close_whose_move_fails_keeps_the_journal_for_the_next_process_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.db"
    store = SpoolStore(Spool(path))
    store.append_many([("a", b"{}", None), ("b", b"{}", None)])

    def failing(*args: object, **kwargs: object) -> None:
        raise SpoolError("the database is locked")

    monkeypatch.setattr(Spool, "move_from_journal", failing)
    with caplog.at_level(logging.WARNING, logger="paygentic_client.ingest"):
        store.close()
    monkeypatch.undo()
    assert caplog.messages == [
        f"spool {path}: 2 events stay in this process's journal (the database is locked); "
        "the next ingester delivers them"
    ]
    assert len(journal_stems(lock_directory(path))) == 1  # kept, not removed
    with Spool(path) as next_process:  # its owner is gone: imported by the next claim
        assert sorted(event.key for event in next_process.claim(10)) == ["a", "b"]


def test_a_settle_without_io_that_cannot_write_says_so_and_settle_reports_it(
    store: SpoolStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = store.spool.path
    store.append_many([("a", b"{}", None)])
    batch = store.claim(1, 10_000)

    def broken(journal: Journal, ns: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patched:
        patched.setattr(Journal, "settled", broken)
        assert store.settle_now(batch, [{"id": "e"}]) is False  # settle() must try
        with pytest.raises(SpoolError) as raised:
            store.settle(batch, [{"id": "e"}], [True])
    assert str(raised.value).startswith(f"spool {path}: could not record the API's answer")
    store.settle(batch, [{"id": "e"}], [True])  # works again


@pytest.mark.parametrize("many", [False, True])
def test_a_journal_that_cannot_write_fails_the_append_with_the_spools_path(
    store: SpoolStore, monkeypatch: pytest.MonkeyPatch, many: bool
) -> None:
    path = store.spool.path

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(os, "posix_fallocate", full)  # the first segment cannot be made
        with pytest.raises(SpoolError) as raised:
            if many:
                store.append_many([("a", b"{}", None)])
            else:
                store.append("a", b"{}", None)
    assert str(raised.value).startswith(f"spool {path}: could not store events")
    assert isinstance(raised.value.__cause__, OSError)


def test_a_move_that_cannot_write_its_record_fails_with_the_spools_path(
    store: SpoolStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = store.spool.path
    before = time.time()
    store.append_many([("a", b"{}", None)])
    batch = store.claim(1, 10_000)

    def broken(journal: Journal, move: int, ns: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    with monkeypatch.context() as patched:
        patched.setattr(Journal, "moving", broken)
        with pytest.raises(SpoolError) as raised:
            store.settle(batch, [ValueError("rejected")], [True])
    assert str(raised.value).startswith(f"spool {path}: could not store events")
    store.settle(batch, [ValueError("rejected")], [True])  # the move, tried again
    (kept,) = store.spool.rejected()
    assert kept.key == "a" and before <= kept.submitted_at <= time.time()


def test_without_a_journal_an_append_goes_into_the_database(
    tmp_path: Path, direct_spool: None
) -> None:
    store = SpoolStore(Spool(tmp_path / "s.db"))
    try:
        row = store.append("a", b'{"k":1}', None)
        assert row[1] == "a"  # type: ignore[index]  # (seq, key)
        assert [(e.key, e.payload) for e in store.spool.claim(10)] == [("a", b'{"k":1}')]
    finally:
        store.close()


def test_with_a_journal_an_append_stays_out_of_the_database(store: SpoolStore) -> None:
    store.append("a", b"{}", None)
    status = store.spool.status()
    assert (status.pending, status.journaled) == (1, 1)  # its own journal's, not a row


def test_an_answered_event_leaves_nothing_behind_in_the_store(store: SpoolStore) -> None:
    store.append_many([("a", b"{}", None), ("b", b"{}", None)])
    batch = store.claim(2, 10_000)
    store.settle(batch, [{"id": "e"}, ValueError("rejected")], [True, True])
    assert store._submitted == {}  # nothing kept per event once answered


def test_a_claim_imports_every_ended_journal_past_a_live_one_and_says_so(
    store: SpoolStore, caplog: pytest.LogCaptureFixture
) -> None:
    path = store.spool.path
    store.append_many([("mine", b"{}", None)])
    directory = lock_directory(path)
    (live,) = journal_stems(directory)
    dead = Journal(directory, "~ended-1", sync=False)  # sorts after every live stem
    dead.append([("left0", b"{}"), ("left1", b"{}")], 1.0)
    dead.close(remove=False)
    early = Journal(directory, "0-ended-2", sync=False)  # and one before it
    early.append([("early", b"{}")], 1.0)
    early.close(remove=False)
    with caplog.at_level(logging.INFO, logger="paygentic_client.ingest"):
        claimed = store.spool.claim(10)
    assert sorted(event.key for event in claimed) == ["early", "left0", "left1"]
    assert journal_stems(directory) == {live}
    assert sorted(caplog.messages) == [
        f"spool {path}: took over 1 events a process that ended left in its journal",
        f"spool {path}: took over 2 events a process that ended left in its journal",
    ]


def test_a_move_the_database_has_no_room_for_fails_as_storing_events(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Spool(path).close()  # the file and its tables
    room = path.stat().st_size + 8 * 1024  # a few pages more than the empty file
    store = SpoolStore(Spool(path, max_bytes=room))
    try:
        store.append_many([(f"big{n}", b"x" * 10_000, None) for n in range(20)])
        batch = store.claim(20, 1_000_000)
        with pytest.raises(SpoolError) as raised:
            store.settle(batch, [ValueError("rejected")] * 20, [True] * 20)
        assert str(raised.value).startswith(f"spool {path}: could not store events")
    finally:
        store.close()


def test_a_claim_forgets_the_moves_of_journals_whose_files_are_gone(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path) as spool:
        directory = lock_directory(path)
        kept = Journal(directory, "~ended-1", sync=False)  # files still there: not forgotten
        kept.append([("k", b"{}")], 1.0)
        kept.close(remove=False)
        database = sqlite3.connect(path)
        with database:
            database.executemany(
                "INSERT INTO journal_moves (stem, move) VALUES (?, ?)",
                [("~ended-1", 7), ("~removed-2", 3)],  # the second one's files are gone
            )
        spool.claim(10)  # imports ~ended-1 (its mark replaces its moves); forgets ~removed-2
        stems = {stem for (stem,) in database.execute("SELECT stem FROM journal_moves")}
        database.close()
    assert stems == {"~ended-1"}
