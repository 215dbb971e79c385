"""The ingesters with a spool (and the close deadline without one), against real sandbox
processes: delivery and recovery, rejected events kept, processes sharing one spool under
faults, an unreachable API at close; threads and asyncio. SIGKILL at random moments:
test_spool_sigkill_storm.py."""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from support.sandbox_fixture import MERCHANT_ID, TOKEN, SandboxFactory
from test_ingest_sandbox import stored_keys

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, RetryPolicy, UsageIngester
from paygentic_client.errors import IngesterClosedError, SpoolError
from paygentic_client.ingest.core import DEFAULT, DEFAULT_CLOSE_TIMEOUT
from paygentic_client.ingest.spool import Spool
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

ROOT = Path(__file__).resolve().parents[2]
STAMP = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)
QUICK = RetryPolicy(backoff_initial=0.02, backoff_max=0.2)
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens, connections refused


def events(customer_id: str, count: int, start: int = 0) -> list[CreateUsageEventRequest]:
    return [
        CreateUsageEventRequest(
            idempotency_key=f"{customer_id}_{n:05d}",
            customer_id=customer_id,
            merchant_id=MERCHANT_ID,
            timestamp=STAMP + datetime.timedelta(milliseconds=n),
            properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=1)],
        )
        for n in range(start, start + count)
    ]


def keys_of(submitted: list[CreateUsageEventRequest]) -> list[str]:
    return [str(event.idempotency_key) for event in submitted]


def test_threaded_ingester_delivers_through_the_spool(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    server = sandbox_factory()
    submitted = events("cus_spool_thr", 1500)
    with (
        AuthenticatedClient(base_url=server.url, token=TOKEN) as client,
        UsageIngester(client, spool=tmp_path / "s.db", flush_interval=0.05) as ingester,
    ):
        handles = [ingester.submit(event) for event in submitted]
    assert [handle.result().idempotency_key for handle in handles] == keys_of(submitted)
    stats = ingester.stats()
    assert (stats.submitted, stats.delivered, stats.in_queue, stats.recovered) == (1500, 1500, 0, 0)
    with Spool(tmp_path / "s.db") as spool:
        assert spool.status().pending == 0
    client = AuthenticatedClient(base_url=server.url, token=TOKEN)
    assert sorted(stored_keys(client, "cus_spool_thr")) == keys_of(submitted)


def test_a_rejected_token_keeps_the_events_until_a_good_one_delivers_them(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """A 401 is about the token, not the events: they stay pending (never rejected), the
    close says why, and the next ingester with a valid token delivers them."""
    server = sandbox_factory()
    patient = RetryPolicy(backoff_initial=0.05, backoff_max=0.05)
    with (
        AuthenticatedClient(
            base_url=server.url, token="not_a_valid_token", retry_policy=patient
        ) as client,
        UsageIngester(
            client, spool=tmp_path / "s.db", flush_interval=0.05, close_timeout=1.0
        ) as ingester,
    ):
        handles = [ingester.submit(event) for event in events("cus_rej", 3)]
    for handle in handles:
        error = handle.exception()
        assert isinstance(error, IngesterClosedError)
        assert "HTTP 401 Unauthorized" in str(error)
    with Spool(tmp_path / "s.db") as spool:
        status = spool.status()
    assert (status.pending, status.rejected) == (3, 0)
    with (
        AuthenticatedClient(base_url=server.url, token=TOKEN) as client,
        UsageIngester(client, spool=tmp_path / "s.db", spool_lease=0.05) as recovering,
    ):
        deadline = time.monotonic() + 30
        while recovering.stats().recovered < 3:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    reader = AuthenticatedClient(base_url=server.url, token=TOKEN)
    assert sorted(stored_keys(reader, "cus_rej")) == keys_of(events("cus_rej", 3))


def test_a_spool_that_cannot_be_used_fails_the_constructor(tmp_path: Path) -> None:
    path = tmp_path / "not-a-spool"
    path.write_text("hello\n" * 1000)
    client = AuthenticatedClient(base_url=UNREACHABLE, token=TOKEN)
    with pytest.raises(SpoolError, match="not a paygentic spool"):
        UsageIngester(client, spool=path)


def test_unreachable_api_without_spool_closes_within_the_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = AuthenticatedClient(base_url=UNREACHABLE, token=TOKEN, retry_policy=QUICK)
    ingester = UsageIngester(client, flush_interval=0.05)
    handles = [ingester.submit(event) for event in events("cus_down", 5)]
    started = time.monotonic()
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        ingester.close(timeout=1.0)
    assert time.monotonic() - started < 1.0 + 2.0 + 1.0  # deadline + grace + slack
    error = handles[0].exception()
    assert isinstance(error, IngesterClosedError)
    assert "connection refused by 127.0.0.1:9" in str(error)
    assert error.__cause__ is not None
    [summary] = [r for r in caplog.records if "were not delivered" in r.getMessage()]
    assert summary.levelno >= logging.WARNING
    assert "5 usage events" in summary.getMessage()
    assert "connection refused by 127.0.0.1:9" in summary.getMessage()
    assert all(key in summary.getMessage() for key in keys_of(events("cus_down", 5)))
    warnings = [r for r in caplog.records if "failed (" in r.getMessage()]
    assert warnings[0].levelno == logging.WARNING  # while it happens, not only at INFO
    assert any(r.levelno == logging.INFO for r in warnings)  # rate-limited


def test_leaving_the_block_has_a_bounded_deadline_threads_and_asyncio() -> None:
    client = AuthenticatedClient(base_url=UNREACHABLE, token=TOKEN, retry_policy=QUICK)
    started = time.monotonic()
    with UsageIngester(client, flush_interval=0.05, close_timeout=0.5) as ingester:
        handle = ingester.submit(events("cus_block", 1)[0])
    assert time.monotonic() - started < 0.5 + 2.0 + 1.0
    assert isinstance(handle.exception(), IngesterClosedError)

    async def main() -> BaseException | None:
        async with AsyncUsageIngester(client, flush_interval=0.05, close_timeout=0.5) as aio:
            handle = await aio.submit(events("cus_block", 1)[0])
        return handle.exception()

    started = time.monotonic()
    assert isinstance(asyncio.run(main()), IngesterClosedError)
    assert time.monotonic() - started < 0.5 + 2.0 + 1.0
    assert UsageIngester.close.__defaults__ == (DEFAULT,)
    assert DEFAULT_CLOSE_TIMEOUT == 30.0


def test_unreachable_api_with_spool_keeps_events_for_a_later_ingester(
    sandbox_factory: SandboxFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "s.db"
    submitted = events("cus_later", 40)
    down = AuthenticatedClient(base_url=UNREACHABLE, token=TOKEN, retry_policy=QUICK)
    ingester = UsageIngester(down, spool=path, flush_interval=0.05)
    handles = [ingester.submit(event) for event in submitted]
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, "paygentic_client.ingest"):
        ingester.close(timeout=1.0)
    assert time.monotonic() - started < 1.0 + 2.0 + 1.0
    error = handles[-1].exception()
    assert isinstance(error, IngesterClosedError) and error.__cause__ is not None
    assert "stays in the spool" in str(error)
    [summary] = [r for r in caplog.records if "were not delivered" in r.getMessage()]
    assert "connection refused by 127.0.0.1:9" in summary.getMessage()
    assert "stay in the spool" in summary.getMessage()
    server = sandbox_factory()
    with (
        AuthenticatedClient(base_url=server.url, token=TOKEN) as client,
        UsageIngester(client, spool=path, flush_interval=0.05, spool_lease=1) as later,
    ):
        assert later.flush(timeout=0.1) is True  # nothing of its own to wait for
        deadline = time.monotonic() + 30
        while later.stats().recovered < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert later.stats().recovered == 40
    client = AuthenticatedClient(base_url=server.url, token=TOKEN)
    assert sorted(stored_keys(client, "cus_later")) == keys_of(submitted)


def test_async_ingester_with_spool_recovers_and_delivers(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    path = tmp_path / "s.db"
    first, second = events("cus_aio", 30), events("cus_aio", 500, start=30)

    async def leave_in_spool() -> IngesterClosedError | None:
        down = AuthenticatedClient(base_url=UNREACHABLE, token=TOKEN, retry_policy=QUICK)
        ingester = AsyncUsageIngester(down, spool=path, flush_interval=0.05)
        handles = [await ingester.submit(event) for event in first]
        await ingester.close(timeout=0.5)
        error = handles[0].exception()
        return error if isinstance(error, IngesterClosedError) else None

    error = asyncio.run(leave_in_spool())
    assert error is not None and error.__cause__ is not None
    server = sandbox_factory()

    async def deliver() -> list[str]:
        async with (
            AuthenticatedClient(base_url=server.url, token=TOKEN) as client,
            AsyncUsageIngester(client, spool=path, flush_interval=0.05, spool_lease=1) as ingester,
        ):
            handles = [await ingester.submit(event) for event in second]
            results = [str((await handle).idempotency_key) for handle in handles]
            while ingester.stats().recovered < len(first):
                await asyncio.sleep(0.02)
        return results

    assert asyncio.run(deliver()) == keys_of(second)
    client = AuthenticatedClient(base_url=server.url, token=TOKEN)
    assert sorted(stored_keys(client, "cus_aio")) == keys_of(first + second)


def test_async_spool_work_stays_off_the_event_loop(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """The gaps between ticks of a 1 ms heartbeat while 300 events go through the spool at
    power-loss durability (an fsync per submit, several ms each: on the loop, every tick
    would wait for one)."""
    server = sandbox_factory()

    async def main() -> list[float]:
        gaps: list[float] = []
        done = False

        async def heartbeat() -> None:
            last = time.perf_counter()
            while not done:
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        async with (
            AuthenticatedClient(base_url=server.url, token=TOKEN) as client,
            AsyncUsageIngester(
                client, spool=tmp_path / "s.db", durability="power-loss", flush_interval=0.05
            ) as ingester,
        ):
            for event in events("cus_loop", 300):
                await ingester.submit(event)
        done = True
        await beat
        return gaps

    gaps = sorted(asyncio.run(main()))
    # The median tick stays near 1 ms (SQLite on the loop puts it at an fsync, ~8 ms here);
    # the worst is bounded loosely, for a loaded 2-core CI machine.
    assert gaps[len(gaps) // 2] < 0.004
    assert gaps[-1] < 0.25


# -- processes sharing one spool under faults ---------------------------------------------------

SHARER = textwrap.dedent(
    """
    import datetime, sys
    from paygentic_client import AuthenticatedClient, RetryPolicy, UsageIngester
    from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty
    url, spool, name, count, token, merchant = sys.argv[1:7]
    stamp = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)
    quick = RetryPolicy(backoff_initial=0.02, backoff_max=0.2)
    client = AuthenticatedClient(base_url=url, token=token, retry_policy=quick)
    with UsageIngester(client, spool=spool, flush_interval=0.05, max_batch_size=200,
                       spool_lease=2) as ingester:
        handles = [ingester.submit(CreateUsageEventRequest(
            idempotency_key=f"cus_share_{name}_{n:05d}", customer_id="cus_share",
            merchant_id=merchant, timestamp=stamp + datetime.timedelta(milliseconds=n),
            properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=1)],
        )) for n in range(int(count))]
        for handle in handles:
            handle.result(timeout=120)
    stats = ingester.stats()
    print(stats.delivered, stats.recovered, stats.retried_batches)
    """
)


@pytest.mark.parametrize("processes", [2, 4])
def test_processes_sharing_a_spool_under_faults_deliver_exactly_once(
    sandbox_factory: SandboxFactory, tmp_path: Path, processes: int
) -> None:
    server = sandbox_factory(faults="drop-after-commit=0.2,503=0.1", seed=processes)
    count = 1200
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    running = [
        subprocess.Popen(
            [sys.executable, "-c", SHARER, server.url, str(tmp_path / "s.db"), f"p{n}"]
            + [str(count), TOKEN, MERCHANT_ID],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    outputs = [process.communicate(timeout=180)[0] for process in running]
    assert [process.returncode for process in running] == [0] * processes
    figures = [[int(x) for x in output.split()] for output in outputs]
    assert all(delivered == count for delivered, _, _ in figures)  # every handle resolved
    assert sum(retried for _, _, retried in figures) > 0  # the faults were met
    server.stop()
    clean = AuthenticatedClient(base_url=sandbox_factory().url, token=TOKEN)
    stored = stored_keys(clean, "cus_share")
    expected = {f"cus_share_p{p}_{n:05d}" for p in range(processes) for n in range(count)}
    assert len(stored) == len(expected) and set(stored) == expected
    with Spool(tmp_path / "s.db") as spool:
        assert spool.status().pending == 0
