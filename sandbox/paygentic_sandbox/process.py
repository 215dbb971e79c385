"""Run the sandbox as a child process: for tests, demos and fuzzing scripts.

    with SandboxProcess(db=tmp_path / "sandbox.db", tokens={"tok": "org_1"}) as sandbox:
        httpx.get(sandbox.url + "/v0/usage/usg_1", headers={"Authorization": "Bearer tok"})

A real process (not a thread) is what a client meets in production, and it can be killed
with SIGKILL to test durability.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from paygentic_sandbox.config import READY_LINE_PREFIX


class SandboxStartError(RuntimeError):
    pass


# Every SandboxProcess of this interpreter that was started and not stopped yet (held
# strongly: a process whose object was dropped without stop() still runs).
_running: set[SandboxProcess] = set()


def running_processes() -> list[SandboxProcess]:
    """The sandboxes this interpreter started and has not stopped whose server still runs
    (the pytest plugin fails a test that leaves one behind)."""
    return [process for process in list(_running) if process.running]


class SandboxProcess:
    def __init__(
        self,
        db: str | Path | None = ":memory:",
        tokens: Mapping[str, str] | None = None,
        faults: str | None = None,
        seed: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        extra_args: Sequence[str] = (),
        start_timeout: float = 30.0,
        cwd: str | Path | None = None,
        log: str | Path | None = None,
        null_optionals: bool = False,
        spec: str | Path | None = None,
        detached: bool = False,
    ) -> None:
        """`log`: a file that receives the server's log (its stderr), appended to; by default
        the server shares this process's stderr. `null_optionals`: `--null-optionals`; `spec`:
        `--spec`. `detached`: the server runs in a session of its own, so that it outlives
        this process and its terminal (no hang-up or Ctrl-C of theirs reaches it)."""
        self.db = str(db) if db is not None else ""
        self.tokens = dict(tokens or {})
        self.faults = faults
        self.seed = seed
        self.host = host
        self.port = port
        self.extra_args = list(extra_args)
        self.start_timeout = start_timeout
        self.cwd = cwd
        self.log = log
        self.null_optionals = null_optionals
        self.spec = spec
        self.detached = detached
        self.url = ""
        self._process: subprocess.Popen[str] | None = None

    def __repr__(self) -> str:
        # Never the tokens.
        return (
            f"SandboxProcess(url={self.url!r}, db={self.db!r}, faults={self.faults!r}, "
            f"null_optionals={self.null_optionals!r})"
        )

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "paygentic_sandbox", "--host", self.host]
        args += ["--port", str(self.port)]
        if self.db:
            args += ["--db", self.db]
        for token, merchant_id in self.tokens.items():
            args += ["--token", f"{token}:{merchant_id}"]
        if self.faults:
            args += ["--faults", self.faults]
        if self.seed is not None:
            args += ["--seed", str(self.seed)]
        if self.null_optionals:
            args.append("--null-optionals")
        if self.spec is not None:
            args += ["--spec", str(self.spec)]
        return args + self.extra_args

    def start(self) -> str:
        """Start the server and return its base URL once it listens."""
        if self._process is not None:
            raise SandboxStartError("already started")
        with contextlib.ExitStack() as files:
            # The child keeps its own copy of the descriptor; ours is closed at once.
            log = files.enter_context(open(self.log, "a")) if self.log is not None else None
            self._process = subprocess.Popen(
                self.command(),
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                cwd=self.cwd,
                start_new_session=self.detached,
            )
        _running.add(self)
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=self.start_timeout)
            except queue.Empty:
                self.kill()
                raise SandboxStartError("the sandbox did not start in time") from None
            if line is None:
                code = self._process.wait()
                self._process = None
                _running.discard(self)
                raise SandboxStartError(f"the sandbox exited with status {code}")
            if line.startswith(READY_LINE_PREFIX):
                self.url = line[len(READY_LINE_PREFIX) :].strip()
                return self.url

    def _pump(self, lines: queue.Queue[str | None]) -> None:
        # Keep reading after the ready line so that the child never blocks on a full pipe.
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            lines.put(line)
        lines.put(None)

    @property
    def running(self) -> bool:
        """Started, not stopped, and the server has not exited by itself."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("not running")
        return self._process.pid

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if it has not stopped within `timeout`; the exit status."""
        process, self._process = self._process, None
        _running.discard(self)
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                return process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        return process.wait()

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to clean up."""
        process, self._process = self._process, None
        _running.discard(self)
        if process is not None:
            process.kill()
            process.wait()

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
