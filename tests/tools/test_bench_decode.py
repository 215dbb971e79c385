"""scripts/bench_decode.py is not run by CI as a benchmark: a run of two answers, one round,
here, so that the script does not rot (a renamed module, a sandbox that answers otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.scripts_modules import SCRIPTS


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_the_script_decodes_sandbox_answers_and_prints_its_ratios() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "bench_decode.py"), "--batches", "2", "--rounds", "1"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SCRIPTS)},
        timeout=80,
    )
    assert done.returncode == 0, done.stderr
    assert "this checkout" in done.stdout and "sent to json.loads" in done.stdout
