"""Instructions per parsed event: this checkout's generated client against another revision's.

Run it with `scripts/bench-parse-cost [--rev REV] [--rounds N]`. The bodies are the batch
answers of `scripts/bench --only parse` (1000 events each). REV's `paygentic_client` is
extracted with `git archive` into a temporary directory; each version is imported in its own
interpreter run under `valgrind --tool=callgrind`, and only the parses are counted:
collection is off at start and on only inside one C function, the ctypes callback
(`--toggle-collect=closure_fcn`) through which the child runs each measured loop, after a
warm-up parse (imports done, bytecode specialised); `--dump-after=closure_fcn` writes one
profile per loop. Nothing else in the child calls through ctypes: the number of profiles is
checked. Instruction counts do not depend on the machine's load, so the figures are
repeatable on a busy machine; they are not times.

Two figures per body: the whole operation (bytes to models, as
`batch_create_usage_events._parse_response` does it) and `from_dict` alone (on the decoded
JSON). The default REV is the commit before issue 25 (the first parent of the merge of
i25-drift), whose parse issue 25 must not slow by more than 5%.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bench

ROOT = Path(__file__).resolve().parent.parent
BEFORE_ISSUE_25 = "b31289f09d136db9d4cedf1e6c5428b41ee7b896"
WARMUP = 1  # from_dict runs 1000 times a parse: the first has specialised its bytecode

# What runs under callgrind: argv is the directory to import paygentic_client from, the number
# of measured parses, then the body files. Each call of `measured` is one loop (one dump).
CHILD = """
import sys
package_root, rounds, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
sys.path.insert(0, package_root)
import ctypes
import gc
import httpx
import paygentic_client
from paygentic_client._runtime.jsonbody import decode_json
from paygentic_client.api.usage_events import batch_create_usage_events as operation
from paygentic_client.models import BatchUsageEventResponse

assert paygentic_client.__file__.startswith(package_root), paygentic_client.__file__
done = []


def loop():
    for _ in range(rounds):
        parse(argument)
    done.append(1)  # an exception in a ctypes callback is only printed


measured = ctypes.CFUNCTYPE(None)(loop)
for path in paths:
    raw = open(path, "rb").read()
    response = httpx.Response(201, content=raw)
    data = decode_json(raw)
    for parse, argument in (
        (operation._parse_response, response),
        (BatchUsageEventResponse.from_dict, data),
    ):
        for _ in range(WARMUP):
            parse(argument)
        # The collector's counts from a known start: when its collections fall in the loop
        # then depends on what the parse allocates, not on what ran before.
        gc.collect()
        measured()
assert len(done) == 2 * len(paths), "a measured loop failed"
""".replace("WARMUP", str(WARMUP))

# The loops of each body, in the order the child runs them.
LOOPS = ("whole", "from_dict")


def extract(rev: str, into: Path) -> Path:
    """A directory holding `rev`'s paygentic_client package."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "paygentic_client"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def count(package_root: Path, bodies: list[Path], rounds: int, out: Path) -> list[int]:
    """The instructions of each measured loop, in the child's order."""
    out.mkdir()
    command = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        "--toggle-collect=closure_fcn",
        "--dump-after=closure_fcn",
        f"--callgrind-out-file={out}/loops",
        sys.executable,
        "-c",
        CHILD,
        str(package_root),
        str(rounds),
        *map(str, bodies),
    ]
    # A fixed hash seed: the same dict and set layouts, so the same instructions, every run.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(command, check=True, capture_output=True, env=env)
    dumps = sorted(
        (path for path in out.glob("loops.*") if path.suffix[1:].isdigit()),
        key=lambda path: int(path.name.rsplit(".", 1)[-1]),
    )
    counts = [_total(path) for path in dumps]
    expected = len(bodies) * len(LOOPS)
    if len(counts) != expected:
        raise SystemExit(f"expected {expected} callgrind dumps, got {len(counts)} in {out}")
    return counts


def _total(dump: Path) -> int:
    for line in dump.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise SystemExit(f"no instruction total in {dump}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rev", default=BEFORE_ISSUE_25, help="the version to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="measured parses of each body")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        bodies = []
        for label, nulls, dispute in bench.PARSE_BODIES:
            path = Path(tmp) / f"{label.replace(' ', '-')}.json"
            path.write_bytes(bench.batch_response_raw(nulls=nulls, dispute=dispute))
            bodies.append(path)
        base_root = extract(args.rev, Path(tmp) / "base")
        # Both interpreters at once: instruction counts do not mind sharing the cores.
        with ThreadPoolExecutor(2) as pool:
            runs = {
                name: pool.submit(count, root, bodies, args.rounds, Path(tmp) / f"out-{name}")
                for name, root in (("new", ROOT), ("old", base_root))
            }
            with_counts = {name: run.result() for name, run in runs.items()}
    per_event = args.rounds * bench.EVENTS
    print(
        f"instructions per event (callgrind), this checkout / {args.rev[:12]}, "
        f"{bench.EVENTS} events x {args.rounds} parses"
    )
    figures = []
    for index, (label, _, _) in enumerate(bench.PARSE_BODIES):
        for offset, loop in enumerate(LOOPS):
            at = index * len(LOOPS) + offset
            new = with_counts["new"][at] / per_event
            old = with_counts["old"][at] / per_event
            figures.append({"body": label, "loop": loop, "new": new, "old": old})
            print(
                f"  {label:<18} {loop:<10} new {new:9.0f}  old {old:9.0f}  "
                f"new/old {new / old:.3f} ({(new / old - 1) * 100:+.1f}%)"
            )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
