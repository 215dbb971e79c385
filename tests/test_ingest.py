"""UsageIngester and AsyncUsageIngester against an in-process fake of the batch endpoint.

The same guarantees against the real sandbox process are in test_ingest_sandbox.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest
from fake_batch_api import TOKEN, FakeBatchApi

from paygentic_client import AsyncUsageIngester, UsageIngester, errors
from paygentic_client._runtime.retries import RetryPolicy
from paygentic_client.errors import EventRejectedError, IngesterClosedError, QueueFullError
from paygentic_client.ingest.core import (
    Queued,
    Retry,
    verdict_of_response,
)
from paygentic_client.models import (
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    UsageEvent,
)

FAST = RetryPolicy(backoff_initial=0.001, backoff_max=0.01)
# How long a test waits for what takes milliseconds (or one flush_interval): long enough for a
# loaded CI machine, and a hang still ends in a TimeoutError instead of stalling the suite.
PATIENCE = 30.0
FAULTS = {"drop": 0.2, "503": 0.1, "429": 0.05, "timeout": 0.05}


def event(n: int, *, quantity: float = 1, key: str | None = None) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=key or f"evt_{n:06d}",
        customer_id="cus_abc123xyz",
        merchant_id="org_abc123xyz",
        timestamp=datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=quantity)],
    )


def test_threaded_exactly_once_under_faults() -> None:
    api = FakeBatchApi(fault_rates=FAULTS)
    with UsageIngester(
        api.client(retry_policy=FAST), max_batch_size=50, flush_interval=0.05
    ) as ingester:
        handles = [ingester.submit(event(n)) for n in range(3000)]
    results = [handle.result(timeout=0) for handle in handles]
    assert [r.idempotency_key for r in results] == [f"evt_{n:06d}" for n in range(3000)]
    assert len(api.events) == 3000
    stats = ingester.stats()
    assert (stats.submitted, stats.delivered, stats.failed, stats.in_queue) == (3000, 3000, 0, 0)
    assert stats.retried_batches == sum(api.fault_counts[f] for f in FAULTS) > 0
    # Every resend of a batch is the same bytes, so the same keys.
    assert all(len(set(bodies)) == 1 for bodies in api.bodies_by_first_key.values())
    assert any(len(bodies) > 1 for bodies in api.bodies_by_first_key.values())


def test_a_batch_is_retried_by_one_loop_only() -> None:
    """The client's max_retries does not stack under the ingester's own retries: every send
    of a batch is one attempt, and each failed one is counted once in retried_batches."""
    api = FakeBatchApi(fault_rates={"drop": 0.3, "503": 0.3})
    client = api.client(max_retries=3, retry_policy=FAST)
    with UsageIngester(client, max_batch_size=50, flush_interval=0.05) as ingester:
        handles = [ingester.submit(event(n)) for n in range(1000)]
    assert all(handle.result().idempotency_key for handle in handles)
    assert len(api.events) == 1000
    sends = sum(len(bodies) for bodies in api.bodies_by_first_key.values())
    batches = len(api.bodies_by_first_key)
    assert ingester.stats().retried_batches == sends - batches > 0
    assert sends - batches == sum(api.fault_counts[f] for f in ("drop", "503"))


def test_async_exactly_once_under_faults() -> None:
    api = FakeBatchApi(fault_rates=FAULTS, seed=11)

    async def main() -> list[UsageEvent]:
        async with AsyncUsageIngester(
            api.client(retry_policy=FAST), max_batch_size=50, flush_interval=0.05
        ) as ingester:
            handles = [await ingester.submit(event(n)) for n in range(3000)]
        assert ingester.stats().delivered == 3000
        assert ingester.stats().retried_batches > 0
        return [handle.result() for handle in handles]

    results = asyncio.run(main())
    assert [r.idempotency_key for r in results] == [f"evt_{n:06d}" for n in range(3000)]
    assert len(api.events) == 3000


def test_207_resolves_each_handle_to_its_own_outcome() -> None:
    api = FakeBatchApi()
    events = [event(0), event(1, quantity=0), event(2), event(3, quantity=0.5), event(4)]
    duplicate = event(5, key="evt_000002")  # the same key twice in a batch is one event
    with UsageIngester(api.client(), flush_interval=10) as ingester:
        handles = [ingester.submit(e) for e in [*events, duplicate]]
    assert api.batch_sizes == [6]
    for n in (0, 2, 4):
        assert handles[n].result().idempotency_key == f"evt_{n:06d}"
    assert handles[5].result() == handles[2].result()  # the same created event
    for n in (1, 3):
        error = handles[n].exception()
        assert isinstance(error, EventRejectedError)
        assert (error.index, error.idempotency_key, error.reason) == (
            n,
            f"evt_{n:06d}",
            "quantity: below 1",
        )
    assert ingester.stats().failed == 2
    assert ingester.stats().delivered == 4
    assert api.requests == 1  # rejected events are not retried


def test_whole_batch_refusal_fails_every_handle_without_retry() -> None:
    api = FakeBatchApi()
    api.faults = ["400"]
    with UsageIngester(api.client(), flush_interval=10) as ingester:
        handles = [ingester.submit(event(n)) for n in range(3)]
    for handle in handles:
        error = handle.exception()
        assert isinstance(error, errors.BadRequestError)
        assert "injected 400" in str(error)
    assert api.requests == 1


def test_events_submitted_just_before_close_are_delivered() -> None:
    api = FakeBatchApi()
    ingester = UsageIngester(api.client(), flush_interval=60, max_batch_size=300)
    handles = [ingester.submit(event(n)) for n in range(1000)]
    ingester.close()
    assert all(handle.done() and handle.exception() is None for handle in handles)
    assert len(api.events) == 1000
    # Two batches are in flight at once (max_in_flight=2), so they may land in any order.
    assert sorted(api.batch_sizes) == [100, 300, 300, 300]
    with pytest.raises(IngesterClosedError):
        ingester.submit(event(5000))


def test_flush_sends_a_partial_batch_at_once() -> None:
    api = FakeBatchApi()
    with UsageIngester(api.client(), flush_interval=60) as ingester:
        handles = [ingester.submit(event(n)) for n in range(10)]
        # Far below flush_interval: flush() sends at once instead of waiting for the timer.
        assert ingester.flush(timeout=PATIENCE)
        assert all(handle.done() for handle in handles)


def test_a_batch_is_sent_after_flush_interval() -> None:
    api = FakeBatchApi()
    with UsageIngester(api.client(), flush_interval=0.05) as ingester:
        handle = ingester.submit(event(1))
        assert handle.result(timeout=PATIENCE).idempotency_key == "evt_000001"


def test_batches_respect_the_byte_budget() -> None:
    api = FakeBatchApi()
    size = len(event(0).to_dict().__repr__())  # about the JSON size of one event
    with UsageIngester(api.client(), max_batch_bytes=size * 10, flush_interval=10) as ingester:
        for n in range(100):
            ingester.submit(event(n))
    assert 5 <= max(api.batch_sizes) <= 12
    assert sum(api.batch_sizes) == 100


def test_full_queue_raises_instead_of_dropping() -> None:
    api = FakeBatchApi()
    api.gate.clear()  # the API hangs: nothing drains
    ingester = UsageIngester(
        api.client(), max_batch_size=1, max_queue=3, max_in_flight=1, submit_timeout=0.05
    )
    accepted = []
    with pytest.raises(QueueFullError, match="stayed full"):
        for n in range(20):
            accepted.append(ingester.submit(event(n)))
    api.gate.set()
    ingester.close()
    assert all(handle.result().idempotency_key for handle in accepted)
    assert ingester.stats().delivered == ingester.stats().submitted == len(accepted)


def test_async_full_queue_raises_instead_of_dropping() -> None:
    api = FakeBatchApi()
    api.gate.clear()

    async def main() -> None:
        ingester = AsyncUsageIngester(
            api.client(), max_batch_size=1, max_queue=3, max_in_flight=1, submit_timeout=0.05
        )
        accepted = []
        with pytest.raises(QueueFullError):
            for n in range(20):
                accepted.append(await ingester.submit(event(n)))
        api.gate.set()
        await ingester.close()
        assert all(handle.result().idempotency_key for handle in accepted)

    asyncio.run(main())


def test_close_deadline_fails_and_logs_what_was_not_delivered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    api = FakeBatchApi(fault_rates={"503": 1.0})
    caplog.set_level(logging.INFO, logger="paygentic_client.ingest")
    ingester = UsageIngester(api.client(retry_policy=FAST), flush_interval=0.01)
    handles = [ingester.submit(event(n)) for n in range(5)]
    ingester.close(timeout=0.3)
    for handle in handles:
        assert isinstance(handle.exception(timeout=0), IngesterClosedError)
    undelivered = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    # The five may have gone out as several batches (a submit that waited more than
    # flush_interval on a loaded machine), each logged on its own line: every key is logged.
    assert all("were not delivered" in line for line in undelivered)
    for n in range(5):
        assert any(f"evt_{n:06d}" in line for line in undelivered), f"evt_{n:06d} not logged"
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert ingester.stats().failed == 5


def test_async_close_deadline_fails_what_was_not_delivered() -> None:
    api = FakeBatchApi(fault_rates={"503": 1.0})

    async def main() -> None:
        ingester = AsyncUsageIngester(api.client(retry_policy=FAST), flush_interval=0.01)
        handles = [await ingester.submit(event(n)) for n in range(5)]
        await ingester.close(timeout=0.3)
        for handle in handles:
            assert isinstance(handle.exception(), IngesterClosedError)

    asyncio.run(main())


def test_an_open_ingester_delivers_at_interpreter_exit(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import atexit, sys

        # Registered before paygentic_client registers its exit hook, so it runs after it.
        fake = {}
        atexit.register(lambda: print("created", len(fake["api"].events)))
        sys.path.insert(0, sys.argv[1])
        from fake_batch_api import FakeBatchApi
        from test_ingest import event
        from paygentic_client import UsageIngester

        api = fake["api"] = FakeBatchApi()
        ingester = UsageIngester(api.client(), flush_interval=60)
        for n in range(250):
            ingester.submit(event(n))
        """
    )
    tests_dir = str(Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", script, tests_dir], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "created 250"


def test_a_success_status_with_an_unreadable_body_is_sent_again() -> None:
    """A 201 whose body is not a batch answer (a proxy's page?) tells nothing about the
    events; resending the same keys is safe and gets a real answer."""
    batch = [Queued("evt_1", b"{}", None)]
    client = FakeBatchApi().client()
    for body in (b"<html>ok</html>", b'{"object": "batchUsageEvents"}', b"[]"):
        verdict = verdict_of_response(httpx.Response(201, content=body), batch, client)
        assert isinstance(verdict, Retry), body


def test_submit_rejects_what_it_cannot_send() -> None:
    keyless = event(1)
    keyless.idempotency_key = ""
    with UsageIngester(FakeBatchApi().client()) as ingester:
        with pytest.raises(ValueError, match="idempotencyKey"):
            ingester.submit(keyless)
        with pytest.raises(TypeError):
            ingester.submit({"idempotencyKey": "x"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_batch_size"):
        UsageIngester(FakeBatchApi().client(), max_batch_size=1001)


def test_handles_are_standard_futures() -> None:
    """The UsageEvent is built on the first result(); every way of reading a Future gets it."""
    with UsageIngester(FakeBatchApi().client()) as ingester:
        handle = ingester.submit(event(1))
        seen: list[UsageEvent] = []
        handle.add_done_callback(lambda done: seen.append(done.result()))
        assert isinstance(handle, concurrent.futures.Future)
        assert isinstance(handle.result(timeout=PATIENCE), UsageEvent)
    assert handle.result() is handle.result() is seen[0]
    assert handle.result().idempotency_key == "evt_000001"
    assert next(concurrent.futures.as_completed([handle])) is handle

    async def wrapped() -> UsageEvent:
        return await asyncio.wrap_future(handle)

    assert asyncio.run(wrapped()) is handle.result()


def test_async_handles_are_asyncio_futures() -> None:
    """The UsageEvent is built on the first result() or await; every way of reading an
    asyncio future gets it."""

    async def main() -> None:
        async with AsyncUsageIngester(FakeBatchApi().client()) as ingester:
            first = await ingester.submit(event(1))
            second = await ingester.submit(event(2))
            seen: list[UsageEvent] = []
            first.add_done_callback(lambda done: seen.append(done.result()))
            assert asyncio.isfuture(first)
            created = await first
        assert isinstance(created, UsageEvent)
        assert created is first.result() is seen[0]
        assert list(await asyncio.gather(first, second)) == [created, second.result()]
        assert (await asyncio.wait_for(second, 5)).idempotency_key == "evt_000002"

    asyncio.run(main())
