"""The ingesters' delivery through a spool (ingest/engine.py with stores.py's SpoolStore)
against the sandbox app in process, through the client's own stack and a network double (tests/
inprocess_sandbox.py): what reaches the API, what each handle and the spool
say afterwards, retries, rows left by an earlier process, and the close deadline; threads and
asyncio. (tests/ingest/test_ingest_spool.py does the same against sandbox processes, in the slow
tier; these are the unit tier's, and what judges the engine's mutants: tests/MUTATION.md.)"""

from __future__ import annotations

import asyncio
import datetime
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from support.fake_clock import FakeClock
from support.inprocess_sandbox import InProcessFactory, InProcessSandbox
from support.sandbox_fixture import MERCHANT_ID

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, RetryPolicy, UsageIngester
from paygentic_client.cli.spool import drain
from paygentic_client.errors import (
    ApiError,
    EventRejectedError,
    IngesterClosedError,
    PaygenticError,
)
from paygentic_client.ingest.core import Batch, IngestStats, encode_event
from paygentic_client.ingest.engine import LeaseSchedule
from paygentic_client.ingest.spool import Answer, Spool
from paygentic_client.ingest.stores import Row, SpoolStore
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

FAST = RetryPolicy(backoff_initial=0.001, backoff_max=0.01)
# The sandbox's reason for an event whose quantity is 0.
BELOW_ONE = "properties[0].quantity: 0 is less than the minimum of 1"
PATIENCE = 30.0  # what takes milliseconds, on a loaded machine; a hang still ends


class SandboxApi:
    """What these tests read of the in-process sandbox and its network double: what the
    sandbox stored, what arrived, the faults still scripted, the gate."""

    def __init__(self, sandbox: InProcessSandbox) -> None:
        self.sandbox = sandbox
        self.gate = sandbox.network.gate

    @property
    def faults(self) -> list[str]:
        return self.sandbox.network.script

    @faults.setter
    def faults(self, script: list[str]) -> None:
        self.sandbox.network.script = list(script)

    @property
    def events(self) -> list[str]:
        return self.sandbox.stored_keys()

    @property
    def requests(self) -> int:
        return len(self.sandbox.network.sent)

    @property
    def batch_sizes(self) -> list[int]:
        return self.sandbox.network.batch_sizes()

    @property
    def bodies_by_first_key(self) -> dict[str, list[bytes]]:
        return self.sandbox.network.bodies_by_first_key()

    def client(self, **options: Any) -> AuthenticatedClient:
        """A client for sync and asyncio code alike."""
        return self.sandbox.dual_client(**options)


def usage(n: int, *, quantity: float = 1, prefix: str = "spl") -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"{prefix}_{n:05d}",
        customer_id="cus_spooled",
        merchant_id=MERCHANT_ID,
        timestamp=datetime.datetime(2024, 2, 1, 9, 0, tzinfo=datetime.UTC),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_s", quantity=quantity)],
    )


def status_of(path: Path) -> tuple[int, int, int]:
    with Spool(path) as spool:
        status = spool.status()
    return status.pending, status.claimed, status.rejected


def rejected_of(path: Path) -> list[tuple[str, str]]:
    with Spool(path) as spool:
        return [(event.key, event.reason) for event in spool.rejected()]


# A lease short enough that what an earlier process left is taken over at once (LEFT_FOR
# later), and long enough that this process's renewals keep it through a batch's retries on a
# slow machine: at 0.05 s, under mutmut's trampolines, a batch retried past its lease was
# claimed again by another sender, and its events counted as recovered twice.
SHORT_LEASE = 0.5
LEFT_FOR = 0.6


def left_by_an_earlier_process(path: Path, events: list[CreateUsageEventRequest]) -> None:
    with Spool(path) as spool:
        spool.append_many([encode_event(event) for event in events])


def assert_one_delivered_and_recovered(
    stats: IngestStats, api: SandboxApi, path: Path, *, recovered: int
) -> None:
    """One event of this process and `recovered` left by an earlier one, all delivered."""
    assert (stats.submitted, stats.delivered, stats.recovered, stats.in_queue) == (
        1,
        1,
        recovered,
        0,
    )
    old = [f"old_{n:05d}" for n in range(recovered)]
    assert sorted(api.events) == [*old, "spl_00000"]
    assert status_of(path) == (0, 0, 0)


@pytest.fixture
def spool_path(tmp_path: Path) -> Path:
    return tmp_path / "spool.db"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The ingester's log from INFO up (caplog.records: the test's own phase)."""
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        yield caplog


# -- settlement: an answer as rows to delete and rows to keep as rejected ---------------------


def claimed(path: Path, *keys: str) -> tuple[Spool, SpoolStore, Batch[Row]]:
    """The spool at path with one event per key, all claimed through the engine's store."""
    spool = Spool(path)
    spool.append_many([(key, b"{}") for key in keys])
    store = SpoolStore(spool)
    return spool, store, store.claim(10, 1000)


def test_a_resolved_batch_deletes_the_created_and_keeps_the_rejected_with_the_reason(
    spool_path: Path,
) -> None:
    spool, store, batch = claimed(spool_path, "a", "b", "c")
    created = {"id": "usg_a"}
    refused = EventRejectedError("quantity: below 1", index=1, idempotency_key="b")
    unexplained = RuntimeError("no reason attribute")
    store.settle(batch, [created, refused, unexplained], [True, True, True])
    assert [(event.key, event.reason) for event in spool.rejected()] == [
        ("b", "quantity: below 1"),
        ("c", "no reason attribute"),
    ]
    assert spool.status().pending == 0
    spool.close()


def test_a_refused_batch_keeps_every_row_as_rejected(spool_path: Path) -> None:
    spool, store, batch = claimed(spool_path, "a", "b")
    refusal = ApiError(400, None, {}, b"bad batch")
    store.settle(batch, [refusal, refusal], [True, True])
    assert [(event.key, event.reason) for event in spool.rejected()] == [
        ("a", str(refusal)),
        ("b", str(refusal)),
    ]
    spool.close()


def test_claimed_rows_become_a_batch_of_rows_without_identities(spool_path: Path) -> None:
    spool, _, items = claimed(spool_path, "a", "b")
    assert (items.keys, items.payloads, items.rows, items.identities) == (
        ["a", "b"],
        [b"{}", b"{}"],
        [(1, "a"), (2, "b")],
        [None, None],
    )
    assert (len(items), items.nbytes) == (2, 4)
    spool.close()


def test_a_lease_is_renewed_once_a_third_of_it_has_passed_since_the_claim() -> None:
    clock = FakeClock()
    schedule = LeaseSchedule(30.0, clock)
    assert not schedule.due()
    clock.now += 10.0  # exactly a third: not yet
    assert not schedule.due()
    clock.now += 0.001
    assert schedule.due()
    assert schedule.due()  # asking does not renew


def test_a_renewal_starts_the_next_third_of_the_lease() -> None:
    clock = FakeClock()
    schedule = LeaseSchedule(3.0, clock)
    clock.now += 1.5
    assert schedule.due()
    schedule.renewed()
    assert not schedule.due()
    clock.now += 1.0
    assert not schedule.due()
    clock.now += 0.01
    assert schedule.due()
    schedule.renewed()
    clock.now += 0.5
    assert not schedule.due()


# -- the threaded ingester ---------------------------------------------------------------------


def threaded(api: SandboxApi, path: Path, **options: Any) -> UsageIngester:
    options.setdefault("flush_interval", 0.02)
    return UsageIngester(api.client(retry_policy=FAST), spool=path, **options)


def test_threaded_delivers_every_event_once_and_empties_the_spool(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    with threaded(api, spool_path, max_batch_size=7) as ingester:
        handles = [ingester.submit(usage(n)) for n in range(30)]
    assert [h.result(timeout=0).idempotency_key for h in handles] == [
        f"spl_{n:05d}" for n in range(30)
    ]
    assert sorted(api.events) == [f"spl_{n:05d}" for n in range(30)]
    assert max(api.batch_sizes) == 7
    stats = ingester.stats()
    assert (stats.submitted, stats.delivered, stats.failed, stats.in_queue) == (30, 30, 0, 0)
    assert (stats.recovered, stats.retried_batches) == (0, 0)
    assert status_of(spool_path) == (0, 0, 0)


def test_threaded_full_batch_goes_without_waiting_for_the_flush_interval(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    with threaded(api, spool_path, max_batch_size=4, flush_interval=60) as ingester:
        handles = [ingester.submit(usage(n)) for n in range(4)]
        assert all(h.result(timeout=PATIENCE) for h in handles)
        assert api.batch_sizes == [4]
        late = ingester.submit(usage(4))
        assert ingester.flush(timeout=PATIENCE)  # a flush does not wait the interval either
        assert late.done() and api.batch_sizes == [4, 1]


def test_threaded_partial_batch_goes_after_the_flush_interval(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    with threaded(api, spool_path, max_batch_size=100, flush_interval=0.05) as ingester:
        handles = [ingester.submit(usage(n)) for n in range(3)]
        assert all(h.result(timeout=PATIENCE) for h in handles)
    assert api.batch_sizes == [3]


def test_threaded_rejected_events_fail_their_handles_and_stay_in_the_spool(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    with threaded(api, spool_path) as ingester:
        good = ingester.submit(usage(0))
        bad = ingester.submit(usage(1, quantity=0))
    assert good.result(timeout=0).idempotency_key == "spl_00000"
    error = bad.exception(timeout=0)
    assert isinstance(error, EventRejectedError) and error.reason == BELOW_ONE
    assert rejected_of(spool_path) == [("spl_00001", BELOW_ONE)]
    stats = ingester.stats()
    assert (stats.delivered, stats.failed, stats.in_queue) == (1, 1, 0)


def test_threaded_whole_batch_refusal_is_kept_as_rejected(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    api.faults = ["400"]
    with threaded(api, spool_path) as ingester:
        handles = [ingester.submit(usage(n)) for n in range(2)]
    errors = [h.exception(timeout=0) for h in handles]
    assert all(isinstance(error, ApiError) and error.status_code == 400 for error in errors)
    assert [key for key, _ in rejected_of(spool_path)] == ["spl_00000", "spl_00001"]
    assert all("injected 400" in reason for _, reason in rejected_of(spool_path))
    assert ingester.stats().failed == 2


def test_threaded_retries_a_batch_without_an_answer_then_delivers(
    spool_path: Path, logged: pytest.LogCaptureFixture, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    api.faults = ["503", "timeout", "drop"]
    with threaded(api, spool_path, max_batch_size=3, flush_interval=60) as ingester:
        handles = [ingester.submit(usage(n)) for n in range(3)]
    assert all(h.result(timeout=0) for h in handles)
    assert ingester.stats().retried_batches == 3
    assert len(api.bodies_by_first_key["spl_00000"]) == 4
    assert len(set(api.bodies_by_first_key["spl_00000"])) == 1  # the same bytes each time
    failed = [r for r in logged.records if "batch of 3 events failed (HTTP 503)" in r.getMessage()]
    assert failed and failed[0].levelno == logging.WARNING
    assert status_of(spool_path) == (0, 0, 0)


def test_threaded_delivers_what_an_earlier_process_left_as_recovered(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    left_by_an_earlier_process(spool_path, [usage(n, prefix="old") for n in range(3)])
    time.sleep(LEFT_FOR)  # older than the lease below: their submitter is gone (the point here)
    api = SandboxApi(in_process_sandbox())
    with threaded(api, spool_path, spool_lease=SHORT_LEASE, max_batch_size=2) as ingester:
        handle = ingester.submit(usage(0))
        deadline = time.monotonic() + PATIENCE
        while ingester.stats().recovered < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert handle.result(timeout=0).idempotency_key == "spl_00000"
    assert_one_delivered_and_recovered(ingester.stats(), api, spool_path, recovered=3)


def test_threaded_close_deadline_leaves_the_events_in_the_spool_released(
    spool_path: Path, logged: pytest.LogCaptureFixture, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    api.faults = ["503"] * 10_000
    ingester = threaded(api, spool_path)
    handles = [ingester.submit(usage(n)) for n in range(2)]
    started = time.monotonic()
    ingester.close(timeout=0.3)
    assert time.monotonic() - started < 0.3 + 2.0 + 2.0  # deadline + grace + slack
    for handle in handles:
        error = handle.exception(timeout=0)
        assert isinstance(error, IngesterClosedError)
        assert f"last cause: HTTP 503); it stays in the spool {spool_path}" in str(error)
        assert isinstance(error.__cause__, RuntimeError) and str(error.__cause__) == "HTTP 503"
    [summary] = [r for r in logged.records if "were not delivered" in r.getMessage()]
    assert summary.levelno == logging.WARNING
    assert "2 usage events" in summary.getMessage()
    assert "spl_00000, spl_00001" in summary.getMessage()
    assert f"they stay in the spool {spool_path}" in summary.getMessage()
    stats = ingester.stats()
    assert (stats.failed, stats.in_queue, stats.delivered) == (2, 0, 0)
    assert status_of(spool_path) == (2, 0, 0)  # still pending, and no longer claimed
    with pytest.raises(IngesterClosedError) as caught:
        ingester.submit(usage(9))
    assert str(caught.value) == "the ingester is closed"
    assert caught.value.idempotency_key == "spl_00009"


# The renewal tests: a 0.6 s lease, and a batch answered 503 twelve times 0.1 s apart.
def retrying_for_twice_a_lease(sandbox: InProcessSandbox) -> AuthenticatedClient:
    api = SandboxApi(sandbox)
    api.faults = ["503"] * 12
    patient = RetryPolicy(backoff_initial=0.1, backoff_max=0.1, jitter=lambda: 1.0)
    return api.client(retry_policy=patient)


def assert_claimed_throughout(samples: list[tuple[int, int, int]]) -> None:
    """While pending (and claimed once, at the start), never without a live lease."""
    assert all(claimed == 1 for pending, claimed, _ in samples[10:] if pending)


@pytest.mark.usefixtures("direct_spool")
def test_threaded_renews_the_lease_of_a_batch_it_keeps_retrying(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    client = retrying_for_twice_a_lease(in_process_sandbox())
    samples: list[tuple[int, int, int]] = []
    with UsageIngester(client, spool=spool_path, flush_interval=0.02, spool_lease=0.6) as ing:
        handle = ing.submit(usage(0))
        while not handle.done():  # for over a second: twice the lease
            samples.append(status_of(spool_path))
            time.sleep(0.02)
    assert handle.result(timeout=0)
    assert ing.stats().retried_batches == 12
    assert_claimed_throughout(samples)


def test_an_unexpected_failure_releases_the_batch_and_logs_it(
    spool_path: Path,
    logged: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    in_process_sandbox: InProcessFactory,
) -> None:
    api = SandboxApi(in_process_sandbox())
    client = api.client(retry_policy=FAST)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the transport")

    monkeypatch.setattr("paygentic_client.ingest.threaded.send", broken)
    ingester = UsageIngester(client, spool=spool_path, flush_interval=0.02)
    handle = ingester.submit(usage(0))
    deadline = time.monotonic() + PATIENCE
    while not any("could not be sent" in r.getMessage() for r in logged.records):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    ingester.close(timeout=0.1)
    line = next(r for r in logged.records if "could not be sent" in r.getMessage())
    assert line.getMessage() == "a batch from the spool could not be sent: a bug in the transport"
    assert line.levelno == logging.ERROR
    assert not any("failed unexpectedly" in r.getMessage() for r in logged.records)
    assert isinstance(handle.exception(timeout=0), IngesterClosedError)
    assert status_of(spool_path)[:2] == (1, 0)  # released, not rejected: still pending
    assert api.requests == 0


# -- the asyncio ingester -------------------------------------------------------------------------


def run(main: Callable[[], Any]) -> Any:
    return asyncio.run(main())


def asynchronous(api: SandboxApi, path: Path, **options: Any) -> AsyncUsageIngester:
    options.setdefault("flush_interval", 0.02)
    return AsyncUsageIngester(api.client(retry_policy=FAST), spool=path, **options)


def test_async_delivers_every_event_once_and_empties_the_spool(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> tuple[list[str], Any]:
        async with asynchronous(api, spool_path, max_batch_size=7) as ingester:
            handles = [await ingester.submit(usage(n)) for n in range(30)]
        return [str((await h).idempotency_key) for h in handles], ingester.stats()

    keys, stats = run(main)
    assert keys == [f"spl_{n:05d}" for n in range(30)]
    assert sorted(api.events) == keys and max(api.batch_sizes) == 7
    assert (stats.submitted, stats.delivered, stats.failed, stats.in_queue) == (30, 30, 0, 0)
    assert status_of(spool_path) == (0, 0, 0)


def test_async_full_batch_goes_without_waiting_for_the_flush_interval(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> None:
        async with asynchronous(api, spool_path, max_batch_size=4, flush_interval=60) as ing:
            handles = [await ing.submit(usage(n)) for n in range(4)]
            await asyncio.wait_for(asyncio.gather(*handles), PATIENCE)
            assert api.batch_sizes == [4]
            late = await ing.submit(usage(4))
            assert await ing.flush(timeout=PATIENCE)
            assert late.done() and api.batch_sizes == [4, 1]

    run(main)


def test_async_rejections_fail_their_handles_and_stay_in_the_spool(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> list[BaseException | None]:
        async with asynchronous(api, spool_path) as ingester:
            handles = [
                await ingester.submit(usage(0)),
                await ingester.submit(usage(1, quantity=0)),
            ]
        await asyncio.wait(handles)
        assert (ingester.stats().delivered, ingester.stats().failed) == (1, 1)
        return [h.exception() for h in handles]

    good, bad = run(main)
    assert good is None
    assert isinstance(bad, EventRejectedError) and bad.reason == BELOW_ONE
    assert rejected_of(spool_path) == [("spl_00001", BELOW_ONE)]


def test_async_retries_then_delivers_and_recovers_what_was_left(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    left_by_an_earlier_process(spool_path, [usage(n, prefix="old") for n in range(2)])
    time.sleep(LEFT_FOR)  # older than the lease below: their submitter is gone (the point here)
    api = SandboxApi(in_process_sandbox())
    api.faults = ["503", "timeout"]

    async def main() -> Any:
        async with asynchronous(api, spool_path, spool_lease=SHORT_LEASE) as ingester:
            handle = await ingester.submit(usage(0))
            deadline = time.monotonic() + PATIENCE
            while ingester.stats().recovered < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            assert (await handle).idempotency_key == "spl_00000"
        return ingester.stats()

    stats = run(main)
    assert_one_delivered_and_recovered(stats, api, spool_path, recovered=2)
    assert stats.retried_batches == 2


def test_async_close_deadline_leaves_the_events_in_the_spool_released(
    spool_path: Path, logged: pytest.LogCaptureFixture, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    api.faults = ["503"] * 10_000

    async def main() -> tuple[list[BaseException | None], Any]:
        ingester = asynchronous(api, spool_path)
        handles = [await ingester.submit(usage(n)) for n in range(2)]
        await ingester.close(timeout=0.3)
        with pytest.raises(IngesterClosedError, match="closed"):
            await ingester.submit(usage(9))
        return [h.exception() for h in handles], ingester.stats()

    started = time.monotonic()
    errors, stats = run(main)
    assert time.monotonic() - started < 0.3 + 2.0 + 2.0
    for error in errors:
        assert isinstance(error, IngesterClosedError)
        assert f"(last cause: HTTP 503); it stays in the spool {spool_path}" in str(error)
        assert isinstance(error.__cause__, RuntimeError)
    [summary] = [r for r in logged.records if "were not delivered" in r.getMessage()]
    assert summary.levelno == logging.WARNING
    assert (
        "2 usage events" in summary.getMessage() and "spl_00000, spl_00001" in summary.getMessage()
    )
    assert (stats.failed, stats.in_queue) == (2, 0)
    assert status_of(spool_path) == (2, 0, 0)


@pytest.mark.usefixtures("direct_spool")
def test_async_renews_the_lease_of_a_batch_it_keeps_retrying(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    client = retrying_for_twice_a_lease(in_process_sandbox())
    samples: list[tuple[int, int, int]] = []

    async def main() -> Any:
        ingester = AsyncUsageIngester(
            client, spool=spool_path, flush_interval=0.02, spool_lease=0.6
        )
        async with ingester:
            handle = await ingester.submit(usage(0))
            while not handle.done():  # for over a second: twice the lease
                samples.append(status_of(spool_path))
                await asyncio.sleep(0.02)
        assert (await handle).idempotency_key == "spl_00000"
        return ingester.stats()

    stats = run(main)
    assert stats.retried_batches == 12
    assert_claimed_throughout(samples)


def test_async_spool_errors_are_paygentic_errors(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    spool_path.write_text("not a database\n" * 100)

    async def main() -> None:
        async with asynchronous(SandboxApi(in_process_sandbox()), spool_path):
            pass

    with pytest.raises(PaygenticError, match="not a paygentic spool"):
        run(main)


@pytest.mark.usefixtures("direct_spool")
def test_async_spool_runs_sqlite_off_the_loop_thread(
    spool_path: Path, monkeypatch: pytest.MonkeyPatch, in_process_sandbox: InProcessFactory
) -> None:
    threads: set[str] = set()
    real_append_many = Spool.append_many

    def recording_append_many(self: Spool, events: Sequence[tuple[str, bytes]]) -> list[int]:
        threads.add(threading.current_thread().name)
        return real_append_many(self, events)

    monkeypatch.setattr(Spool, "append_many", recording_append_many)

    async def main() -> None:
        async with asynchronous(SandboxApi(in_process_sandbox()), spool_path) as ingester:
            await ingester.submit(usage(0))

    run(main)
    assert len(threads) == 1 and threads.pop().startswith("paygentic-spool-sqlite")


# -- what the first runs left alive (tests/MUTATION.md) ---------------------------------------


def wal_of(path: Path) -> Path:
    """The WAL file SQLite keeps beside the spool while a connection has it open."""
    return path.with_name(path.name + "-wal")


def test_async_closed_submit_names_the_event_and_close_closes_the_spool(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    async def main() -> None:
        ingester = asynchronous(SandboxApi(in_process_sandbox()), spool_path)
        await ingester.submit(usage(0))
        assert wal_of(spool_path).exists()
        await ingester.close(timeout=PATIENCE)
        assert not wal_of(spool_path).exists()  # the last connection closed
        with pytest.raises(IngesterClosedError) as caught:
            await ingester.submit(usage(1))
        assert str(caught.value) == "the ingester is closed"
        assert caught.value.idempotency_key == "spl_00001"

    run(main)


def test_threaded_close_closes_the_spool(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    with threaded(SandboxApi(in_process_sandbox()), spool_path) as ingester:
        ingester.submit(usage(0))
        assert wal_of(spool_path).exists()
    assert not wal_of(spool_path).exists()


def test_async_close_without_an_answer_says_so_and_keeps_the_events(
    spool_path: Path, logged: pytest.LogCaptureFixture, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    api.gate.close()  # the request waits: no answer, no failure either

    async def main() -> list[BaseException | None]:
        ingester = asynchronous(api, spool_path)
        handles = [await ingester.submit(usage(n)) for n in range(2)]
        await ingester.close(timeout=0.2)
        return [h.exception() for h in handles]

    started = time.monotonic()
    try:
        errors = run(main)
    finally:
        api.gate.open()
    assert time.monotonic() - started < 0.2 + 2.0 + 2.0  # deadline + grace + slack
    for n, error in enumerate(errors):
        assert isinstance(error, IngesterClosedError)
        assert error.idempotency_key == f"spl_{n:05d}"
        assert str(error) == (
            "closed before the event was acknowledged (last cause: no answer yet); "
            f"it stays in the spool {spool_path}"
        )
    [summary] = [r for r in logged.records if "were not delivered" in r.getMessage()]
    assert summary.getMessage() == (
        "2 usage events were not delivered (close deadline passed; last cause: no answer yet; "
        f"they stay in the spool {spool_path} and the next ingester delivers them); "
        "idempotency keys: spl_00000, spl_00001"
    )
    assert status_of(spool_path)[0] == 2


@pytest.mark.parametrize("kind", ["threaded", "async"])
def test_a_partial_batch_after_a_full_one_waits_for_the_flush_interval(
    spool_path: Path, kind: str, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    # one sender: with two, the other may claim the rest as soon as the first batch is full
    # (a partial batch early: allowed, but not what this test is about)
    if kind == "threaded":
        with threaded(
            api, spool_path, max_batch_size=4, flush_interval=60, max_in_flight=1
        ) as ingester:
            handles = [ingester.submit(usage(n)) for n in range(7)]
            assert all(h.result(timeout=PATIENCE) for h in handles[:4])
            time.sleep(0.3)  # a moment for a wrong early send (the correct code waits 60 s)
            assert api.batch_sizes == [4]
            assert ingester.flush(timeout=PATIENCE)
    else:

        async def main() -> None:
            async with asynchronous(
                api, spool_path, max_batch_size=4, flush_interval=60, max_in_flight=1
            ) as ing:
                handles = [await ing.submit(usage(n)) for n in range(7)]
                await asyncio.wait_for(asyncio.gather(*handles[:4]), PATIENCE)
                await asyncio.sleep(0.3)  # as above
                assert api.batch_sizes == [4]
                assert await ing.flush(timeout=PATIENCE)

        run(main)
    assert api.batch_sizes == [4, 3]


@pytest.mark.parametrize("kind", ["threaded", "async"])
def test_batches_from_the_spool_keep_to_the_byte_budget(
    spool_path: Path, kind: str, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    options: dict[str, Any] = {"max_batch_bytes": 1024, "flush_interval": 0.02}
    size = len(encode_event(usage(0))[1])
    if kind == "threaded":
        with threaded(api, spool_path, **options) as ingester:
            for n in range(20):
                ingester.submit(usage(n))
    else:

        async def main() -> None:
            async with asynchronous(api, spool_path, **options) as ingester:
                for n in range(20):
                    await ingester.submit(usage(n))

        run(main)
    bodies = [body for sent in api.bodies_by_first_key.values() for body in sent]
    assert sum(api.batch_sizes) == 20 and max(len(body) for body in bodies) <= 1024
    assert max(api.batch_sizes) == (1024 - len(b'{"events":[]}') + 1) // (size + 1)


def test_an_idle_async_ingester_keeps_its_senders(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> None:
        async with asynchronous(api, spool_path, max_in_flight=1) as ingester:
            await asyncio.sleep(0.2)  # several flush intervals with nothing to claim
            handle = await ingester.submit(usage(0))
            await asyncio.wait_for(handle, PATIENCE)

    run(main)
    assert api.batch_sizes == [1]


def test_async_counts_every_rejection_and_skips_a_cancelled_handle(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> Any:
        async with asynchronous(api, spool_path, max_batch_size=4, flush_interval=60) as ing:
            cancelled = await ing.submit(usage(0))
            cancelled.cancel()  # the caller gave up on it; the event is still sent
            rest = [
                await ing.submit(usage(1, quantity=0)),
                await ing.submit(usage(2, quantity=0)),
                await ing.submit(usage(3)),
            ]
            await asyncio.wait_for(asyncio.wait(rest), PATIENCE)
            assert [type(h.exception()) for h in rest[:2]] == [EventRejectedError] * 2
            assert rest[2].exception() is None
        return ing.stats()

    stats = run(main)
    assert (stats.delivered, stats.failed) == (1, 2)
    assert sorted(api.events) == ["spl_00000", "spl_00003"]


def test_retry_waits_follow_the_policy_from_the_first_retry(
    spool_path: Path, logged: pytest.LogCaptureFixture, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    api.faults = ["503", "503"]
    exact = RetryPolicy(backoff_initial=0.01, backoff_max=1.0, jitter=lambda: 1.0)
    client = api.client(retry_policy=exact)

    async def main() -> None:
        ingester = AsyncUsageIngester(client, spool=spool_path, flush_interval=0.02)
        async with ingester:
            await asyncio.wait_for(await ingester.submit(usage(0)), PATIENCE)

    with UsageIngester(client, spool=spool_path, flush_interval=0.02) as ingester:
        assert ingester.submit(usage(1)).result(timeout=PATIENCE)
    api.faults = ["503", "503"]
    run(main)
    waits = [
        r.getMessage().split(" in ")[-1] for r in logged.records if "failed (" in r.getMessage()
    ]
    assert waits == ["0.01 s", "0.02 s"] * 2
    assert not [r for r in logged.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("kind", ["threaded", "async"])
def test_a_bug_while_delivering_releases_the_batch_and_logs_it(
    spool_path: Path,
    logged: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    in_process_sandbox: InProcessFactory,
) -> None:
    def broken(batch: object) -> bytes:
        raise RuntimeError("a bug in building the body")

    monkeypatch.setattr("paygentic_client.ingest.engine.batch_body", broken)
    api = SandboxApi(in_process_sandbox())

    def logged_bug() -> bool:
        return any("failed unexpectedly" in r.getMessage() for r in logged.records)

    if kind == "threaded":
        ingester = threaded(api, spool_path)
        handle = ingester.submit(usage(0))
        deadline = time.monotonic() + PATIENCE
        while not logged_bug() and time.monotonic() < deadline:
            time.sleep(0.01)
        ingester.close(timeout=0.1)
        assert isinstance(handle.exception(timeout=0), IngesterClosedError)
    else:

        async def main() -> None:
            ingester = asynchronous(api, spool_path)
            handle = await ingester.submit(usage(0))
            deadline = time.monotonic() + PATIENCE
            while not logged_bug() and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            await ingester.close(timeout=0.1)
            assert isinstance(handle.exception(), IngesterClosedError)

        run(main)
    bug = next(r for r in logged.records if "failed unexpectedly" in r.getMessage())
    assert bug.getMessage() == "delivering a batch from the spool failed unexpectedly"
    assert bug.levelno == logging.ERROR and bug.exc_info is not None
    assert status_of(spool_path)[:2] == (1, 0)  # released: pending for a later try
    assert api.requests == 0


def test_async_a_send_that_cannot_work_releases_the_batch_and_logs_it(
    spool_path: Path,
    logged: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    in_process_sandbox: InProcessFactory,
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the transport")

    monkeypatch.setattr("paygentic_client.ingest.aio.asend", broken)
    api = SandboxApi(in_process_sandbox())

    async def main() -> None:
        ingester = asynchronous(api, spool_path)
        handle = await ingester.submit(usage(0))
        deadline = time.monotonic() + PATIENCE
        while not any("could not be sent" in r.getMessage() for r in logged.records):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        await ingester.close(timeout=0.1)
        assert isinstance(handle.exception(), IngesterClosedError)

    run(main)
    line = next(r for r in logged.records if "could not be sent" in r.getMessage())
    assert line.getMessage() == "a batch from the spool could not be sent: a bug in the transport"
    assert line.levelno == logging.ERROR
    assert status_of(spool_path)[:2] == (1, 0)


def test_threaded_a_lone_event_waits_for_the_flush_interval(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    with threaded(api, spool_path, flush_interval=60, max_in_flight=1) as ingester:
        ingester.submit(usage(0))
        time.sleep(0.3)  # a moment for a wrong early send (the correct code waits 60 s)
        assert api.batch_sizes == []
        assert ingester.flush(timeout=PATIENCE)
    assert api.batch_sizes == [1]


def test_threaded_counts_rejections_over_several_batches(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    with threaded(api, spool_path, max_batch_size=2) as ingester:
        for n in range(4):
            ingester.submit(usage(n, quantity=n % 2))
    stats = ingester.stats()
    assert (stats.delivered, stats.failed, stats.in_queue) == (2, 2, 0)


def test_async_a_failed_send_is_retried_without_waiting_for_the_flush_interval(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    api.faults = ["503"]

    async def main() -> None:
        options = {"max_batch_size": 1, "flush_interval": 60}
        async with asynchronous(api, spool_path, **options) as ingester:
            handle = await ingester.submit(usage(0))
            await asyncio.wait_for(handle, 10)  # the retry, not the next flush, sends it

    run(main)
    assert api.batch_sizes == [1, 1]


# -- events another live process delivered: `paygentic-usage spool drain` beside an ingester --


def drained_by_another_process(api: SandboxApi, path: Path) -> None:
    """Two created and one rejected, by the drain's batch (the ingester sent nothing)."""

    def ignore(count: int) -> None:
        pass

    client = api.client(retry_policy=FAST)
    result = drain(client, path, patience=PATIENCE, start=ignore, advance=ignore)
    assert (result.delivered, result.rejected, result.left) == (2, 1, 0)


def three_events(quantities: tuple[float, ...] = (1, 1, 0)) -> list[CreateUsageEventRequest]:
    return [usage(n, quantity=quantity) for n, quantity in enumerate(quantities)]


def assert_answered_by_the_other_process(
    outcomes: list[Any], stats: IngestStats, api: SandboxApi, path: Path
) -> None:
    """The handles hold what the drain got: the created events (as the API stored them) and
    the rejection with the API's reason; this ingester sent no request."""
    first, second, refused = outcomes
    assert [first.idempotency_key, second.idempotency_key] == ["spl_00000", "spl_00001"]
    assert sorted(api.events) == ["spl_00000", "spl_00001"]
    assert first.id.startswith("usg_") and first.id != second.id
    assert isinstance(refused, EventRejectedError)
    assert (refused.reason, refused.idempotency_key, refused.index) == (BELOW_ONE, "spl_00002", 2)
    assert api.requests == 1
    assert (stats.submitted, stats.delivered, stats.failed, stats.in_queue) == (3, 2, 1, 0)
    assert stats.recovered == 0
    assert status_of(path) == (0, 0, 1)


@pytest.mark.usefixtures("direct_spool")
def test_threaded_handles_resolve_when_another_process_delivers_their_events(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    # flush_interval=60: the drain claims the events before this ingester would.
    with threaded(api, spool_path, flush_interval=60) as ingester:
        handles = [ingester.submit(event) for event in three_events()]
        drained_by_another_process(api, spool_path)
        assert ingester.flush(timeout=PATIENCE)  # a flush looks for the answers at once
    outcomes = [h.exception(timeout=0) or h.result(timeout=0) for h in handles]
    assert_answered_by_the_other_process(outcomes, ingester.stats(), api, spool_path)


@pytest.mark.usefixtures("direct_spool")
def test_async_handles_resolve_when_another_process_delivers_their_events(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> tuple[list[Any], IngestStats]:
        async with asynchronous(api, spool_path, flush_interval=60) as ingester:
            handles = [await ingester.submit(event) for event in three_events()]
            await asyncio.to_thread(drained_by_another_process, api, spool_path)
            assert await ingester.flush(timeout=PATIENCE)
        return [h.exception() or h.result() for h in handles], ingester.stats()

    outcomes, stats = run(main)
    assert_answered_by_the_other_process(outcomes, stats, api, spool_path)


CLOSE_DEADLINE = 1.0


def answering_during_the_close(other: Spool) -> threading.Thread:
    """Another process that holds this one's three events and refuses them 0.2 s from now,
    leaving the answers in the spool (well before CLOSE_DEADLINE, on a loaded machine too)."""
    held = other.claim(3)

    def refuse() -> None:
        time.sleep(0.2)
        answers = [Answer(event.seq, event.key, None, "refused", n) for n, event in enumerate(held)]
        other.settle([], [(event, "refused") for event in held], answers)

    answering = threading.Thread(target=refuse)
    answering.start()
    return answering


def assert_refused_by_the_other_process(handles: list[Any], stats: IngestStats, path: Path) -> None:
    for n, handle in enumerate(handles):
        error = handle.exception()
        assert isinstance(error, EventRejectedError)
        assert (error.reason, error.index) == ("refused", n)
    assert (stats.delivered, stats.failed, stats.in_queue) == (0, 3, 0)
    assert status_of(path) == (0, 0, 3)


@pytest.mark.usefixtures("direct_spool")
def test_threaded_close_reads_the_answers_another_process_left_while_it_waited(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    # flush_interval=60: after close's first look, the senders would look again only then.
    ingester = threaded(api, spool_path, flush_interval=60)
    handles = [ingester.submit(event) for event in three_events((1, 1, 1))]
    with Spool(spool_path, adopt=True) as other:
        answering = answering_during_the_close(other)
        ingester.close(timeout=CLOSE_DEADLINE)
        answering.join()
    assert_refused_by_the_other_process(handles, ingester.stats(), spool_path)


@pytest.mark.usefixtures("direct_spool")
def test_async_close_reads_the_answers_another_process_left_while_it_waited(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> tuple[list[Any], IngestStats]:
        ingester = asynchronous(api, spool_path, flush_interval=60)
        handles = [await ingester.submit(event) for event in three_events((1, 1, 1))]
        with Spool(spool_path, adopt=True) as other:
            answering = answering_during_the_close(other)
            await ingester.close(timeout=CLOSE_DEADLINE)
            answering.join()
        return handles, ingester.stats()

    handles, stats = run(main)
    assert_refused_by_the_other_process(handles, stats, spool_path)


# One second of waiting: a loop of claims (before the fix, while another process held this
# one's events) burns all of it.
SPIN = 0.3  # seconds of CPU in that second that would be one


@pytest.mark.usefixtures("direct_spool")
def test_threaded_events_another_process_holds_are_not_claimed_in_a_loop(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())
    with threaded(api, spool_path, flush_interval=60) as ingester:
        handles = [ingester.submit(event) for event in three_events((1, 1, 1))]
        with Spool(spool_path, adopt=True) as other:
            held = other.claim(3)  # all three: the ingester waits its flush_interval
            assert not ingester.flush(timeout=0)  # asks its senders to claim them now
            started = time.process_time()
            time.sleep(1.0)
            assert time.process_time() - started < SPIN
            other.release(held)
        assert ingester.flush(timeout=PATIENCE)
    assert all(h.result(timeout=0) for h in handles)


@pytest.mark.usefixtures("direct_spool")
def test_async_events_another_process_holds_are_not_claimed_in_a_loop(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> float:
        async with asynchronous(api, spool_path, max_batch_size=2) as ingester:
            with Spool(spool_path, adopt=True) as other:
                handles = [await ingester.submit(event) for event in three_events((1, 1))]
                # A full batch woke the senders; the loop has not run them yet: no await
                # between the submit and this claim, which takes both first.
                held = other.claim(3)
                assert len(held) == 2
                started = time.process_time()
                await asyncio.sleep(1.0)
                cpu = time.process_time() - started
                other.release(held)
            assert await ingester.flush(timeout=PATIENCE)
        assert all(h.result() for h in handles)
        return cpu

    assert run(main) < SPIN


def test_async_a_flush_while_the_sender_is_busy_is_not_lost(
    spool_path: Path, in_process_sandbox: InProcessFactory
) -> None:
    api = SandboxApi(in_process_sandbox())

    async def main() -> float:
        # One sender, and flush_interval=60: only a flush gets a partial batch sent.
        async with asynchronous(api, spool_path, flush_interval=60, max_in_flight=1) as ing:
            await ing.submit(usage(0))
            api.gate.close()
            first = asyncio.create_task(ing.flush(timeout=PATIENCE))
            await api.gate.until_held(1, PATIENCE)  # the sender is busy with that batch
            await ing.submit(usage(1))
            second = asyncio.create_task(ing.flush(timeout=PATIENCE))
            await asyncio.sleep(0)  # it has asked, while the sender waits for its answer
            api.gate.open()
            assert await first
            started = time.monotonic()
            assert await second
            return time.monotonic() - started

    assert run(main) < PATIENCE / 3  # at once, not after the 60 s flush_interval
    assert api.batch_sizes == [1, 1]
