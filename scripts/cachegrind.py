"""Instructions of a whole Python interpreter under cachegrind: the count the instruction
benchmarks (scripts/bench_ingest_instructions.py, scripts/bench_otel_instructions.py) compare,
repeatable on a loaded machine where wall-clock times are not."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence


def instructions(arguments: Sequence[str], pythonpath: Sequence[str]) -> int:
    """Instructions of `python arguments...` with PYTHONPATH set to pythonpath (its entries in
    that order: another checkout's package placed first is measured instead of this one's)."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            *arguments,
        ],
        capture_output=True,
        text=True,
        check=True,
        # A fixed hash seed: the same dict layouts, so the same instructions run to run.
        env={
            **os.environ,
            "PYTHONHASHSEED": "0",
            "PYTHONPATH": os.pathsep.join(entry for entry in pythonpath if entry),
        },
    )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count in cachegrind's output:\n{done.stderr}")
    return int(found.group(1).replace(",", ""))
