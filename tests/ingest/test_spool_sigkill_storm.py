"""Exactly once through a storm of SIGKILLs: a process submits to a spool from four
producers at once (three call submit(), one submit_many() with lists of 10) while its senders
deliver to a sandbox process; at process-crash durability each submit() is a journal write of
its own, at power-loss concurrent submits share one sync (group commit). It is SIGKILLed at a
random moment and started again, ten times per driver and durability; then a last one submits
the rest and `spool drain` delivers what the killed ones left. Every event whose submit
returned is stored by the API exactly once, and the spool ends empty. Threads and asyncio.

The producing processes are forked from the test's own (a fresh interpreter spends about a
second of CPU importing the client here; a fork nothing), hence the `forks` tier. Each
producer of a killed process starts again after its last returned submit: the event it was
submitting at the kill may or may not be in the spool, and submitting it again makes it one
whose submit returned (the API keeps one event per key)."""

from __future__ import annotations

import asyncio
import collections
import datetime
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from support.forking import forked, run_in_fork
from support.sandbox_fixture import MERCHANT_ID, TOKEN, SandboxFactory
from test_ingest_sandbox import stored_keys

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester
from paygentic_client.cli.main import main
from paygentic_client.ingest.journal import Journal
from paygentic_client.ingest.spool import Durability, Spool
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

pytestmark = pytest.mark.forks  # fork() in the test's own process (see pyproject.toml)

STAMP = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)
PRODUCERS = 4
MANY = PRODUCERS - 1  # the producer that calls submit_many()
LIST = 10  # events per submit_many()
PAUSE = 0.004  # after every ten events of a producer: the kills land while it submits
KILLS = 10  # per driver and durability: 20 per driver, as the threads-only storm had
# Both drivers': quick batches, a short lease.
OPTIONS: dict[str, Any] = {"flush_interval": 0.02, "spool_lease": 0.5, "max_batch_size": 50}


def key(producer: int, n: int) -> str:
    return f"cus_kill_{producer}_{n:05d}"


def event(producer: int, n: int) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=key(producer, n),
        customer_id="cus_kill",
        merchant_id=MERCHANT_ID,
        timestamp=STAMP + datetime.timedelta(milliseconds=n),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=1)],
    )


def calls(producer: int, start: int, stop: int | None) -> Iterator[list[int]]:
    """The event numbers of each call a producer makes, from start to stop (None: without
    end): one per submit(), LIST per submit_many()."""
    size = LIST if producer == MANY else 1
    n = start
    while stop is None or n < stop:
        end = n + size if stop is None else min(n + size, stop)
        yield list(range(n, end))
        n = end


class Paths:
    def __init__(self, tmp_path: Path) -> None:
        self.spool = tmp_path / "s.db"
        self.returned = tmp_path / "returned.txt"  # each key, once its submit returned
        self.grouped = tmp_path / "grouped.txt"  # written by a process whose commits mixed

    def returned_keys(self) -> list[str]:
        """Whole lines only: a kill may cut the last one short."""
        if not self.returned.exists():
            return []
        return self.returned.read_text().split("\n")[:-1]

    def starts(self) -> list[int]:
        """Where each producer starts again: after its last returned submit."""
        counts = collections.Counter(k.rsplit("_", 1)[0] for k in self.returned_keys())
        return [counts[key(p, 0).rsplit("_", 1)[0]] for p in range(PRODUCERS)]


class Producing:
    """What the producers of one process share: the returned log (whole lines, under one
    lock) and a watch on the spool's commits."""

    def __init__(self, paths: Paths) -> None:
        self._out = os.open(paths.returned, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self._grouped = paths.grouped
        self._lock = threading.Lock()
        self._seen_grouped = False
        self._append = Journal.append

    def returned(self, producer: int, numbers: Sequence[int]) -> None:
        with self._lock:
            os.write(self._out, "".join(key(producer, n) + "\n" for n in numbers).encode())

    def watching(self) -> Callable[[Journal, Sequence[tuple[str, bytes]], float], list[int]]:
        """Journal.append, noting once that a commit served several producers."""

        def append(journal: Journal, events: Sequence[tuple[str, bytes]], now: float) -> list[int]:
            if not self._seen_grouped and len({k.rsplit("_", 1)[0] for k, _ in events}) > 1:
                self._seen_grouped = True
                with self._grouped.open("a") as grouped:
                    grouped.write("grouped\n")
            return self._append(journal, events, now)

        return append


def with_threads(
    url: str, paths: Paths, starts: list[int], stop: int | None, durability: Durability
) -> int:
    producing = Producing(paths)
    with mock.patch.object(Journal, "append", producing.watching()):
        client = AuthenticatedClient(base_url=url, token=TOKEN)
        ingester = UsageIngester(client, spool=paths.spool, durability=durability, **OPTIONS)

        def producer(p: int) -> None:
            for numbers in calls(p, starts[p], stop):
                if p == MANY:
                    ingester.submit_many([event(p, n) for n in numbers])
                else:
                    ingester.submit(event(p, numbers[0]))
                producing.returned(p, numbers)
                if numbers[-1] % 10 == 9:
                    time.sleep(PAUSE)

        threads = [threading.Thread(target=producer, args=(p,)) for p in range(PRODUCERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        ingester.close(timeout=None)
    return 0


def with_asyncio(
    url: str, paths: Paths, starts: list[int], stop: int | None, durability: Durability
) -> int:
    producing = Producing(paths)

    async def produce() -> None:
        client = AuthenticatedClient(base_url=url, token=TOKEN)
        ingester = AsyncUsageIngester(client, spool=paths.spool, durability=durability, **OPTIONS)

        async def producer(p: int) -> None:
            for numbers in calls(p, starts[p], stop):
                if p == MANY:
                    await ingester.submit_many([event(p, n) for n in numbers])
                else:
                    await ingester.submit(event(p, numbers[0]))
                producing.returned(p, numbers)
                if numbers[-1] % 10 == 9:
                    await asyncio.sleep(PAUSE)

        await asyncio.gather(*(producer(p) for p in range(PRODUCERS)))
        await ingester.close(timeout=None)

    with mock.patch.object(Journal, "append", producing.watching()):
        asyncio.run(produce())
    return 0


DRIVERS: dict[str, Callable[[str, Paths, list[int], int | None, Durability], int]] = {
    "threads": with_threads,
    "asyncio": with_asyncio,
}


# At process-crash durability a submit() is one journal write of its own; at power-loss the
# journal's sync is group-committed: concurrent producers share one.
@pytest.mark.parametrize("durability", ["process-crash", "power-loss"])
@pytest.mark.parametrize("driver", ["threads", "asyncio"])
def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    sandbox_factory: SandboxFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    driver: str,
    durability: Durability,
) -> None:
    server = sandbox_factory()
    paths = Paths(tmp_path)
    produce = DRIVERS[driver]
    moments = random.Random(f"storm-{driver}")
    for _ in range(KILLS):
        before = len(paths.returned_keys())
        with forked(partial(produce, server.url, paths, paths.starts(), None, durability)) as child:
            deadline = time.monotonic() + 30
            while len(paths.returned_keys()) == before:
                assert child.running(), f"the producer failed (exit code {child.code})"
                assert time.monotonic() < deadline, "the producer never got going"
                time.sleep(0.005)
            time.sleep(moments.uniform(0, 0.25))  # a random moment of submitting and delivering
            assert child.kill() == -signal.SIGKILL  # it was still submitting
    starts = paths.starts()
    stop = max(starts) + 2 * LIST  # every producer submits a few more, to the same end
    assert (
        run_in_fork(partial(produce, server.url, paths, starts, stop, durability), timeout=120) == 0
    )
    # What the killed producers left (the last one closes once its own events are in):
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", TOKEN)
    drain = ["spool", "drain", str(paths.spool), "--base-url", server.url, "--no-progress"]
    assert main(drain) == 0
    assert "the spool is empty" in capsys.readouterr().out
    expected = sorted(key(p, n) for p in range(PRODUCERS) for n in range(stop))
    returned = paths.returned_keys()
    assert len(returned) == len(set(returned)) and sorted(returned) == expected
    if durability == "power-loss":
        assert paths.grouped.exists(), "no commit served several producers"
    client = AuthenticatedClient(base_url=server.url, token=TOKEN)
    stored = stored_keys(client, "cus_kill")
    assert len(stored) == len(set(stored))
    assert sorted(stored) == expected
    with Spool(paths.spool) as opened:
        assert opened.status().pending == 0
