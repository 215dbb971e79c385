"""What scripts/bench_ingest.py and its sections share: the events, and a timed run's
figure (events/s, the client's CPU per event, how busy the sandbox process was)."""

from __future__ import annotations

import datetime
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paygentic_sandbox import DEMO_MERCHANT_ID

from paygentic_client.models import (
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    Metadata,
)

STAMP = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC)


def make_events(prefix: str, count: int) -> list[CreateUsageEventRequest]:
    return [
        CreateUsageEventRequest(
            idempotency_key=f"{prefix}_{n:08d}",
            customer_id="cus_abc123xyz",
            merchant_id=DEMO_MERCHANT_ID,
            timestamp=STAMP,
            properties=[
                CreateUsageEventRequestProperty(
                    billable_metric_id="bm_api_calls", quantity=3, price="0.01"
                )
            ],
            metadata=Metadata.from_dict({"model": "claude-3-opus", "input_tokens": "1500"}),
        )
        for n in range(count)
    ]


@dataclass(frozen=True)
class Figure:
    events_per_second: float
    client_cpu_per_event: float  # µs of this process's CPU (all its threads) per event
    server_busy: float  # the sandbox process's CPU time over the wall time of the run


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of another process so far, from /proc (Linux); the standard library
    reads it only for the current process and its waited-for children."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def timed(run: Callable[[], None], count: int, server_pid: int) -> Figure:
    server_started = process_cpu_seconds(server_pid)
    cpu_started, started = time.process_time(), time.perf_counter()
    run()
    cpu, elapsed = time.process_time() - cpu_started, time.perf_counter() - started
    server = process_cpu_seconds(server_pid) - server_started
    return Figure(count / elapsed, 1e6 * cpu / count, server / elapsed)


def median_figure(runs: list[Figure]) -> Figure:
    return Figure(
        statistics.median(each.events_per_second for each in runs),
        statistics.median(each.client_cpu_per_event for each in runs),
        statistics.median(each.server_busy for each in runs),
    )
