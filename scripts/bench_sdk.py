"""The official pydantic SDK's parse of the bench's bodies, timed in its own environment.

scripts/bench.py runs this with the Python of `.bench/sdk-venv` (where `paygentic-sdk==0.1.34`
is installed, never in the client's environment) as
`python bench_sdk.py ROUNDS MIN_BATCH_NS BODY...` and reads one JSON line: for each body the
median times of `BatchUsageEventResponse.model_validate_json(raw)` and of `json.loads(raw)`
and the median of their paired ratios, measured interleaved in this process like bench.py's
own rows. Only the standard library and the SDK: this file cannot import bench.py.
"""

from __future__ import annotations

import gc
import importlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def _timed(operation: Callable[[], object], repeat: int) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for _ in range(repeat):
            operation()
        return (time.perf_counter_ns() - start) / repeat
    finally:
        gc.enable()


def _repeat_for(operation: Callable[[], object], min_batch_ns: int) -> int:
    repeat = 1
    while _timed(operation, repeat) * repeat < min_batch_ns and repeat < 1 << 20:
        repeat *= 2
    return repeat


def measure(raw: bytes, rounds: int, min_batch_ns: int) -> dict[str, float]:
    # Imported by name: the SDK is not installed where mypy checks this file.
    models = importlib.import_module("paygentic_sdk.models")
    model = models.BatchUsageEventResponse
    parsed = model.model_validate_json(raw)
    if len(parsed.successful) != len(json.loads(raw)["successful"]):
        raise AssertionError("the SDK did not parse every event")

    def sdk() -> object:
        return model.model_validate_json(raw)

    def loads() -> object:
        return json.loads(raw)

    repeat_sdk, repeat_loads = _repeat_for(sdk, min_batch_ns), _repeat_for(loads, min_batch_ns)
    times_sdk: list[float] = []
    times_loads: list[float] = []
    for round_ in range(rounds):
        sides = [(times_sdk, sdk, repeat_sdk), (times_loads, loads, repeat_loads)]
        for times, operation, repeat in sides if round_ % 2 == 0 else reversed(sides):
            times.append(_timed(operation, repeat))
    return {
        "sdk_ns": statistics.median(times_sdk),
        "loads_ns": statistics.median(times_loads),
        "ratio": statistics.median(s / b for s, b in zip(times_sdk, times_loads, strict=True)),
    }


def main(argv: list[str]) -> int:
    rounds, min_batch_ns, *bodies = argv
    results = [measure(Path(body).read_bytes(), int(rounds), int(min_batch_ns)) for body in bodies]
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
