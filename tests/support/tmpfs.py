"""A small tmpfs of the test's own, to fill up: mounted in a fixture and always unmounted.

Mounting needs root (CAP_SYS_ADMIN); where it is impossible the test is skipped with a reason
that says so loudly, so a run that tested no full disk cannot pass for one that did.

    def test_x(small_tmpfs: TmpfsFactory) -> None:
        point = small_tmpfs("2m")   # a Path; the size as mount's size= option takes it
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

__all__ = ["TmpfsFactory", "fill_up", "small_tmpfs"]


class TmpfsFactory(Protocol):
    def __call__(self, size: str) -> Path: ...


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[TmpfsFactory]:
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("NOT TESTED: a full disk needs a tmpfs of its own, and mount needs root")
        point = tmp_path / f"tmpfs{len(mounted)}"
        point.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)],
            capture_output=True,
            timeout=30,
        )
        if done.returncode:
            reason = done.stderr.decode().strip()
            pytest.skip(f"NOT TESTED: cannot mount a tmpfs here ({reason})")
        mounted.append(point)
        return point

    try:
        yield mount
    finally:
        for point in reversed(mounted):
            subprocess.run(["umount", "-l", str(point)], check=True, timeout=30)


def fill_up(path: Path) -> int:
    """Write `path` until the filesystem is full (ENOSPC); returns the bytes written."""
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with contextlib.suppress(OSError):
            while True:
                written += os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    return written
