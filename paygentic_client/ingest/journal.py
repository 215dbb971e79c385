"""A process's journal of the events it submitted to a spool: where an event is committed
when submit() returns, before it ever reaches the SQLite database.

Why: a SQLite commit costs about 50 µs of CPU (and a thread hand-off per caller to share
one), and every event was written three times (inserted, claimed, deleted): the spooled
ingester made a third of the in-memory one's throughput. A journal record is copied into a
shared memory mapping of a file this process alone writes (about a microsecond, no system
call, the GIL kept), and the process delivers its own events from memory: the database sees
only what outlives the process that submitted it (events left at close, or by a process
that died) and the events the API rejected.

Files: `<spool>.d/<pid>-<token>-<n>.<segment>.journal` (0600, in the lock directory, 0700),
beside the owner's lock file `<pid>-<token>.lock` (spool_liveness.py), which tells whether it
lives; n numbers the journals of one Spool (an ingester each). A segment holds records:

- APPEND: an event (its number n in this journal, submission time, key, payload);
- SETTLED: numbers of events the API answered (created; rejected ones are moved);
- MOVING: a move id and numbers of events about to be written into the database (at close,
  or rejected): they count as moved once the database holds the move id
  (Spool.move_from_journal), in the same transaction as the rows.

Each record is `length, crc32, type, body`; a torn last record (a crash in the middle of a
copy) fails its check and ends the reading, and so do the zeros after the last record.

Durability: "process-crash": a record copied into the mapping is in the operating system's
page cache, which a killed process does not lose; "power-loss": the file is fdatasync'ed
after every write (so a group commit's one write is one sync), and the directory is
fsync'ed when a segment is created. If the sync of appended events fails, they are marked
settled before the error is raised: a submit that raised never delivers its event.

Space: a segment's blocks are allocated when it is created (posix_fallocate), so a full disk
fails there, with ENOSPC and nothing written, not later as a SIGBUS in the middle of a copy.
A new segment starts when a record does not fit in the current one: the first at the first
record, of 64 KiB, each next one twice the last, up to SEGMENT_BYTES;
segments are deleted from the oldest, once every event they hold is settled or moved. Only
from the oldest: a later segment may hold the SETTLED record of an event in an earlier one.
"""

from __future__ import annotations

import contextlib
import errno
import mmap
import os
import struct
import sys
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = [
    "SEGMENT_BYTES",
    "Journal",
    "JournalContents",
    "journal_stems",
    "read_journal",
    "remove_journal",
]

SEGMENT_BYTES: Final = 4 * 1024 * 1024
FIRST_SEGMENT_BYTES: Final = 64 * 1024
_HEADER: Final = struct.Struct("<IIB")  # body length, crc32 of type + body, type
_APPEND_HEAD: Final = struct.Struct("<qdI")  # n, submitted_at, key length
_NUMBER: Final = struct.Struct("<q")
APPEND, SETTLED, MOVING = 1, 2, 3
SUFFIX: Final = ".journal"


def _record(kind: int, body: bytes) -> bytes:
    return _HEADER.pack(len(body), zlib.crc32(body, kind), kind) + body


def _numbers(ns: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(ns)}q", *ns)


class Journal:
    """One process's journal for one spool. Not thread-safe: its store holds a lock.

    directory: the spool's lock directory; stem: `<pid>-<token>-<n>` (see above)."""

    def __init__(
        self, directory: Path, stem: str, *, sync: bool, segment_bytes: int = SEGMENT_BYTES
    ) -> None:
        self.directory = directory
        self.stem = stem
        self._sync = sync
        self._segment_bytes = segment_bytes
        self._next = 1  # the next event's number
        # Per segment (oldest first): its number and how many of its events are outstanding.
        self._segments: list[list[int]] = []
        self._segment_of: dict[int, int] = {}  # outstanding event -> its segment's number
        self._map: mmap.mmap | None = None  # of the current segment; none before a record
        self._fd = -1  # the current segment's file
        self._size = 0  # of the current segment
        self._at = 0  # where its next record goes
        self._closed = False

    # -- writing ------------------------------------------------------------------------------

    def append(self, events: Sequence[tuple[str, bytes]], now: float) -> list[int]:
        """Record events (key, payload); their numbers, once written (see durability)."""
        first = self._next
        head = _APPEND_HEAD.pack
        chunks = []
        n = first
        for key, payload in events:
            encoded = key.encode()
            chunks.append(_record(APPEND, head(n, now, len(encoded)) + encoded + payload))
            n += 1
        self._write(chunks[0] if len(chunks) == 1 else b"".join(chunks))
        self._next = n
        segment = self._segments[-1]  # the one written to
        segment[1] += n - first
        number = segment[0]
        segment_of = self._segment_of
        for each in range(first, n):
            segment_of[each] = number
        ns = list(range(first, n))
        if self._sync:
            self._sync_appended(ns)
        return ns

    def append_one(self, key: str, payload: bytes, now: float) -> int:
        """append() of one event (a submit() each: the path to keep short); its number."""
        n = self._next
        encoded = key.encode()
        body = _APPEND_HEAD.pack(n, now, len(encoded)) + encoded + payload
        self._write(_HEADER.pack(len(body), zlib.crc32(body, APPEND), APPEND) + body)
        self._next = n + 1
        segment = self._segments[-1]  # the one written to
        segment[1] += 1
        self._segment_of[n] = segment[0]
        if self._sync:
            self._sync_appended([n])
        return n

    def settled(self, ns: Sequence[int]) -> None:
        """The API answered these events (created): they are not to be sent again."""
        if ns:
            self._write_record(_record(SETTLED, _numbers(ns)))
            self.forget(ns)

    def moving(self, move: int, ns: Sequence[int]) -> None:
        """These events are about to be written into the database with move id `move`;
        call forget(ns) once it committed."""
        self._write_record(_record(MOVING, _NUMBER.pack(move) + _numbers(ns)))

    def forget(self, ns: Sequence[int]) -> None:
        """These events are settled or moved: their segments may go."""
        segment_of = self._segment_of
        counts = {number: entry for entry in self._segments for number in (entry[0],)}
        for n in ns:
            number = segment_of.pop(n, None)
            if number is not None:
                counts[number][1] -= 1
        self._drop_settled_segments()

    @property
    def outstanding(self) -> int:
        return len(self._segment_of)

    def close(self, *, remove: bool) -> None:
        """Close the file; with remove, delete every segment (nothing is outstanding)."""
        self._closed = True
        self._unmap()
        if remove:
            remove_journal(self.directory, self.stem)

    # -- segments -----------------------------------------------------------------------------

    def _path(self, number: int) -> Path:
        return self.directory / f"{self.stem}.{number:08d}{SUFFIX}"

    def _open_segment(self, fits: int) -> None:
        """A new segment, its blocks allocated now (a full disk fails here, with ENOSPC,
        rather than as SIGBUS at a later write into the mapping). The first one is made at
        the first record (an ingester that submits nothing, as the drain's, makes none) and
        small; each next one twice the last, up to SEGMENT_BYTES (or what `fits` needs)."""
        last = self._segments[-1][0] if self._segments else -1
        size = max(fits, min(self._segment_bytes, max(FIRST_SEGMENT_BYTES, 2 * self._size)))
        path = self._path(last + 1)
        number = last + 1
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            _allocate(fd, size)
            mapped = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        if self._sync:
            _sync_directory(self.directory)
        self._unmap()
        # The descriptor stays open for the syncs (power-loss): fdatasync lets other threads
        # run while the disk works, where mmap.flush (msync) holds the GIL throughout, which
        # left every group commit a group of one.
        self._map, self._fd, self._size, self._at = mapped, fd, size, 0
        self._segments.append([number, 0])
        self._drop_settled_segments()

    def _unmap(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None
            os.close(self._fd)
            self._fd = -1

    def _drop_settled_segments(self) -> None:
        segments = self._segments
        while len(segments) > 1 and segments[0][1] == 0:
            number = segments.pop(0)[0]
            with contextlib.suppress(FileNotFoundError):
                self._path(number).unlink()

    def _write(self, data: bytes) -> None:
        """Copy data into the mapping (the page cache: a killed process does not lose it; no
        system call, and the GIL stays held), in a new segment when it does not fit, which is
        then where the caller's events are counted."""
        if self._closed:
            raise OSError(errno.EBADF, "the journal is closed")
        at = self._at
        end = at + len(data)
        if end > self._size:
            self._open_segment(len(data))
            at, end = 0, len(data)
        mapped = self._map
        assert mapped is not None
        mapped[at:end] = data
        self._at = end

    def _write_record(self, record: bytes) -> None:
        """_write() of an answer's or a move's record, synced at power-loss durability."""
        self._write(record)
        if self._sync:
            self._sync_now()

    def _sync_now(self) -> None:
        assert self._map is not None
        _datasync(self._fd, self._map)

    def _sync_appended(self, ns: list[int]) -> None:
        """Sync what was just appended; if that fails, mark the events settled before the
        error goes to their submit: a submit that raised must never deliver its event, and
        the records are in the page cache, where a process that dies later would leave them
        for the next one to import and send. (After a failed fsync nothing more is promised
        of the disk: the mark is kept as far as the page cache is.)"""
        try:
            self._sync_now()
        except OSError:
            with contextlib.suppress(OSError):
                self._write(_record(SETTLED, _numbers(ns)))
            self.forget(ns)
            raise


def _datasync(fd: int, mapped: mmap.mmap) -> None:
    """The mapping's pages on the disk. Linux: fdatasync writes back the file's dirty pages,
    those written through a shared mapping too. Elsewhere msync first (and macOS's fsync
    does not reach the platter: F_FULLFSYNC)."""
    if sys.platform == "linux":
        os.fdatasync(fd)
        return
    mapped.flush()
    if sys.platform == "darwin":
        import fcntl

        fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
    else:
        os.fsync(fd)


def _allocate(fd: int, size: int) -> None:
    if hasattr(os, "posix_fallocate"):
        os.posix_fallocate(fd, 0, size)
        return
    zeros = bytes(1 << 20)  # no posix_fallocate (macOS): write the zeros
    for start in range(0, size, len(zeros)):
        os.write(fd, zeros[: min(len(zeros), size - start)])


def _sync_directory(directory: Path) -> None:
    """The new file's directory entry, durable too (a power loss could drop it otherwise)."""
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- reading (another process's journal, or one left by a process that ended) -------------


@dataclass
class JournalContents:
    """What a journal says: its events, which were settled, and its moves."""

    events: dict[int, tuple[str, bytes, float]] = field(default_factory=dict)
    settled: set[int] = field(default_factory=set)
    moves: dict[int, list[int]] = field(default_factory=dict)

    def unsettled(self, committed_moves: set[int]) -> list[tuple[int, str, bytes, float]]:
        """The events neither settled nor moved by a committed move, in order."""
        done = set(self.settled)
        for move, ns in self.moves.items():
            if move in committed_moves:
                done.update(ns)
        return [
            (n, key, payload, submitted_at)
            for n, (key, payload, submitted_at) in sorted(self.events.items())
            if n not in done
        ]


def _segments(directory: Path, stem: str) -> list[Path]:
    prefix = stem + "."
    try:
        names = [
            entry.name
            for entry in os.scandir(directory)
            if entry.name.startswith(prefix) and entry.name.endswith(SUFFIX)
        ]
    except FileNotFoundError:
        return []
    return [directory / name for name in sorted(names)]


def journal_stems(directory: Path) -> set[str]:
    """The stems (`<pid>-<token>-<n>`) of the journals in the lock directory."""
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return set()
    return {entry.name.rsplit(".", 2)[0] for entry in entries if entry.name.endswith(SUFFIX)}


def read_journal(directory: Path, stem: str) -> JournalContents:
    """Every segment of a journal, oldest first; a torn record ends a segment's reading."""
    contents = JournalContents()
    for path in _segments(directory, stem):
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            continue  # deleted meanwhile: all of it was settled
        for kind, body in _records(data):
            if kind == APPEND:
                n, submitted_at, length = _APPEND_HEAD.unpack_from(body)
                start = _APPEND_HEAD.size
                key = bytes(body[start : start + length]).decode()
                contents.events[n] = (key, bytes(body[start + length :]), submitted_at)
            elif kind == SETTLED:
                contents.settled.update(_unpack_numbers(body))
            elif kind == MOVING:
                (move,) = _NUMBER.unpack_from(body)
                contents.moves[move] = _unpack_numbers(body[_NUMBER.size :])
    return contents


def _records(data: bytes) -> Iterator[tuple[int, memoryview]]:
    view = memoryview(data)
    offset = 0
    while offset + _HEADER.size <= len(data):
        length, crc, kind = _HEADER.unpack_from(data, offset)
        if kind == 0:
            return  # the allocated rest of the segment: zeros
        start = offset + _HEADER.size
        body = view[start : start + length]
        if len(body) < length or zlib.crc32(body, kind) != crc:
            return  # torn: a crash in the middle of the last write
        yield kind, body
        offset = start + length


def _unpack_numbers(body: memoryview | bytes) -> list[int]:
    return list(struct.unpack(f"<{len(body) // 8}q", body))


def remove_journal(directory: Path, stem: str) -> None:
    for path in _segments(directory, stem):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
