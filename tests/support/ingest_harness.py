"""One face for the four ingesters (threads or asyncio × memory or spool), so that a test of
delivery semantics is written once: the `ingesting` fixture (below; the test runs once per
driver × store) makes one of them,
and the test submits, flushes, closes and reads outcomes the same way whichever it got.

The asyncio ingester runs on an event loop in a thread of its own; its calls are made there
(asyncio.run_coroutine_threadsafe) and waited for from the test's thread, each with a
timeout, so a hang fails the test instead of stalling the suite.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester
from paygentic_client.ingest import AsyncEventFuture, IngestStats
from paygentic_client.ingest.spool import Spool
from paygentic_client.models import CreateUsageEventRequest, UsageEvent

T = TypeVar("T")
PATIENCE = 30.0  # what takes milliseconds, on a loaded machine; a hang still ends


class Outcome(Protocol):
    """What a test reads of a handle (an EventHandle has these itself)."""

    def result(self, timeout: float | None = None) -> UsageEvent: ...
    def exception(self, timeout: float | None = None) -> BaseException | None: ...


class Ingesting(Protocol):
    spool: Path | None

    def submit(self, event: CreateUsageEventRequest) -> Outcome: ...
    def flush(self, timeout: float | None = None) -> bool: ...
    def close(self, timeout: float | None = None) -> None: ...
    def stats(self) -> IngestStats: ...
    def spool_status(self) -> tuple[int, int, int]: ...
    def rejected(self) -> list[tuple[str, str]]: ...


class IngestingFactory(Protocol):
    def __call__(self, client: AuthenticatedClient, **options: Any) -> Ingesting: ...


class _SpoolReading:
    spool: Path | None

    def spool_status(self) -> tuple[int, int, int]:
        """(pending, claimed, rejected) of the spool; (0, 0, 0) without one."""
        if self.spool is None:
            return (0, 0, 0)
        with Spool(self.spool) as spool:
            status = spool.status()
        return status.pending, status.claimed, status.rejected

    def rejected(self) -> list[tuple[str, str]]:
        """(key, reason) of each rejected event kept in the spool; [] without one."""
        if self.spool is None:
            return []
        with Spool(self.spool) as spool:
            return [(event.key, event.reason) for event in spool.rejected()]


class Threaded(_SpoolReading):
    def __init__(self, client: AuthenticatedClient, spool: Path | None, **options: Any) -> None:
        self.spool = spool
        self.ingester = UsageIngester(client, spool=spool, **options)

    def submit(self, event: CreateUsageEventRequest) -> Outcome:
        return self.ingester.submit(event)

    def flush(self, timeout: float | None = None) -> bool:
        return self.ingester.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        self.ingester.close(timeout)

    def stats(self) -> IngestStats:
        return self.ingester.stats()


class AsyncOutcome:
    def __init__(self, future: AsyncEventFuture, loop: asyncio.AbstractEventLoop) -> None:
        self._future = future
        self._loop = loop

    def _settled(self, timeout: float | None) -> None:
        if self._future.done():  # a read of its state: safe from another thread
            return

        async def settled() -> None:
            await asyncio.wait([self._future])

        done = asyncio.run_coroutine_threadsafe(settled(), self._loop)
        try:
            done.result(timeout)
        except concurrent.futures.TimeoutError:
            done.cancel()
            raise TimeoutError(f"the event was not resolved within {timeout} s") from None

    def result(self, timeout: float | None = None) -> UsageEvent:
        self._settled(timeout)
        return self._future.result()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._settled(timeout)
        return self._future.exception()


class Asynchronous(_SpoolReading):
    def __init__(self, client: AuthenticatedClient, spool: Path | None, **options: Any) -> None:
        self.spool = spool
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="test-ingest-loop")
        self._thread.start()

        async def make() -> AsyncUsageIngester:
            return AsyncUsageIngester(client, spool=spool, **options)

        self.ingester = self._run(make())

    def _run(self, work: Coroutine[Any, Any, T], timeout: float | None = PATIENCE) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def submit(self, event: CreateUsageEventRequest) -> Outcome:
        return AsyncOutcome(self._run(self.ingester.submit(event)), self.loop)

    def flush(self, timeout: float | None = None) -> bool:
        return self._run(self.ingester.flush(timeout), None if timeout is None else timeout + 5)

    def close(self, timeout: float | None = None) -> None:
        wait = None if timeout is None else timeout + 10  # the grace, and a loaded machine
        self._run(self.ingester.close(timeout), wait)

    def stats(self) -> IngestStats:
        async def read() -> IngestStats:
            return self.ingester.stats()

        return self._run(read())

    def stop(self) -> None:
        """Close the ingester (if a test did not) and stop the loop's thread."""
        try:
            self._run(self.ingester.close(1.0), 15)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(15)
            self.loop.close()


# -- the fixtures (registered in tests/conftest.py) ----------------------------------------


@pytest.fixture(params=["threads", "asyncio"])
def ingest_driver(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture(params=["memory", "spool"])
def ingest_store(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def ingesting(ingest_driver: str, ingest_store: str, tmp_path: Path) -> Iterator[IngestingFactory]:
    """Make ingesters of this test's driver and store; each is closed (1 s deadline) and its
    loop stopped after the test."""
    made: list[Ingesting] = []

    def make(client: AuthenticatedClient, **options: Any) -> Ingesting:
        spool = tmp_path / f"spool-{len(made)}.db" if ingest_store == "spool" else None
        kind = Threaded if ingest_driver == "threads" else Asynchronous
        ingester = kind(client, spool, **options)
        made.append(ingester)
        return ingester

    yield make
    for ingester in made:
        if isinstance(ingester, Asynchronous):
            ingester.stop()
        else:
            ingester.close(1.0)


@pytest.fixture
def direct_spool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spools without journals (journal.py), as on a platform without flock: every event of
    an ingester goes through the database (appends, claims, leases, answers left for another
    live process), which is what these tests are about."""
    monkeypatch.setattr(Spool, "open_journal", lambda spool: None)
