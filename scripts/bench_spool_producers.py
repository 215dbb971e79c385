"""The spool's four figures of issue 26, for scripts/bench-ingest: spooled throughput as a
ratio of the in-memory ingester's, each with the same producers in the same run.

- 8 producer threads calling UsageIngester.submit(), spool at process-crash durability
  (target: at least 0.8x in memory) and at power-loss durability (at least 0.3x);
- 100 producer tasks calling AsyncUsageIngester.submit(), process-crash (at least 0.8x);
- one producer calling UsageIngester.submit_many() with 1000-event lists, process-crash
  (at least 0.8x).

Events/s from the first submit to the last acknowledgement (flush() returned: every handle
resolved), a fresh spool file for each spooled run. Each figure has a sandbox process of its
own (one for all in a smoke run), and its runs alternate: in memory, spooled, in memory, ...
(--rounds spooled runs); each spooled run is compared with the mean of the two in-memory
runs around it (the VM's speed drifts, and the sandbox's inserts slow down as its tables
grow: both move the two sides alike), and the figure's ratio is the median over the rounds.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench_ingest_support import Figure, make_events, median_figure, timed
from paygentic_sandbox import DEMO_TOKEN, SandboxProcess

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester
from paygentic_client.ingest.spool import Durability
from paygentic_client.models import CreateUsageEventRequest

THREADS = 8
TASKS = 100
LIST = 1000

# A run: (url, events, spool file or None for in memory, durability).
Run = Callable[[str, list[CreateUsageEventRequest], Path | None, Durability], None]


def _all_acknowledged(handles: list[Any]) -> None:
    assert all(handle.done() and handle.exception() is None for handle in handles)


def threads(
    url: str, events: list[CreateUsageEventRequest], spool: Path | None, durability: Durability
) -> None:
    """THREADS producer threads, each submitting its share of the events one by one."""
    shares = [events[n::THREADS] for n in range(THREADS)]
    handles: list[list[Any]] = [[] for _ in shares]
    with (
        AuthenticatedClient(base_url=url, token=DEMO_TOKEN) as client,
        UsageIngester(client, spool=spool, durability=durability) as ingester,
    ):

        def produce(n: int) -> None:
            handles[n] = [ingester.submit(event) for event in shares[n]]

        producers = [threading.Thread(target=produce, args=(n,)) for n in range(THREADS)]
        for producer in producers:
            producer.start()
        for producer in producers:
            producer.join()
        assert ingester.flush(timeout=None)
    _all_acknowledged([handle for share in handles for handle in share])


def tasks(
    url: str, events: list[CreateUsageEventRequest], spool: Path | None, durability: Durability
) -> None:
    """TASKS producer tasks on one event loop, each awaiting submit() for its share."""

    async def main() -> list[Any]:
        async with (
            AuthenticatedClient(base_url=url, token=DEMO_TOKEN) as client,
            AsyncUsageIngester(client, spool=spool, durability=durability) as ingester,
        ):

            async def produce(share: list[CreateUsageEventRequest]) -> list[Any]:
                return [await ingester.submit(event) for event in share]

            shares = await asyncio.gather(*(produce(events[n::TASKS]) for n in range(TASKS)))
            assert await ingester.flush(timeout=None)
        return [handle for share in shares for handle in share]

    _all_acknowledged(asyncio.run(main()))


def lists(
    url: str, events: list[CreateUsageEventRequest], spool: Path | None, durability: Durability
) -> None:
    """One producer, submit_many() of LIST events at a time."""
    handles: list[Any] = []
    with (
        AuthenticatedClient(base_url=url, token=DEMO_TOKEN) as client,
        UsageIngester(client, spool=spool, durability=durability) as ingester,
    ):
        for start in range(0, len(events), LIST):
            handles += ingester.submit_many(events[start : start + LIST])
        assert ingester.flush(timeout=None)
    _all_acknowledged(handles)


@dataclass(frozen=True)
class Shape:
    name: str
    run: Run
    durability: Durability
    target: float


SHAPES = (
    Shape(f"{THREADS} threads, submit(), process-crash", threads, "process-crash", 0.8),
    Shape(f"{THREADS} threads, submit(), power-loss", threads, "power-loss", 0.3),
    Shape(f"asyncio, {TASKS} tasks, submit(), process-crash", tasks, "process-crash", 0.8),
    Shape(f"1 thread, submit_many() of {LIST}, process-crash", lists, "process-crash", 0.8),
)


@dataclass(frozen=True)
class Result:
    shape: Shape
    memory: Figure  # medians
    spooled: Figure
    ratios: list[float]  # spooled / in memory, per round

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


_runs = itertools.count()


def measure_all(count: int, rounds: int, *, one_sandbox: bool = False) -> list[Result]:
    """Every shape's figure, each on a sandbox process of its own; with one_sandbox (a smoke
    run: a sandbox costs seconds to start on a busy machine) all on one."""
    if not one_sandbox:
        return [measure_all_on_one([shape], count, rounds)[0] for shape in SHAPES]
    return measure_all_on_one(list(SHAPES), count, rounds)


def measure_all_on_one(shapes: list[Shape], count: int, rounds: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp, SandboxProcess(db=Path(tmp) / "b.db") as server:
        return [measure(shape, count, rounds, server, Path(tmp)) for shape in shapes]


def measure(shape: Shape, count: int, rounds: int, server: SandboxProcess, tmp: Path) -> Result:
    """The figure of one shape: `rounds` spooled runs, each between two in-memory runs."""

    def one(spooled: bool) -> Figure:
        n = next(_runs)  # new keys for every run: the sandbox may be shared
        events = make_events(f"p{n}", count)
        spool = tmp / f"spool{n}.db" if spooled else None
        run = partial(shape.run, server.url, events, spool, shape.durability)
        return timed(run, count, server.pid)

    memory, spooled, ratios = [one(False)], [], []
    for _ in range(rounds):
        spooled.append(one(True))
        memory.append(one(False))
        around = (memory[-2].events_per_second + memory[-1].events_per_second) / 2
        ratios.append(spooled[-1].events_per_second / around)
    return Result(shape, median_figure(memory), median_figure(spooled), ratios)


def report(results: list[Result], *, smoke: bool) -> None:
    print("the spool with concurrent producers (issue 26): spooled / in memory, same producers")
    print(f"{'':<48} {'in memory':>10} {'spooled':>10}  {'client CPU/event':>19}  ratio")
    for result in results:
        spread = ""
        if len(result.ratios) > 1:
            spread = f" (rounds {min(result.ratios):.2f}-{max(result.ratios):.2f})"
        verdict = ""
        if not smoke:
            met = "OK" if result.ratio >= result.shape.target else "BELOW"
            verdict = f"  target >= {result.shape.target}x: {met}"
        memory_cpu, spooled_cpu = result.memory, result.spooled
        cpu = f"{memory_cpu.client_cpu_per_event:.0f} / {spooled_cpu.client_cpu_per_event:.0f} µs"
        print(
            f"{result.shape.name:<48} {result.memory.events_per_second:>10,.0f} "
            f"{result.spooled.events_per_second:>10,.0f}  {cpu:>19}  "
            f"{result.ratio:5.2f}x{spread}{verdict}"
        )
