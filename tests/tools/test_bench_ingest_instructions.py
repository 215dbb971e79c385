"""scripts/bench-ingest-instructions runs valgrind for minutes, so CI never runs it: its rows
run here without valgrind, a few events each, so that the script does not rot (a renamed
module, an ingester that stopped delivering what the row submits)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.scripts_modules import SCRIPTS

SCRIPT = SCRIPTS / "bench_ingest_instructions.py"


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.parametrize("row", ["thread", "asyncio", "thread-socket", "asyncio-socket"])
def test_a_row_runs_and_the_ingester_delivers_every_event(row: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(SCRIPTS)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--child", row, "--events", "20"],
        capture_output=True,
        text=True,
        env=env,
        timeout=50,
    )
    assert done.returncode == 0, done.stderr
