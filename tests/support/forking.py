"""fork() in a test, bounded: a child that hangs is killed, never left behind (an orphan
keeps the run's stdout open, and the whole CI run waits on it)."""

from __future__ import annotations

import contextlib
import os
import signal
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.process import BaseProcess


def run_in_fork(body: Callable[[], int], timeout: float) -> int:
    """Run body() in a forked child; its exit code (2 if it raised). Kills the child and
    fails if it has not ended within timeout seconds."""
    return wait_or_kill(_fork(body), timeout)


def _fork(body: Callable[[], int]) -> int:
    """body() in a forked child, which leaves with its exit code (2 if it raised) and never
    returns into pytest; the child's pid."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            code = body()
        except BaseException:
            traceback.print_exc()  # to the test's captured stderr: a failing test shows it
        finally:
            os._exit(code)
    return pid


class Forked:
    """A forked child that a test may kill (see forked())."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.code: int | None = None  # its exit code once reaped (-9: SIGKILLed)

    def running(self) -> bool:
        if self.code is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.code = os.waitstatus_to_exitcode(status)
        return self.code is None

    def kill(self) -> int:
        """SIGKILL it (unless it ended) and reap it; its exit code."""
        if self.running():
            os.kill(self.pid, signal.SIGKILL)
            self.code = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        assert self.code is not None
        return self.code


@contextlib.contextmanager
def forked(body: Callable[[], int]) -> Iterator[Forked]:
    """body() in a forked child, for the block to watch or kill: the child is killed and
    reaped when the block ends (an exception included) if it is still running."""
    child = Forked(_fork(body))
    try:
        yield child
    finally:
        child.kill()


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
