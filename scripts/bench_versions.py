"""The parse figures of two versions of the generated client, side by side in one process.

Run it with `scripts/bench-versions [--rev REV] [--quick]`: the package of git revision REV
(default `main`) is extracted into a temporary directory as `paygentic_client_base` (the
package imports itself relatively, so both versions load at once), and the batch answers of
`scripts/bench --only parse` are parsed by both, interleaved round by round
(bench.compare). The figure is new/old of the whole operation: bytes to models, as
`batch_create_usage_events._parse_response` does it. A ratio of 1.03 means this checkout
parses 3% slower than REV.
"""

from __future__ import annotations

import argparse
import importlib
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import bench
import httpx

ROOT = Path(__file__).resolve().parent.parent
BASE_NAME = "paygentic_client_base"


def load_base(rev: str, into: Path) -> ModuleType:
    """The batch operation module of `rev`'s paygentic_client, imported as BASE_NAME."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", rev, "paygentic_client"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    (into / "paygentic_client").rename(into / BASE_NAME)
    sys.path.insert(0, str(into))
    return importlib.import_module(f"{BASE_NAME}.api.usage_events.batch_create_usage_events")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rev", default="main", help="the version to compare with")
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke run")
    args = parser.parse_args(argv)
    settings = bench.QUICK if args.quick else bench.FULL
    from paygentic_client.api.usage_events import batch_create_usage_events as new

    print(f"parse, this checkout / {args.rev} (ratio < 1: faster), {bench.EVENTS} events")
    with tempfile.TemporaryDirectory() as tmp:
        old = load_base(args.rev, Path(tmp))
        for label, nulls, dispute in bench.PARSE_BODIES:
            response = httpx.Response(
                201, content=bench.batch_response_raw(nulls=nulls, dispute=dispute)
            )
            parsed_new: Any = new._parse_response(response)
            parsed_old: Any = old._parse_response(response)
            bench.check(
                parsed_new.to_dict() == parsed_old.to_dict(), f"{label}: both read the same"
            )

            def new_parse(response: httpx.Response = response) -> Any:
                return new._parse_response(response)

            def old_parse(response: httpx.Response = response) -> Any:
                return old._parse_response(response)

            new_ns, old_ns, ratio = bench.compare(new_parse, old_parse, settings)
            print(
                f"  {label:<18} new {new_ns / 1e6:7.2f} ms  old {old_ns / 1e6:7.2f} ms  "
                f"new/old {ratio:.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
