"""The score of a mutmut run over some targets (run by scripts/mutate, after `mutmut run`).

Reads `mutmut results --all true` (one `NAME: STATUS` line per mutant), keeps the mutants
whose names match the patterns given, and prints the count of each status, the score (killed
and timed out, over all but the skipped and the not checked) and every survivor.
Exit status 0; the verdict is for the reader (and the 85% aim in scripts/mutate).
"""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

MUTMUT = Path(sys.executable).parent / "mutmut"
# Counted as killed: a test failed, or the mutant made a test hang (mutmut's own rule).
KILLED = {"killed", "timeout"}
# Not counted either way.
UNJUDGED = {"skipped", "not checked", "no tests"}


def results() -> list[tuple[str, str]]:
    output = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    pairs = []
    for line in output.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            pairs.append((name, status))
    return pairs


def main(patterns: Sequence[str]) -> int:
    chosen = [(n, s) for n, s in results() if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    counts = Counter(status for _, status in chosen)
    judged = sum(n for status, n in counts.items() if status not in UNJUDGED)
    killed = sum(counts[status] for status in KILLED)
    print("mutants: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    if judged:
        print(f"score: {killed}/{judged} killed = {100 * killed / judged:.1f}%")
    for name, status in chosen:
        if status not in KILLED:
            print(f"  {status}: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
