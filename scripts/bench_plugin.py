"""Benchmark the pytest plugin's two ways to give a test an isolated sandbox: a server
process of its own (what `paygentic_sandbox_factory` does) against a fresh merchant on the
session's shared server (what `paygentic_sandbox` does), measured in the same run with
interleaved rounds. Prints the median time of each and the ratio (process / merchant),
which is why `paygentic_sandbox` shares one server.

Usage: scripts/bench-plugin [--rounds N] [--merchants-per-round N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from paygentic_sandbox.testing import SandboxServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--merchants-per-round", type=int, default=50)
    args = parser.parse_args(argv)

    processes: list[float] = []
    merchants: list[float] = []
    with SandboxServer.start() as shared:
        for _ in range(args.rounds):
            start = time.perf_counter()
            own = SandboxServer.start()
            own.new_merchant()
            processes.append(time.perf_counter() - start)
            own.stop()  # not timed: the factory stops it after the test

            start = time.perf_counter()
            for _ in range(args.merchants_per_round):
                shared.new_merchant()
            merchants.append((time.perf_counter() - start) / args.merchants_per_round)

    process, merchant = statistics.median(processes), statistics.median(merchants)
    rounds = f"median of {args.rounds}"
    print(f"a server process of its own (start + merchant): {process * 1000:8.1f} ms  ({rounds})")
    per = f"{rounds} x {args.merchants_per_round}"
    print(f"a fresh merchant on the shared server:          {merchant * 1000:8.2f} ms  ({per})")
    print(f"ratio process / merchant:                       {process / merchant:8.0f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
