"""Which processes sharing a spool are alive, as the kernel knows it.

Each writable Spool holds an exclusive `flock` on a lock file of its own beside the spool,
`<spool>.d/<pid>-<token>.lock` (the file 0600, the directory 0700), from before it writes its
first row until it closes. The kernel drops the lock when the process ends, however it ends
(SIGKILL, an OOM kill, a crash), so a live process that can take a submitter's lock knows at
once that the submitter is gone, without waiting out its lease. Leases stay the fallback: for
processes on another host, for processes of a paygentic-client older than these locks, and
for a lock file that is missing.

flock means something only between processes of one host on a local filesystem, and SQLite's
WAL mode needs shared memory that a network filesystem does not give: a spool on one is
refused (refuse_network_filesystem). Windows has no flock: there the leases alone tell live
processes from ended ones.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from ..errors import SpoolError

if sys.platform != "win32":
    import fcntl

    def _try_lock(fd: int) -> bool:
        """Take the exclusive lock without waiting; False when another holds it."""
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

else:

    def _try_lock(fd: int) -> bool:
        return False  # not called: without flock nothing is locked or tested


__all__ = [
    "NETWORK_FILESYSTEMS",
    "OwnLock",
    "filesystem_of",
    "gone_owners",
    "lock_directory",
    "refuse_network_filesystem",
    "remove_if_gone",
    "stem_is_gone",
]

# Filesystem types (the third field of /proc/mounts) that share files between hosts.
NETWORK_FILESYSTEMS: Final = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "ncpfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "fuse.sshfs",
        "fuse.s3fs",
        "fuse.rclone",
        "lustre",
        "gpfs",
        "davfs",
    }
)
MOUNTS: Final = Path("/proc/mounts")


def lock_directory(spool_path: Path) -> Path:
    """`<spool>.d`: the lock files of the processes that have the spool open."""
    return spool_path.with_name(spool_path.name + ".d")


def _lock_path(spool_path: Path, owner: str) -> Path | None:
    """The lock file of an owner (`host:pid:token`, Spool.owner), or None for an owner of
    another host (its lock is not ours to test) or a name that is not one."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname():
        return None
    _, pid, token = parts
    return lock_directory(spool_path) / f"{pid}-{token}.lock"


class OwnLock:
    """A writable Spool's lock: held from construction until release().

    Taken before the Spool writes anything that names it, so no other process can find the
    owner in the spool before its lock is held."""

    def __init__(self, spool_path: Path, owner: str) -> None:
        path = _lock_path(spool_path, owner)
        assert path is not None  # our own owner name, of this host
        self.path = path
        self.stem = path.stem  # `<pid>-<token>`: also names the owner's journal (journal.py)
        # Whether others can tell when it is dropped (no flock on Windows).
        self.lockable = sys.platform != "win32"
        self._inherited = False
        self._fd: int | None = None
        if sys.platform == "win32":
            return
        _make_private_directory(path.parent)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if not _try_lock(self._fd):  # a fresh name: nobody else has it
            os.close(self._fd)
            raise BlockingIOError(f"{path} is locked by another process")
        _HELD.add(self)

    def release(self) -> None:
        """Remove the file and drop the lock (closing the descriptor drops it). In a child
        process that inherited the lock through fork(), only close the copy: the parent
        still holds it, and a LOCK_UN or an unlink here would take it from the parent."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        _HELD.discard(self)
        if not self._inherited:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # while still held: no one can take it for a dead one's
        os.close(fd)

    def _close_inherited(self) -> None:
        self._inherited = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


_HELD: weakref.WeakSet[OwnLock] = weakref.WeakSet()


def _close_locks_in_child() -> None:
    """After fork(), in the child: close the copies of the parent's lock descriptors, so
    that the parent's death is seen even while the child lives."""
    for lock in list(_HELD):
        lock._close_inherited()
    _HELD.clear()


if sys.platform != "win32":
    os.register_at_fork(after_in_child=_close_locks_in_child)


def _make_private_directory(path: Path) -> None:
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return
    path.chmod(0o700)  # mkdir's mode passes through the umask; exactly 0700 whatever it is


def _is_gone(path: Path) -> bool:
    """True when the lock file exists and its lock can be taken: its owner has ended."""
    if sys.platform == "win32":
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)  # flock needs no write access
    except OSError:  # missing, or not ours to read: no proof either way, the lease decides
        return False
    try:
        return _try_lock(fd)
    finally:
        os.close(fd)  # drops the lock if we took it


def stem_is_gone(directory: Path, stem: str) -> bool:
    """Whether the owner of a journal `<pid>-<token>-<n>` (journal.py) has ended: the lock of
    `<pid>-<token>.lock` is free, or the file is gone (an owner takes it before it writes
    anything, and removes it last)."""
    path = directory / f"{stem.rsplit('-', 1)[0]}.lock"
    if sys.platform == "win32":
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    try:
        return _try_lock(fd)
    finally:
        os.close(fd)


def gone_owners(spool_path: Path, owners: Iterable[str]) -> list[str]:
    """The owners among `owners` that the kernel says have ended."""
    gone = []
    for owner in owners:
        path = _lock_path(spool_path, owner)
        if path is not None and _is_gone(path):
            gone.append(owner)
    return gone


def _is_held(path: Path) -> bool:
    """True when the lock file exists and another process holds its lock: its owner lives."""
    if sys.platform == "win32":
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # missing, or not ours to read: no proof either way
        return False
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)  # drops the lock if we took it


def held_owners(spool_path: Path, owners: Iterable[str]) -> list[str]:
    """The owners among `owners` that the kernel says are alive (their lock is held), however
    long ago they last wrote a sign of life: a process busy in one long request is alive."""
    return [
        owner
        for owner in owners
        if (path := _lock_path(spool_path, owner)) is not None and _is_held(path)
    ]


def remove_if_gone(spool_path: Path, owner: str) -> None:
    """Delete the lock file of an owner that has ended (never one a live process holds)."""
    path = _lock_path(spool_path, owner)
    if path is None or sys.platform == "win32":
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if _try_lock(fd):
            path.unlink(missing_ok=True)
    except OSError:
        pass  # a lock file left behind costs nothing; the next forgetting tries again
    finally:
        os.close(fd)


def filesystem_of(path: Path, mounts: str) -> tuple[str, str] | None:
    """(mount point, filesystem type) of the mount holding path, read from the text of
    /proc/mounts (the longest mount point that contains it), or None."""
    best: tuple[str, str] | None = None
    target = str(path)
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best[0])):
            best = (point, fields[2])
    return best


def _unescape(field: str) -> str:
    """/proc/mounts writes a space, tab, newline and backslash in a path as octal escapes."""
    for code, text in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, text)
    return field


def read_mounts() -> str | None:
    try:
        return MOUNTS.read_text()
    except OSError:
        return None  # not Linux: nothing to check against


def refuse_network_filesystem(spool_path: Path) -> None:
    """Raise SpoolError when the spool's directory is on a network filesystem."""
    mounts = read_mounts()
    if mounts is None:
        return
    found = filesystem_of(spool_path.parent.resolve(), mounts)
    if found is not None and found[1] in NETWORK_FILESYSTEMS:
        point, kind = found
        raise SpoolError(
            f"spool {spool_path}: it is on a network filesystem ({kind}, mounted at {point}), "
            "which a spool does not support: SQLite's WAL mode needs memory shared between "
            "the processes of one host, and the locks that tell a live process from a dead "
            "one hold only on a local filesystem; put the spool on a local disk"
        )
