"""Takeover in seconds (issue 26): each writable Spool holds a flock on a lock file of its own
beside the spool; a live Spool that can take an ended process's lock claims what that process
held or had not claimed yet at once, without waiting for its lease (30 s here). A lock
inherited through fork() does not keep an ended parent alive. A spool on a network
filesystem is refused."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from paygentic_client.errors import SpoolError
from paygentic_client.ingest import spool_liveness
from paygentic_client.ingest.spool import Spool
from paygentic_client.ingest.spool_liveness import filesystem_of, lock_directory

ROOT = Path(__file__).resolve().parents[2]
LEASE = 30.0  # what the old code made a live process wait

# Submits 6 events, claims 4 of them and holds them; with "fork", first forks a child that
# outlives it (it inherits the lock's descriptor). Prints the child's pid (or 0), then waits
# to be killed.
OWNER = textwrap.dedent(
    """
    import os, sys, time
    from paygentic_client.ingest.spool import Spool
    spool = Spool(sys.argv[1], lease=30.0)
    spool.append_many([(f"k{n}", b"{}") for n in range(6)])
    child = 0
    if sys.argv[2] == "fork":
        child = os.fork()
        if child == 0:
            time.sleep(120)
            os._exit(0)
    assert len(spool.claim(4)) == 4
    print(child, flush=True)
    time.sleep(120)
    """
)


def start_owner(path: Path, mode: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(path), mode],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    child = int(process.stdout.readline() or "-1")  # the events are committed and claimed
    assert child >= 0, "the owner process failed"
    return process, child


def claim_all(spool: Spool, count: int, within: float) -> tuple[list[str], float]:
    """Claim until `count` events are taken or `within` seconds pass: (keys, seconds)."""
    start = time.monotonic()
    keys: list[str] = []
    while len(keys) < count and time.monotonic() - start < within:
        keys += [event.key for event in spool.claim(100)]
        time.sleep(0.02)
    return keys, time.monotonic() - start


@pytest.mark.slow  # a process of its own
@pytest.mark.parametrize("mode", ["alone", "fork"])
def test_a_killed_process_s_events_are_claimed_by_a_live_spool_within_2_s(
    tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "s.db"
    processes: list[subprocess.Popen[str]] = []
    children: list[int] = []
    try:
        Spool(path).close()  # created here, so both processes open an existing spool
        with Spool(path, lease=LEASE) as live:
            owner, child = start_owner(path, mode)
            processes.append(owner)
            if child:
                children.append(child)
            # Alive: its four claims are held and its two unclaimed events are fresh.
            assert live.claim(100) == []
            owner.send_signal(signal.SIGKILL)
            owner.wait(timeout=30)
            keys, seconds = claim_all(live, 6, within=10)
        assert sorted(keys) == [f"k{n}" for n in range(6)]  # each once
        assert seconds < 2.0, f"took {seconds:.1f} s"
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_a_live_spool_of_this_process_is_not_taken_for_an_ended_one(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path, lease=LEASE) as first, Spool(path, lease=LEASE) as second:
        first.append("k", b"{}")
        assert second.claim(10) == []
        assert [event.key for event in first.claim(10)] == ["k"]
        assert second.report().live_submitters == 2


def test_a_closed_spool_s_unclaimed_events_are_adopted_at_once(tmp_path: Path) -> None:
    """Its lock file goes with it: that is no proof it ended, so the lease decides (a
    process of an older client had no lock file either)."""
    path = tmp_path / "s.db"
    with Spool(path, lease=LEASE) as live:
        with Spool(path, lease=LEASE) as closing:
            closing.append("k", b"{}")
            lock_files = list(lock_directory(path).iterdir())
            assert len(lock_files) == 2
        assert len(list(lock_directory(path).iterdir())) == 1
        assert live.claim(10) == []  # fresh, and no lock to prove its submitter ended


def test_a_lock_file_that_nobody_holds_proves_its_owner_ended(tmp_path: Path) -> None:
    """What a kill leaves, written by hand: the owner's row among the submitters, its claim
    with a lease still running, its unclaimed event, and its lock file with the lock free."""
    path = tmp_path / "s.db"
    ended = f"{socket.gethostname()}:99999:0123456789ab"
    with Spool(path, lease=LEASE) as live:
        with sqlite3.connect(path) as writer:
            writer.execute(
                "INSERT INTO submitters (owner, seen_at, lease) VALUES (?, ?, ?)",
                (ended, time.time(), LEASE),
            )
            writer.executemany(
                "INSERT INTO pending (key, payload, submitted_at, submitter, owner, lease_until)"
                " VALUES (?, '{}', ?, ?, ?, ?)",
                [
                    ("held", time.time(), ended, ended, time.time() + LEASE),
                    ("unclaimed", time.time(), ended, None, None),
                ],
            )
        assert live.report().live_submitters == 2  # no lock file: its sign of life says
        lock_file = lock_directory(path) / "99999-0123456789ab.lock"
        lock_file.touch()
        assert live.report().live_submitters == 1
        assert [event.key for event in live.claim(10)] == ["held", "unclaimed"]


def test_a_held_lock_file_keeps_its_owner_s_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Spool(path, lease=LEASE) as live, Spool(path, lease=LEASE) as other:
        other.append_many([("a", b"{}"), ("b", b"{}")])
        other.claim(1)
        assert live.claim(10) == []


def test_a_spool_on_a_network_filesystem_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounts = f"server:/export {tmp_path} nfs4 rw,relatime 0 0\n/dev/sda1 / ext4 rw 0 0\n"
    monkeypatch.setattr(spool_liveness, "read_mounts", lambda: mounts)
    with pytest.raises(SpoolError, match=r"network filesystem \(nfs4, mounted at .*local disk"):
        Spool(tmp_path / "s.db")
    assert not (tmp_path / "s.db").exists()
    assert not lock_directory(tmp_path / "s.db").exists()


def test_the_mount_holding_a_path_is_the_longest_that_contains_it() -> None:
    mounts = (
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/x /mnt/share nfs rw 0 0\n"
        "tmpfs /mnt/share\\040local tmpfs rw 0 0\n"
    )
    assert filesystem_of(Path("/mnt/share/a/s.db"), mounts) == ("/mnt/share", "nfs")
    assert filesystem_of(Path("/mnt/share local/s.db"), mounts) == ("/mnt/share local", "tmpfs")
    assert filesystem_of(Path("/mnt/shared/s.db"), mounts) == ("/", "ext4")
    assert filesystem_of(Path("/srv/s.db"), "") is None
