"""The spool's files (issue 26): created readable by their owner only, the lock directory
0700; the file giving its space back as it empties; a full disk (issue 24) failing with one
typed error that says what to free, and the same Spool working again once space is freed."""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.forking import run_in_fork
from support.tmpfs import TmpfsFactory, fill_up

from paygentic_client.errors import SpoolError, SpoolStorageError
from paygentic_client.ingest.spool import Spool, spool_error
from paygentic_client.ingest.spool_disk import file_bytes, spool_files
from paygentic_client.ingest.spool_liveness import lock_directory


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that takes nothing away: the modes must not depend on the caller's."""
    before = os.umask(0)
    try:
        yield
    finally:
        os.umask(before)


def test_a_new_spool_and_its_files_are_the_owner_s_only(tmp_path: Path, open_umask: None) -> None:
    path = tmp_path / "s.db"
    with Spool(path) as spool:
        spool.append("k", b'{"customerId":"cus_secret"}')
        files = spool_files(path) + list(lock_directory(path).iterdir())
        assert len(files) == 4 and all(file.exists() for file in files)
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
        assert mode(lock_directory(path)) == 0o700
    assert mode(path) == 0o600
    assert list(lock_directory(path).iterdir()) == []  # the lock file goes with close()


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Spool(path).close()
    path.chmod(0o640)
    Spool(path).close()
    assert mode(path) == 0o640


# -- space -------------------------------------------------------------------------------------


@pytest.mark.slow  # 100,000 events stored and delivered: seconds, too long for --fast
def test_the_file_shrinks_after_100k_events_are_delivered(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    payload = b'{"customerId":"cus_abc123xyz","quantity":1}'
    with Spool(path, adopt=True) as spool:
        spool.append_many([(f"k{n}", payload) for n in range(100_000)])
        full = file_bytes(path)
        assert full > 5_000_000
        while batch := spool.claim(5000):
            spool.settle(batch)
        assert spool.status().pending == 0
        while_open = file_bytes(path)
        assert spool.report().file_bytes == while_open
        database_open = path.stat().st_size
    emptied = file_bytes(path)
    # The database shrinks at once; its write-ahead log (up to 4 MiB) goes at close.
    assert database_open < full / 4, (full, database_open)
    assert emptied < full / 20, (full, emptied)


def test_an_old_file_is_converted_to_auto_vacuum_when_opened_empty(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Spool(path).close()
    with sqlite3.connect(path, isolation_level=None) as old:  # as files were made before
        old.execute("PRAGMA auto_vacuum=NONE")
        old.execute("VACUUM")
        assert old.execute("PRAGMA auto_vacuum").fetchone() == (0,)
    with Spool(path) as spool:
        spool.append("k", b"{}")
    with sqlite3.connect(path) as reader:
        assert reader.execute("PRAGMA auto_vacuum").fetchone() == (2,)  # incremental
        assert reader.execute("SELECT key FROM pending").fetchall() == [("k",)]


def test_an_old_file_with_events_is_not_vacuumed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path) as spool:
        spool.append("k", b"{}")
    with sqlite3.connect(path, isolation_level=None) as old:
        old.execute("PRAGMA auto_vacuum=NONE")
        old.execute("VACUUM")
    Spool(path).close()
    with sqlite3.connect(path) as reader:
        assert reader.execute("PRAGMA auto_vacuum").fetchone() == (0,)


# -- a full disk -------------------------------------------------------------------------------


def test_a_full_disk_is_one_typed_error_that_says_what_to_free_and_passes(
    small_tmpfs: TmpfsFactory,
) -> None:
    """Fill the disk under a spool, see the error, free space: the same Spool (an ingester
    that is not restarted) stores and settles again."""
    point = small_tmpfs("12m")
    path = point / "s.db"
    with Spool(path, adopt=True) as spool:
        spool.append_many([(f"k{n}", b"x" * 500) for n in range(1000)])
        ballast = point / "ballast"
        fill_up(ballast)
        with pytest.raises(SpoolStorageError) as caught:
            for n in range(100_000):
                spool.append(f"more{n}", os.urandom(2000))
        error = caught.value
        assert isinstance(error, SpoolError)
        assert error.free_bytes is not None and error.free_bytes < 1024 * 1024
        assert "the disk is full" in str(error)
        assert re.search(
            f"free at least [0-9.]+ [KM]iB on the filesystem mounted at {point}", str(error)
        )
        assert isinstance(error.__cause__, sqlite3.Error)
        stored = spool.status().pending  # reading works on a full disk
        assert stored >= 1000
        report = spool.report()
        assert report.disk_full and report.what_to_free is not None
        ballast.unlink()
        spool.append("after", b"{}")  # no reopening
        while batch := spool.claim(1000):
            spool.settle(batch)
        assert spool.status().pending == 0
        assert not spool.report().disk_full


def test_a_spool_cannot_be_opened_on_a_full_disk_says_what_to_free(
    small_tmpfs: TmpfsFactory,
) -> None:
    point = small_tmpfs("1m")
    fill_up(point / "ballast")
    with pytest.raises(SpoolStorageError, match=f"free at least .* mounted at {point}"):
        Spool(point / "s.db")


def test_a_spool_at_its_max_bytes_is_a_storage_error_that_says_so(tmp_path: Path) -> None:
    with Spool(tmp_path / "s.db", max_bytes=64 * 1024) as small:
        with pytest.raises(SpoolStorageError) as caught:
            for n in range(10_000):
                small.append(f"k{n}", b"x" * 1000)
        assert "the spool reached its max_bytes (65536)" in str(caught.value)
        assert caught.value.free_bytes is not None


@pytest.mark.parametrize(
    ("name", "storage"),
    [
        ("SQLITE_FULL", True),
        ("SQLITE_IOERR_WRITE", True),
        ("SQLITE_IOERR_FSYNC", True),
        ("SQLITE_BUSY", False),
        ("SQLITE_READONLY", False),
        ("SQLITE_CORRUPT", False),
    ],
)
def test_full_disks_and_io_errors_are_storage_errors(
    tmp_path: Path, name: str, storage: bool
) -> None:
    error = sqlite3.OperationalError("sqlite's words")
    error.sqlite_errorname = name
    made = spool_error(tmp_path / "s.db", "do it", error)
    assert isinstance(made, SpoolError)
    assert isinstance(made, SpoolStorageError) is storage


@pytest.mark.slow  # a process of its own (fork)
@pytest.mark.forks
def test_a_forked_child_closing_its_copy_leaves_the_parent_s_spool_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path) as parent, Spool(path) as other:
        parent.append("k", b"{}")

        def child() -> int:  # SQLite forbids using the parent's connection here
            parent.close()
            return 0

        assert run_in_fork(child, timeout=20) == 0
        assert other.report().live_submitters == 2  # parent's row and lock are still there
        assert other.claim(10) == []  # its fresh event is still its own to send
        assert [event.key for event in parent.claim(10)] == ["k"]
