"""UsageIngester and AsyncUsageIngester through the client's own stack (its options, headers
and retry loop) against the sandbox app in this process, with the network's faults injected
between them (tests/support/inprocess_sandbox.py, tests/support/network_double.py). What is
stored, and how often, is read from the sandbox's store.

The same guarantees against a sandbox process are in test_ingest_sandbox.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import logging
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support.inprocess_sandbox import BASE_URL, InProcessFactory, InProcessSandbox
from support.sandbox_fixture import MERCHANT_ID, TOKEN

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester, errors
from paygentic_client._runtime.config import USER_AGENT
from paygentic_client._runtime.retries import RetryPolicy
from paygentic_client.errors import EventRejectedError, IngesterClosedError, QueueFullError
from paygentic_client.ingest import EventHandle
from paygentic_client.ingest.core import (
    YIELD_EVERY,
    Batch,
    Retry,
    encode_event,
    verdict_of_response,
)
from paygentic_client.models import (
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    UsageEvent,
)

# How long a test waits for what takes milliseconds (or one flush_interval): long enough for a
# loaded CI machine, and a hang still ends in a TimeoutError instead of stalling the suite.
PATIENCE = 30.0
FAST = RetryPolicy(backoff_initial=0.001, backoff_max=0.01)
# Retries that wait PATIENCE: after a failed send, the ingester sits in its backoff, so a test
# can act while it does.
STALLED = RetryPolicy(backoff_initial=PATIENCE, backoff_max=PATIENCE, jitter=lambda: 1.0)
FAULTS = {"drop": 0.2, "503": 0.1, "429": 0.05, "timeout": 0.05}
# flush_interval of the timing tests, and how early asyncio may run a timer (its clock's
# resolution, far below this).
FLUSH_INTERVAL = 0.5
CLOCK_SLACK = 0.01


def event(n: int, *, quantity: float = 1, key: str | None = None) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=key or f"evt_{n:06d}",
        customer_id="cus_abc123xyz",
        merchant_id=MERCHANT_ID,
        timestamp=datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=quantity)],
    )


def keys(count: int) -> list[str]:
    return [f"evt_{n:06d}" for n in range(count)]


def assert_stored_once_each(sandbox: InProcessSandbox, expected: list[str]) -> None:
    """The sandbox holds exactly one event per expected key, and nothing else."""
    assert sorted(sandbox.stored_keys()) == sorted(expected)


class FirstRecord(logging.Handler):
    """Sets `seen` when the ingester logs a record at `level` or above (from any thread)."""

    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.seen = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.set()


@pytest.fixture
def first_warning() -> Iterator[FirstRecord]:
    handler = FirstRecord(logging.WARNING)
    ingest_logger = logging.getLogger("paygentic_client.ingest")
    ingest_logger.addHandler(handler)
    yield handler
    ingest_logger.removeHandler(handler)


def error_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]


# -- exactly once under faults ------------------------------------------------------------------


def test_threaded_exactly_once_under_faults(in_process_sandbox: InProcessFactory) -> None:
    sandbox = in_process_sandbox(rates=FAULTS)
    with UsageIngester(sandbox.client(retry_policy=FAST), max_batch_size=50) as ingester:
        handles = [ingester.submit(event(n)) for n in range(3000)]
    results = [handle.result(timeout=0) for handle in handles]
    assert [r.idempotency_key for r in results] == keys(3000)
    assert_stored_once_each(sandbox, keys(3000))
    stats = ingester.stats()
    assert (stats.submitted, stats.delivered, stats.failed, stats.in_queue) == (3000, 3000, 0, 0)
    faults = sandbox.network.fault_counts()
    assert stats.retried_batches == sum(faults[f] for f in FAULTS) > 0
    assert faults["drop"] > 0  # batches the sandbox stored whose answer was lost, resent
    # Every resend of a batch is the same bytes, so the same keys.
    sends = sandbox.network.bodies_by_first_key().values()
    assert all(len(set(bodies)) == 1 for bodies in sends)
    assert any(len(bodies) > 1 for bodies in sends)


def test_a_batch_is_retried_by_one_loop_only(in_process_sandbox: InProcessFactory) -> None:
    """The client's max_retries does not stack under the ingester's own retries: every send
    of a batch is one attempt, and each failed one is counted once in retried_batches."""
    sandbox = in_process_sandbox(rates={"drop": 0.3, "503": 0.3})
    client = sandbox.client(max_retries=3, retry_policy=FAST)
    with UsageIngester(client, max_batch_size=50) as ingester:
        handles = [ingester.submit(event(n)) for n in range(1000)]
    assert all(handle.result().idempotency_key for handle in handles)
    assert_stored_once_each(sandbox, keys(1000))
    sends = len(sandbox.network.sent)
    batches = len(sandbox.network.bodies_by_first_key())
    assert ingester.stats().retried_batches == sends - batches > 0
    faults = sandbox.network.fault_counts()
    assert sends - batches == faults["drop"] + faults["503"]


def test_async_exactly_once_under_faults(in_process_sandbox: InProcessFactory) -> None:
    sandbox = in_process_sandbox(rates=FAULTS, seed=11)

    async def main() -> list[UsageEvent]:
        client = sandbox.async_client(retry_policy=FAST)
        async with AsyncUsageIngester(client, max_batch_size=50) as ingester:
            handles = [await ingester.submit(event(n)) for n in range(3000)]
        assert ingester.stats().delivered == 3000
        assert ingester.stats().retried_batches > 0
        return [handle.result() for handle in handles]

    results = asyncio.run(main())
    assert [r.idempotency_key for r in results] == keys(3000)
    assert_stored_once_each(sandbox, keys(3000))
    assert sandbox.network.fault_counts()["drop"] > 0


def test_batches_go_out_through_the_clients_own_httpx_client(
    in_process_sandbox: InProcessFactory,
) -> None:
    """The client's headers and User-Agent are on every batch, sync and async."""
    sandbox = in_process_sandbox()
    options = {"headers": {"X-Request-Source": "ingest-test"}}
    with UsageIngester(sandbox.client(**options)) as ingester:
        ingester.submit(event(1))

    async def main() -> None:
        async with AsyncUsageIngester(sandbox.async_client(**options)) as ingester:
            await ingester.submit(event(2))

    asyncio.run(main())
    assert len(sandbox.network.sent) == 2
    for sent in sandbox.network.sent:
        assert sent.headers["user-agent"] == USER_AGENT
        assert sent.headers["x-request-source"] == "ingest-test"
    assert_stored_once_each(sandbox, ["evt_000001", "evt_000002"])


# -- the API's answers --------------------------------------------------------------------------


def test_207_resolves_each_handle_to_its_own_outcome(in_process_sandbox: InProcessFactory) -> None:
    sandbox = in_process_sandbox()
    events = [event(0), event(1, quantity=0), event(2), event(3, quantity=0.5), event(4)]
    duplicate = event(5, key="evt_000002")  # the same key twice in a batch is one event
    with UsageIngester(sandbox.client(), flush_interval=PATIENCE) as ingester:
        handles = [ingester.submit(e) for e in [*events, duplicate]]
    assert sandbox.network.batch_sizes() == [6]  # rejected events are not retried
    for n in (0, 2, 4):
        assert handles[n].result().idempotency_key == f"evt_{n:06d}"
    assert handles[5].result().id == handles[2].result().id  # the same created event
    for n in (1, 3):
        error = handles[n].exception()
        assert isinstance(error, EventRejectedError)
        assert (error.index, error.idempotency_key) == (n, f"evt_{n:06d}")
        assert error.reason.startswith("properties[0].quantity")  # the sandbox's reason
    assert ingester.stats().failed == 2
    assert ingester.stats().delivered == 4
    assert_stored_once_each(sandbox, ["evt_000000", "evt_000002", "evt_000004"])


def test_whole_batch_refusal_fails_every_handle_without_retry(
    in_process_sandbox: InProcessFactory,
) -> None:
    sandbox = in_process_sandbox()
    sandbox.network.script = ["400"]
    with UsageIngester(sandbox.client(), flush_interval=PATIENCE) as ingester:
        handles = [ingester.submit(event(n)) for n in range(3)]
    for handle in handles:
        error = handle.exception()
        assert isinstance(error, errors.BadRequestError)
        assert "injected 400" in str(error)
    assert len(sandbox.network.sent) == 1
    assert sandbox.stored_keys() == []


def test_a_success_status_with_an_unreadable_body_is_sent_again() -> None:
    """A 201 whose body is not a batch answer (a proxy's page?) tells nothing about the
    events; resending the same keys is safe and gets a real answer."""
    batch = Batch.of([("evt_1", b"{}", None, None)])
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN)
    for body in (b"<html>ok</html>", b'{"object": "batchUsageEvents"}', b"[]"):
        verdict = verdict_of_response(httpx.Response(201, content=body), batch, client)
        assert isinstance(verdict, Retry), body


# -- batching -----------------------------------------------------------------------------------


def test_events_submitted_just_before_close_are_delivered(
    in_process_sandbox: InProcessFactory,
) -> None:
    sandbox = in_process_sandbox()
    ingester = UsageIngester(sandbox.client(), flush_interval=PATIENCE, max_batch_size=300)
    handles = [ingester.submit(event(n)) for n in range(1000)]
    ingester.close()
    assert all(handle.done() and handle.exception() is None for handle in handles)
    assert_stored_once_each(sandbox, keys(1000))
    # Two batches are in flight at once (max_in_flight=2), so they may land in any order.
    assert sorted(sandbox.network.batch_sizes()) == [100, 300, 300, 300]
    with pytest.raises(IngesterClosedError):
        ingester.submit(event(5000))


def test_flush_sends_a_partial_batch_at_once(in_process_sandbox: InProcessFactory) -> None:
    sandbox = in_process_sandbox()
    with UsageIngester(sandbox.client(), flush_interval=2 * PATIENCE) as ingester:
        handles = [ingester.submit(event(n)) for n in range(10)]
        # Far below flush_interval: flush() sends at once instead of waiting for the timer.
        assert ingester.flush(timeout=PATIENCE)
        assert all(handle.done() for handle in handles)
        assert sandbox.network.batch_sizes() == [10]
    assert_stored_once_each(sandbox, keys(10))


def test_a_lone_event_is_sent_once_it_waited_flush_interval(
    in_process_sandbox: InProcessFactory,
) -> None:
    """A batch that does not fill (max_batch_size 1000) goes out flush_interval after its
    first event, not before and not much later."""
    sandbox = in_process_sandbox()
    with UsageIngester(sandbox.client(), flush_interval=FLUSH_INTERVAL) as ingester:
        submitted = time.monotonic()
        handle = ingester.submit(event(1))
        # Answered while the ingester is open: the timer sent it, not close().
        assert handle.result(timeout=PATIENCE).idempotency_key == "evt_000001"
    waited = sandbox.network.sent[0].arrived - submitted
    assert waited >= FLUSH_INTERVAL - CLOCK_SLACK
    assert waited < 10 * FLUSH_INTERVAL


def test_async_a_lone_event_is_sent_once_it_waited_flush_interval(
    in_process_sandbox: InProcessFactory,
) -> None:
    sandbox = in_process_sandbox()

    async def main() -> float:
        ingester = AsyncUsageIngester(sandbox.async_client(), flush_interval=FLUSH_INTERVAL)
        async with ingester:
            submitted = time.monotonic()
            handle = await ingester.submit(event(1))
            created = await asyncio.wait_for(handle, PATIENCE)
            assert created.idempotency_key == "evt_000001"
        return submitted

    submitted = asyncio.run(main())
    waited = sandbox.network.sent[0].arrived - submitted
    assert waited >= FLUSH_INTERVAL - CLOCK_SLACK
    assert waited < 10 * FLUSH_INTERVAL


def test_async_batches_go_out_while_the_producer_is_still_submitting(
    in_process_sandbox: InProcessFactory,
) -> None:
    """A producer that awaits submit() in a loop, and nothing else, must not hold the senders
    back until it stops: submit() gives the loop turns, so sends overlap with producing."""
    sandbox = in_process_sandbox()

    async def main() -> int:
        ingester = AsyncUsageIngester(
            sandbox.async_client(), max_batch_size=50, flush_interval=PATIENCE
        )
        async with ingester:
            for n in range(500):
                await ingester.submit(event(n))
            return len(sandbox.network.sent)  # before close() awaits anything

    assert asyncio.run(main()) >= 1
    assert len(sandbox.network.sent) == 10


def test_a_threaded_producer_gives_the_senders_turns_while_they_have_work(
    in_process_sandbox: InProcessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread that submits in a loop holds the GIL, and a sender waits for it after every
    socket call (up to the 5 ms switch interval each): submit() lets the GIL go once per
    YIELD_EVERY events while a batch is with the senders, and not while none is."""
    sandbox = in_process_sandbox()
    turns: list[float] = []
    real_sleep = time.sleep

    def counting_sleep(seconds: float) -> None:
        if threading.current_thread() is threading.main_thread():
            turns.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", counting_sleep)
    gate = sandbox.network.gate
    gate.close()  # the first batch stays with the senders
    ingester = UsageIngester(sandbox.client(), max_batch_size=100, flush_interval=PATIENCE)
    for n in range(100):  # fills the first batch: nothing is with the senders yet
        ingester.submit(event(n))
    assert turns == []
    assert gate.wait_held(1, PATIENCE)
    for n in range(100, 100 + 3 * YIELD_EVERY):
        ingester.submit(event(n))
    assert turns == [0] * 3
    gate.open()
    ingester.close()
    assert ingester.stats().delivered == 100 + 3 * YIELD_EVERY


@pytest.mark.parametrize(("spare", "per_batch"), [(0, 10), (-1, 9)])
def test_batches_are_split_exactly_at_the_byte_budget(
    in_process_sandbox: InProcessFactory, spare: int, per_batch: int
) -> None:
    """With a budget of exactly the body of 10 events, 10 go in a batch and an 11th does not;
    one byte less and only 9 fit."""
    sandbox = in_process_sandbox()
    events = [event(n) for n in range(100)]
    sizes = {len(encode_event(e)[1]) for e in events}
    assert len(sizes) == 1  # every event encodes to the same length
    (size,) = sizes

    def body_length(count: int) -> int:
        """A batch body: {"events":[...]} around the events' JSON, joined by commas."""
        return len(b'{"events":[]}') + count * size + count - 1

    budget = body_length(10) + spare
    with UsageIngester(sandbox.client(), max_batch_bytes=budget, flush_interval=PATIENCE) as ing:
        for e in events:
            ing.submit(e)
    full, rest = divmod(100, per_batch)
    # Sorted: the senders run side by side, and the last, partial batch (sent at close) can
    # reach the network before a full one that another sender took just before it.
    expected = [per_batch] * full + ([rest] if rest else [])
    assert sorted(sandbox.network.batch_sizes()) == sorted(expected)
    assert max(len(sent.body) for sent in sandbox.network.sent) == body_length(per_batch)
    assert_stored_once_each(sandbox, keys(100))


# -- a full queue, a closed ingester, the close deadline --------------------------------------


def test_full_queue_raises_instead_of_dropping(in_process_sandbox: InProcessFactory) -> None:
    """One event on the wire (held), max_queue=3 behind it: the 5th submit finds no room."""
    sandbox = in_process_sandbox()
    gate = sandbox.network.gate
    gate.close()  # the server takes the request and does not answer yet
    ingester = UsageIngester(
        sandbox.client(), max_batch_size=1, max_queue=3, max_in_flight=1, submit_timeout=0
    )
    accepted = [ingester.submit(event(0))]
    assert gate.wait_held(1, PATIENCE)  # the sender took it: the queue is empty again
    accepted += [ingester.submit(event(n)) for n in (1, 2, 3)]
    with pytest.raises(QueueFullError, match="stayed full"):
        ingester.submit(event(4))
    gate.open()
    ingester.close()
    assert [handle.result().idempotency_key for handle in accepted] == keys(4)
    assert ingester.stats().delivered == ingester.stats().submitted == 4
    assert_stored_once_each(sandbox, keys(4))


def test_async_full_queue_raises_instead_of_dropping(in_process_sandbox: InProcessFactory) -> None:
    sandbox = in_process_sandbox()
    gate = sandbox.network.gate
    gate.close()

    async def main() -> list[str]:
        ingester = AsyncUsageIngester(
            sandbox.async_client(),
            max_batch_size=1,
            max_queue=3,
            max_in_flight=1,
            submit_timeout=0,
        )
        accepted = [await ingester.submit(event(0))]
        await gate.until_held(1, PATIENCE)
        accepted += [await ingester.submit(event(n)) for n in (1, 2, 3)]
        with pytest.raises(QueueFullError):
            await ingester.submit(event(4))
        gate.open()
        await ingester.close()
        return [str(handle.result().idempotency_key) for handle in accepted]

    assert asyncio.run(main()) == keys(4)
    assert_stored_once_each(sandbox, keys(4))


@pytest.mark.slow  # seconds of a held server, or a subprocess: not the inner loop
def test_close_deadline_fails_and_logs_what_is_still_in_flight(
    in_process_sandbox: InProcessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch on the wire that the server holds, another queued behind it: close(timeout=0)
    fails all four events, logs every key (never the token), and sends nothing more."""
    sandbox = in_process_sandbox()
    caplog.set_level(logging.INFO, logger="paygentic_client.ingest")
    gate = sandbox.network.gate
    gate.close()
    ingester = UsageIngester(
        sandbox.client(), max_batch_size=2, max_in_flight=1, flush_interval=PATIENCE
    )
    handles = [ingester.submit(event(n)) for n in range(4)]
    assert gate.wait_held(1, PATIENCE)
    ingester.close(timeout=0)
    for handle in handles:
        assert isinstance(handle.exception(timeout=0), IngesterClosedError)
    undelivered = error_lines(caplog)
    assert all("were not delivered" in line for line in undelivered)
    for key in keys(4):
        assert any(key in line for line in undelivered), f"{key} not logged"
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert ingester.stats().failed == 4
    gate.open()
    ingester.close()  # the sender gets its answer and ends: nothing runs on after the test
    assert len(sandbox.network.sent) == 1  # the queued batch was never sent
    # What was on the wire was stored though its events failed: the logged keys are the ones
    # to resend, which is safe.
    assert_stored_once_each(sandbox, keys(2))


def test_close_deadline_stops_retrying_and_fails_with_the_last_cause(
    in_process_sandbox: InProcessFactory,
    caplog: pytest.LogCaptureFixture,
    first_warning: FirstRecord,
) -> None:
    sandbox = in_process_sandbox(rates={"503": 1.0})
    caplog.set_level(logging.INFO, logger="paygentic_client.ingest")
    ingester = UsageIngester(sandbox.client(retry_policy=STALLED), flush_interval=PATIENCE)
    handles = [ingester.submit(event(n)) for n in range(5)]
    assert not ingester.flush(timeout=0)
    assert first_warning.seen.wait(PATIENCE)  # the 503 came back: the batch waits to retry
    ingester.close(timeout=0)
    for handle in handles:
        error = handle.exception(timeout=0)
        assert isinstance(error, IngesterClosedError)
        assert "HTTP 503" in str(error)
    (undelivered,) = error_lines(caplog)
    assert "HTTP 503" in undelivered
    assert all(key in undelivered for key in keys(5))
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert ingester.stats().failed == 5
    assert len(sandbox.network.sent) == 1
    assert sandbox.stored_keys() == []


@pytest.mark.slow  # seconds of a held server, or a subprocess: not the inner loop
def test_async_close_deadline_fails_what_is_still_in_flight(
    in_process_sandbox: InProcessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    sandbox = in_process_sandbox()
    caplog.set_level(logging.INFO, logger="paygentic_client.ingest")
    gate = sandbox.network.gate
    gate.close()

    async def main() -> None:
        ingester = AsyncUsageIngester(
            sandbox.async_client(), max_batch_size=2, max_in_flight=1, flush_interval=PATIENCE
        )
        handles = [await ingester.submit(event(n)) for n in range(4)]
        await gate.until_held(1, PATIENCE)
        await ingester.close(timeout=0)
        for handle in handles:
            assert isinstance(handle.exception(), IngesterClosedError)
        assert ingester.stats().in_queue == 0
        gate.open()

    asyncio.run(main())
    undelivered = error_lines(caplog)
    for key in keys(4):
        assert any(key in line for line in undelivered), f"{key} not logged"
    assert len(sandbox.network.sent) == 1


def test_async_close_deadline_stops_retrying_and_fails_with_the_last_cause(
    in_process_sandbox: InProcessFactory, first_warning: FirstRecord
) -> None:
    sandbox = in_process_sandbox(rates={"503": 1.0})

    async def main() -> None:
        ingester = AsyncUsageIngester(
            sandbox.async_client(retry_policy=STALLED), flush_interval=PATIENCE
        )
        handles = [await ingester.submit(event(n)) for n in range(5)]
        assert not await ingester.flush(timeout=0)
        assert await asyncio.to_thread(first_warning.seen.wait, PATIENCE)
        await ingester.close(timeout=0)
        for handle in handles:
            error = handle.exception()
            assert isinstance(error, IngesterClosedError)
            assert "HTTP 503" in str(error)
        assert ingester.stats().failed == 5

    asyncio.run(main())
    assert len(sandbox.network.sent) == 1
    assert sandbox.stored_keys() == []


@pytest.mark.slow  # seconds of a held server, or a subprocess: not the inner loop
def test_an_open_ingester_delivers_at_interpreter_exit() -> None:
    script = textwrap.dedent(
        """
        import atexit, sys

        # Registered before paygentic_client registers its exit hook, so it runs after it.
        made = {}
        atexit.register(lambda: print("stored", len(made["sandbox"].stored_keys())))
        sys.path[:0] = sys.argv[1:]
        from support.inprocess_sandbox import InProcessSandbox
        from test_ingest import event
        from paygentic_client import UsageIngester

        sandbox = made["sandbox"] = InProcessSandbox()
        ingester = UsageIngester(sandbox.client(), flush_interval=60)
        for n in range(250):
            ingester.submit(event(n))
        """
    )
    here = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, "-c", script, str(here.parent), str(here)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "stored 250"


# -- the API of the ingesters -------------------------------------------------------------------


def test_submit_rejects_what_it_cannot_send(in_process_sandbox: InProcessFactory) -> None:
    sandbox = in_process_sandbox()
    keyless = event(1)
    keyless.idempotency_key = ""
    with UsageIngester(sandbox.client()) as ingester:
        with pytest.raises(ValueError, match="idempotencyKey"):
            ingester.submit(keyless)
        with pytest.raises(TypeError):
            ingester.submit({"idempotencyKey": "x"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_batch_size"):
        UsageIngester(sandbox.client(), max_batch_size=1001)
    assert sandbox.network.sent == []


def test_handles_read_like_futures_and_make_real_ones(
    in_process_sandbox: InProcessFactory,
) -> None:
    """The UsageEvent is built on the first result(); the Future-like methods and as_future()
    (for as_completed, concurrent.futures.wait, asyncio.wrap_future) all get it."""
    with UsageIngester(in_process_sandbox().client()) as ingester:
        handle = ingester.submit(event(1))
        early = handle.as_future()  # made before the event is resolved
        seen: list[UsageEvent] = []
        handle.add_done_callback(lambda done: seen.append(done.result()))
        assert isinstance(handle, EventHandle)
        assert isinstance(handle.result(timeout=PATIENCE), UsageEvent)
    assert handle.done() and handle.exception() is None
    assert handle.result() is handle.result() is seen[0]
    assert handle.result().idempotency_key == "evt_000001"
    assert next(concurrent.futures.as_completed([early], timeout=PATIENCE)) is early
    assert early.result() is handle.result()

    async def wrapped() -> UsageEvent:
        return await asyncio.wrap_future(handle.as_future())

    assert asyncio.run(wrapped()) is handle.result()


def test_async_handles_are_asyncio_futures(in_process_sandbox: InProcessFactory) -> None:
    """The UsageEvent is built on the first result() or await; every way of reading an
    asyncio future gets it."""
    sandbox = in_process_sandbox()

    async def main() -> None:
        async with AsyncUsageIngester(sandbox.async_client()) as ingester:
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
