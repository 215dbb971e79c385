"""What decode_json costs a batch answer, against orjson.loads and json.loads in the same run.

The bodies are real batch answers: --batches batches of 1000 events posted to a fresh sandbox
(its ids are random hex, in which 19 decimal digits in a row turn up in about one answer in
six: a run that decode_json must tell from a long integer). Each round times the three
decoders over all the bodies, back to back; each figure is the best round's ms per answer, and
decode_json's ratios are to the other two of the same run. With --against DIR the decode_json
of the paygentic_client found in DIR (e.g. a `git archive` of main) is timed in a child
process on the same bodies, and printed beside this checkout's.

Usage: .venv/bin/python scripts/bench_decode.py [--batches N] [--rounds N] [--against DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def answers(batches: int) -> list[bytes]:
    """The bodies of `batches` batch answers of a fresh sandbox, 1000 events each."""
    import httpx
    from bench_ingest_support import make_events
    from paygentic_sandbox import DEMO_TOKEN, SandboxProcess

    headers = {"Authorization": f"Bearer {DEMO_TOKEN}", "Content-Type": "application/json"}
    bodies = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        SandboxProcess(db=Path(tmp) / "decode.db") as server,
        httpx.Client(base_url=server.url, headers=headers) as http,
    ):
        for n in range(batches):
            events = [event.to_dict() for event in make_events(f"dec{n}", 1000)]
            response = http.post("/v0/usage/batch", content=json.dumps({"events": events}))
            assert response.status_code == 201, response.text[:200]
            bodies.append(response.content)
    return bodies


def best_ms(
    decoders: dict[str, Callable[[bytes], Any]], bodies: list[bytes], rounds: int
) -> dict[str, float]:
    """Each decoder's best round, in ms per body; the decoders alternate within a round."""
    best = dict.fromkeys(decoders, float("inf"))
    for _ in range(rounds):
        for name, decode in decoders.items():
            started = time.perf_counter()
            for body in bodies:
                decode(body)
            best[name] = min(best[name], 1e3 * (time.perf_counter() - started) / len(bodies))
    return best


def measure(files: list[str], rounds: int) -> dict[str, float]:
    import orjson

    from paygentic_client._runtime.jsonbody import decode_json, may_hold_a_long_integer

    bodies = [Path(file).read_bytes() for file in files]
    figures = best_ms(
        {"decode_json": decode_json, "orjson.loads": orjson.loads, "json.loads": json.loads},
        bodies,
        rounds,
    )
    figures["to json.loads"] = sum(map(may_hold_a_long_integer, bodies))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--against", help="a directory holding another paygentic_client")
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.child, args.rounds)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        bodies = answers(args.batches)
        for n, body in enumerate(bodies):
            files.append(str(Path(tmp) / f"{n}.json"))
            Path(files[-1]).write_bytes(body)
        sides = (
            {"this checkout": None, "--against": args.against}
            if args.against
            else {"this checkout": None}
        )
        size = sum(map(len, bodies)) // len(bodies) // 1000
        print(f"{args.batches} answers of 1000 events, ~{size} kB each; best of {args.rounds}")
        print(
            f"{'':<14} {'decode_json':>11} {'orjson':>7} {'json':>7}  {'/orjson':>7} {'/json':>6}"
        )
        for side, directory in sides.items():
            path = [
                str(HERE),
                *([directory] if directory else []),
                os.environ.get("PYTHONPATH", ""),
            ]
            done = subprocess.run(
                [sys.executable, __file__, "--rounds", str(args.rounds), "--child", *files],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)},
            )
            ms = json.loads(done.stdout)
            mine, fast, plain = ms["decode_json"], ms["orjson.loads"], ms["json.loads"]
            print(
                f"{side:<14} {mine:>8.2f} ms {fast:>7.2f} {plain:>7.2f}  {mine / fast:>6.2f}x "
                f"{mine / plain:>5.2f}x  ({ms['to json.loads']:.0f} sent to json.loads)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
