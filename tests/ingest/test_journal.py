"""The journal (journal.py) on its own, and a spool taking over a journal its owner left:
what it reads back, a torn last record, segments that go only from the oldest, a write cut
off by a full disk, and an import that happens once."""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paygentic_client.errors import SpoolError, SpoolStorageError
from paygentic_client.ingest.journal import Journal, journal_stems, read_journal
from paygentic_client.ingest.spool import Spool
from paygentic_client.ingest.spool_liveness import lock_directory
from paygentic_client.ingest.stores import SpoolStore

pytestmark = pytest.mark.timeout(30)


def events(prefix: str, count: int) -> list[tuple[str, bytes]]:
    return [(f"{prefix}{n}", b'{"n":%d}' % n) for n in range(count)]


def keys(rows: list[tuple[int, str, bytes, float]]) -> list[str]:
    return [key for _, key, _, _ in rows]


def test_what_is_read_back_is_what_was_neither_settled_nor_moved(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "1-a", sync=False)
    ns = journal.append(events("k", 6), 100.0)
    assert ns == [1, 2, 3, 4, 5, 6]
    journal.settled([1, 3])
    journal.moving(1, [2])  # committed (the database has it)
    journal.moving(2, [4])  # never committed
    contents = read_journal(tmp_path, "1-a")
    assert keys(contents.unsettled({1})) == ["k3", "k4", "k5"]
    assert contents.unsettled(set())[0] == (2, "k1", b'{"n":1}', 100.0)
    assert journal_stems(tmp_path) == {"1-a"}
    assert stat.S_IMODE(os.stat(tmp_path / "1-a.00000000.journal").st_mode) == 0o600


def test_a_torn_last_record_ends_the_reading(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "1-a", sync=False)
    journal.append(events("k", 3), 1.0)
    end = journal._at  # where the records end (zeros follow, to the segment's size)
    journal.close(remove=False)
    path = tmp_path / "1-a.00000000.journal"
    data = path.read_bytes()
    path.write_bytes(data[: end - 5] + bytes(len(data) - end + 5))  # a crash mid-copy
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["k0", "k1"]
    path.write_bytes(data[: end - 5] + b"\xff" * 5 + data[end:])  # or garbage: its check fails
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["k0", "k1"]


def test_segments_go_from_the_oldest_only(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "1-a", sync=False, segment_bytes=120)
    first = journal.append(events("a", 3), 1.0)  # segment 0, nearly full
    second = journal.append(events("b", 3), 1.0)  # does not fit: segment 1
    journal.settled(second)  # does not fit: segment 2; segment 1 is settled, 0 is not
    assert len(list(tmp_path.glob("*.journal"))) == 3
    assert (tmp_path / "1-a.00000001.journal").exists()  # behind an unsettled segment
    journal.settled(first[:2])
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["a2"]
    journal.settled(first[2:])
    assert sorted(p.name for p in tmp_path.glob("*.journal")) == ["1-a.00000002.journal"]
    assert read_journal(tmp_path, "1-a").unsettled(set()) == []
    assert journal.outstanding == 0


def test_a_segment_counts_every_event_written_to_it_and_goes_once_all_are_answered(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path, "1-a", sync=False)
    ns = journal.append(events("a", 2), 1.0)
    ns += [journal.append_one(f"b{n}", b"{}", 1.0) for n in range(2)]
    ns += journal.append(events("c", 2), 1.0)
    assert journal.outstanding == 6
    journal.append([("big", bytes(70 * 1024))], 1.0)  # does not fit: segment 1
    first = tmp_path / "1-a.00000000.journal"
    for n in ns[:-1]:  # every event of segment 0 but one, each from another kind of write
        journal.settled([n])
        assert first.exists()
    journal.settled(ns[-1:])
    assert not first.exists()
    assert journal.outstanding == 1


def test_each_new_segment_is_twice_the_last_up_to_the_limit_and_a_record_may_fill_one(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path, "1-a", sync=False, segment_bytes=256 * 1024)
    journal.append([("a", bytes(10))], 1.0)  # 40 bytes: header 9, event head 20, key 1
    journal.append([("k", bytes(64 * 1024 - 40 - 30))], 1.0)  # exactly the rest: it fits
    assert [p.stat().st_size for p in sorted(tmp_path.glob("*.journal"))] == [64 * 1024]
    for n in range(4):  # of 100 KiB each: one in the next segment, two in each after
        journal.append([(f"k{n}", bytes(100 * 1024))], 1.0)
    sizes = [p.stat().st_size // 1024 for p in sorted(tmp_path.glob("*.journal"))]
    assert sizes == [64, 128, 256, 256]


def test_a_closed_journal_refuses_every_write_and_makes_no_file(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "1-a", sync=False)
    (n,) = journal.append(events("k", 1), 1.0)
    journal.close(remove=False)
    before = sorted(tmp_path.iterdir())
    for write in (
        lambda: journal.append(events("late", 1), 2.0),
        lambda: journal.append_one("late", b"{}", 2.0),
        lambda: journal.settled([n]),
        lambda: journal.moving(1, [n]),
    ):
        with pytest.raises(OSError) as raised:
            write()
        assert (raised.value.errno, raised.value.strerror) == (errno.EBADF, "the journal is closed")
    assert sorted(tmp_path.iterdir()) == before
    journal.close(remove=False)  # twice: nothing more to do
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["k0"]


def test_a_journal_reads_only_its_own_segments(tmp_path: Path) -> None:
    mine = Journal(tmp_path, "7-a-1", sync=False)
    other = Journal(tmp_path, "7-a-10", sync=False)  # a stem that starts like mine
    mine.append(events("mine", 2), 1.0)
    other.append(events("other", 2), 1.0)
    (tmp_path / "7-a.lock").write_text("")
    assert keys(read_journal(tmp_path, "7-a-1").unsettled(set())) == ["mine0", "mine1"]
    assert journal_stems(tmp_path) == {"7-a-1", "7-a-10"}


def test_segment_files_that_vanish_meanwhile_are_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from paygentic_client.ingest import journal as module

    journal = Journal(tmp_path, "1-a", sync=False, segment_bytes=120)
    first = journal.append(events("a", 3), 1.0)
    journal.append(events("b", 3), 1.0)  # segment 1
    gone = tmp_path / "1-a.00000000.journal"
    gone.unlink()  # an importer removed it (its owner had died)
    listed = module._segments(tmp_path, "1-a")
    monkeypatch.setattr(module, "_segments", lambda directory, stem: [gone, *listed])
    # Read while a segment goes: the next ones are still read.
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["b0", "b1", "b2"]
    module.remove_journal(tmp_path, "1-a")  # a segment already gone is no error
    monkeypatch.undo()
    assert list(tmp_path.glob("*.journal")) == []
    journal.settled(first)  # its own segment 0, already gone: no error either
    journal.close(remove=True)


def fsyncs(monkeypatch: pytest.MonkeyPatch, *, of: Callable[[int], bool]) -> list[int]:
    """The descriptors os.fsync is called with from now on, of the files whose mode `of`
    accepts (stat.S_ISDIR: directories; stat.S_ISREG: regular files)."""
    seen: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        if of(os.fstat(fd).st_mode):
            seen.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return seen


def test_at_power_loss_a_new_segment_syncs_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directories = fsyncs(monkeypatch, of=stat.S_ISDIR)
    Journal(tmp_path, "1-a", sync=False).append(events("k", 1), 1.0)
    assert directories == []
    Journal(tmp_path, "1-b", sync=True).append(events("k", 1), 1.0)
    assert len(directories) == 1


def test_without_linux_a_sync_is_an_msync_and_an_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced = fsyncs(monkeypatch, of=stat.S_ISREG)
    monkeypatch.setattr(sys, "platform", "freebsd")  # mmap.flush, then fsync
    journal = Journal(tmp_path, "1-a", sync=True)
    journal.append(events("k", 2), 1.0)
    assert len(synced) == 1
    monkeypatch.undo()
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["k0", "k1"]


def test_without_posix_fallocate_a_segment_is_written_as_zeros_of_its_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr(os, "posix_fallocate")  # macOS has none
    journal = Journal(tmp_path, "1-a", sync=False, segment_bytes=3 * 1024 * 1024)
    journal.append(events("k", 2), 1.0)
    journal.append([("big", bytes(2 * 1024 * 1024))], 1.0)  # 2 MiB + 1: more than one write
    sizes = [p.stat().st_size for p in sorted(tmp_path.glob("*.journal"))]
    assert sizes == [64 * 1024, 2 * 1024 * 1024 + 20 + 9 + 3]
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["k0", "k1", "big"]


def test_a_full_disk_fails_a_new_segment_cleanly_and_the_journal_goes_on_once_freed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    journal = Journal(tmp_path, "1-a", sync=False, segment_bytes=100)
    journal.append(events("k", 2), 1.0)

    def full(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    real = os.posix_fallocate
    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(OSError, match="No space"):
        journal.append(events("lost", 2), 1.0)  # does not fit: a new segment is needed
    assert len(list(tmp_path.glob("*.journal"))) == 1  # the failed one is not left behind
    monkeypatch.setattr(os, "posix_fallocate", real)
    journal.append(events("after", 1), 1.0)  # space is back
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["k0", "k1", "after0"]


def test_power_loss_durability_syncs_every_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fdatasync

    def watched(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", watched)
    journal = Journal(tmp_path, "1-a", sync=True)
    journal.append(events("k", 3), 1.0)  # one write: one sync
    journal.settled([1])
    assert len(synced) == 2
    plain = Journal(tmp_path, "1-b", sync=False)
    plain.append(events("k", 3), 1.0)
    assert len(synced) == 2


@pytest.mark.parametrize("many", [False, True])
def test_events_whose_sync_failed_are_marked_settled_so_a_submit_that_raised_never_delivers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, many: bool
) -> None:
    real = os.fdatasync
    failing = [True]

    def sync(fd: int) -> None:
        if failing[0]:
            failing[0] = False
            raise OSError(errno.EIO, "Input/output error")
        real(fd)

    monkeypatch.setattr(os, "fdatasync", sync)
    journal = Journal(tmp_path, "1-a", sync=True)
    with pytest.raises(OSError, match="Input/output error"):
        if many:
            journal.append(events("lost", 3), 1.0)
        else:
            journal.append_one("lost0", b"{}", 1.0)
    assert journal.outstanding == 0
    kept = journal.append(events("kept", 2), 2.0)
    assert kept == ([4, 5] if many else [2, 3])  # numbers are not reused
    # What a process that took the journal over (this one died) would send:
    assert keys(read_journal(tmp_path, "1-a").unsettled(set())) == ["kept0", "kept1"]
    journal.close(remove=False)


def test_a_failed_sync_is_what_the_submit_hears_even_when_the_mark_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.posix_fallocate
    allocations = [0]

    def first_only(fd: int, offset: int, length: int) -> None:
        allocations[0] += 1
        if allocations[0] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd, offset, length)

    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "posix_fallocate", first_only)
    monkeypatch.setattr(os, "fdatasync", broken)
    journal = Journal(tmp_path, "1-a", sync=True, segment_bytes=100)
    # Two records of 38 bytes fill the segment of 100: the mark (25 bytes) needs a new one,
    # which the full disk refuses. The submit hears of the sync, and nothing stays counted.
    with pytest.raises(OSError, match="Input/output error"):
        journal.append(events("k", 2), 1.0)
    assert allocations == [2] and journal.outstanding == 0


def test_a_store_whose_sync_failed_raises_a_spool_error_and_keeps_nothing_to_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    store = SpoolStore(Spool(tmp_path / "s.db", durability="power-loss"))
    with monkeypatch.context() as patched:
        patched.setattr(os, "fdatasync", broken)
        with pytest.raises(SpoolError, match="Input/output error"):
            store.append_many([(key, payload, None) for key, payload in events("lost", 2)])
    store.append_many([(key, payload, None) for key, payload in events("kept", 1)])
    assert store.claim(10, 10_000).keys == ["kept0"]
    store.close()


def test_a_spool_imports_a_journal_whose_owner_ended_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path):  # creates the file and its lock directory
        pass
    directory = lock_directory(path)
    left = Journal(directory, "999999-dead-1", sync=False)  # no lock file: its owner ended
    left.append(events("k", 4), 5.0)
    left.settled([1])
    left.moving(1, [2])  # never committed: k1 is still to send
    left.close(remove=False)
    with Spool(path) as first:
        assert first.status().pending == 3  # counted before it is imported
        claimed = first.claim(100)
        assert [event.key for event in claimed] == ["k1", "k2", "k3"]
        assert journal_stems(directory) == set()  # imported, then removed
        first.settle(claimed)
    with Spool(path) as second:
        assert second.claim(100) == []
        assert second.status().pending == 0


def test_an_ingester_store_moves_what_is_left_into_the_database_at_close(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = SpoolStore(Spool(path))
    rows = store.append_many([(key, payload, None) for key, payload in events("k", 3)])
    batch = store.claim(2, 10_000)
    assert batch.rows == rows[:2]
    store.settle(batch, [{"id": "e0"}, ValueError("bad")], [True, True])
    store.close()  # k2 was never claimed: it moves into the database
    assert journal_stems(lock_directory(path)) == set()
    with Spool(path, adopt=True) as spool:  # as the drain (else: once a lease old)
        assert [event.key for event in spool.claim(100)] == ["k2"]
        assert [(event.key, event.reason) for event in spool.rejected()] == [("k1", "bad")]


def test_a_settle_tried_again_after_a_failed_move_keeps_each_rejected_event_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    store = SpoolStore(Spool(path))
    store.append_many([(key, payload, None) for key, payload in events("k", 2)])
    batch = store.claim(2, 10_000)
    real = Spool.move_from_journal
    calls: list[int] = []

    def full_once(spool: Spool, *args: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise SpoolStorageError("spool s.db: could not store events: the disk is full")
        real(spool, *args)

    monkeypatch.setattr(Spool, "move_from_journal", full_once)
    outcomes: list[Any] = [{"id": "e0"}, ValueError("bad")]
    with pytest.raises(SpoolStorageError):
        store.settle(batch, outcomes, [True, True])
    store.settle(batch, outcomes, [True, True])  # the engine tries again
    store.close()
    with Spool(path, adopt=True) as spool:
        assert spool.claim(100) == []
        assert [(event.key, event.reason) for event in spool.rejected()] == [("k1", "bad")]


def test_what_a_dead_ingester_answered_or_moved_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    spool = Spool(path)
    store = SpoolStore(spool)
    store.append_many([(key, payload, None) for key, payload in events("k", 3)])
    batch = store.claim(2, 10_000)
    store.settle(batch, [{"id": "e0"}, ValueError("bad")], [True, True])
    # It dies: no close (its journal stays), its lock goes with the process.
    spool._connection.close()
    spool._release_own_lock()
    with Spool(path) as taker:
        assert [event.key for event in taker.claim(100)] == ["k2"]
        assert [event.key for event in taker.rejected()] == ["k1"]


def test_the_store_claims_and_settles_without_io_only_what_needs_none(tmp_path: Path) -> None:
    store = SpoolStore(Spool(tmp_path / "s.db"))
    store.append_many([(key, payload, None) for key, payload in events("k", 4)])
    assert store.claim_now(1, 10_000) is None  # a look into the database is due first
    assert store.claim(1, 10_000).keys == ["k0"]  # nothing there: its own
    second = store.claim_now(1, 10_000)
    assert second is not None and second.keys == ["k1"]
    assert store.settle_now(second, [{"id": "e1"}])
    third = store.claim_now(2, 10_000)
    assert third is not None and third.keys == ["k2", "k3"]
    assert not store.settle_now(third, [{"id": "e2"}, ValueError("bad")])  # a move: settle()
    store.close()
    durable = SpoolStore(Spool(tmp_path / "d.db", durability="power-loss"))
    durable.append_many([(key, payload, None) for key, payload in events("p", 1)])
    batch = durable.claim(1, 10_000)
    assert not durable.settle_now(batch, [{"id": "p0"}])  # a sync: settle()
    durable.settle(batch, [{"id": "p0"}], [True])
    durable.close()


def test_the_spools_size_counts_the_journals(tmp_path: Path) -> None:
    from paygentic_client.ingest.spool_disk import file_bytes

    path = tmp_path / "s.db"
    store = SpoolStore(Spool(path))
    before = file_bytes(path)
    store.append_many([(key, payload, None) for key, payload in events("k", 1)])
    assert file_bytes(path) >= before + 64 * 1024  # the first segment, allocated
    batch = store.claim(1, 10_000)
    store.settle(batch, [{"id": "e0"}], [True])
    store.close()
    assert file_bytes(path) < before + 64 * 1024
