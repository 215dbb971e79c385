"""The spool's files on disk: their size, the room left beside them, and what to free when
the disk is full.

A write to a spool in WAL mode appends the pages it changes to the write-ahead log first,
even a write that removes rows: delivering events needs some free space before it gives
any back. room_to_work() is that room for one batch: a claim and a settle each log the pages
of the batch's rows (at most DEFAULT_MAX_BATCH_BYTES of events, and never more than the file
holds), plus a margin for the tables' pages they pass through and the shared-memory index.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .core import DEFAULT_MAX_BATCH_BYTES
from .spool_liveness import filesystem_of, read_mounts

__all__ = ["Disk", "disk_of", "file_bytes", "human_bytes", "room_to_work", "spool_files"]

_MARGIN: Final = 256 * 1024


def room_to_work(spool_path: Path) -> int:
    """The free bytes a drain of this spool needs to make progress."""
    try:
        size = spool_path.stat().st_size
    except OSError:
        size = DEFAULT_MAX_BATCH_BYTES
    return 2 * min(DEFAULT_MAX_BATCH_BYTES, size) + _MARGIN


def spool_files(path: Path) -> list[Path]:
    """The database file and its companions (write-ahead log, shared-memory index)."""
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def file_bytes(path: Path) -> int:
    """Bytes the spool takes on disk: the database, its write-ahead log and the journals in
    its lock directory (the -shm index is a fixed few tens of kB, not data)."""
    files = list(spool_files(path)[:2])
    with contextlib.suppress(FileNotFoundError):
        directory = path.with_name(path.name + ".d")
        files += [entry for entry in directory.iterdir() if entry.name.endswith(".journal")]
    total = 0
    for file in files:
        with contextlib.suppress(FileNotFoundError):
            total += file.stat().st_size
    return total


@dataclass(frozen=True, slots=True)
class Disk:
    """The filesystem holding a spool: where it is mounted and the bytes free on it for an
    unprivileged process (None when they cannot be read)."""

    mount_point: str | None
    free_bytes: int | None
    needed_bytes: int

    @property
    def full(self) -> bool:
        return self.free_bytes is not None and self.free_bytes < self.needed_bytes

    def what_to_free(self, spool_path: Path) -> str:
        where = (
            f"the filesystem mounted at {self.mount_point}"
            if self.mount_point
            else (f"the filesystem holding {spool_path.parent}")
        )
        free = "" if self.free_bytes is None else f" ({human_bytes(self.free_bytes)} free)"
        return (
            f"free at least {human_bytes(self.needed_bytes)} on {where}{free}, for example by "
            "deleting other files there, then run the command again; the spool's events are "
            "kept meanwhile"
        )


def disk_of(spool_path: Path) -> Disk:
    directory = spool_path.parent.resolve()
    try:
        stats = os.statvfs(directory)
        free: int | None = stats.f_bavail * stats.f_frsize
    except OSError:
        free = None
    mounts = read_mounts()
    found = None if mounts is None else filesystem_of(directory, mounts)
    return Disk(None if found is None else found[0], free, room_to_work(spool_path))


def human_bytes(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{count} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
