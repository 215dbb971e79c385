"""fork() in a test, bounded: a child that hangs is killed, never left behind (an orphan
keeps the run's stdout open, and the whole CI run waits on it)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterable
from multiprocessing.process import BaseProcess


def run_in_fork(body: Callable[[], int], timeout: float) -> int:
    """Run body() in a forked child; its exit code (2 if it raised). Kills the child and
    fails if it has not ended within timeout seconds."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 2
        try:
            code = body()
        finally:
            os._exit(code)
    return wait_or_kill(pid, timeout)


def wait_or_kill(pid: int, timeout: float) -> int:
    """The exit code of child pid, waited for at most timeout seconds; a child that has not
    ended then (or when the test is interrupted, by its own timeout say) is killed."""
    deadline = time.monotonic() + timeout
    ended = False
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                ended = True
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                raise AssertionError(f"the forked child {pid} did not end within {timeout} s")
            time.sleep(0.01)
    finally:
        if not ended:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def join_or_kill(processes: Iterable[BaseProcess], timeout: float) -> list[int | None]:
    """Join multiprocessing children within timeout seconds in all; kill those still alive
    (whatever happens, an exception included); their exit codes."""
    processes = list(processes)
    deadline = time.monotonic() + timeout
    try:
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
                process.join()
    return [process.exitcode for process in processes]
