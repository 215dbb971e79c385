"""A relay ingester on the PostgreSQL outbox (UsageIngester and AsyncUsageIngester with
store=PostgresOutbox(dsn)) is woken by the NOTIFY of a committing transaction: idle, with a
poll interval far longer than the test, it delivers what was just committed within 100 ms
(from the commit to the request reaching the network double). Its LISTEN connection is
closed with it; a forked child LISTENs on a connection of its own and never cuts the
parent's."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import psycopg
import pytest
from support.forking import run_in_fork
from support.inprocess_sandbox import InProcessFactory, InProcessSandbox
from support.outbox_support import FAST, PATIENCE, event, eventually

from paygentic_client import AsyncUsageIngester, UsageIngester
from paygentic_client.ingest.outbox import PostgresOutbox, record

T = TypeVar("T")
# Far longer than the test: only a NOTIFY can make the relay claim in time.
POLL = 600.0
ROUNDS = 5
WITHIN = 0.1  # the median of the rounds; the figure


def listeners(dsn: str) -> int:
    """Sessions of this database waiting on the outbox's channel (their last statement was
    the LISTEN)."""
    return len(listener_pids(dsn))


def listener_pids(dsn: str) -> set[int]:
    with psycopg.connect(dsn) as conn:
        found = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND query = 'LISTEN \"paygentic_outbox\"' AND state = 'idle'"
        ).fetchall()
    return {int(pid) for (pid,) in found}


def commit_and_time(dsn: str, sandbox: InProcessSandbox, n: int) -> float:
    """Record event n and commit; seconds from the commit to its batch reaching the double."""
    before = len(sandbox.network.sent)
    with psycopg.connect(dsn) as conn:
        record(conn, event(n))
        conn.commit()
        committed = time.monotonic()
    eventually(lambda: len(sandbox.network.sent) > before)
    arrived = sandbox.network.sent[before]
    assert arrived.keys == [event(n).idempotency_key]
    return arrived.arrived - committed


def judge(latencies: list[float], driver: str) -> None:
    print(f"\n{driver}: commit -> request, ms: {[round(s * 1000, 1) for s in latencies]}")
    assert statistics.median(latencies) < WITHIN, latencies


def test_notify_wakes_an_idle_threaded_relay_within_100_ms_of_the_commit(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    sandbox = in_process_sandbox()
    relay = UsageIngester(
        sandbox.client(retry_policy=FAST), store=PostgresOutbox(outbox_dsn), flush_interval=POLL
    )
    try:
        eventually(lambda: listeners(outbox_dsn) == 1)
        latencies = [commit_and_time(outbox_dsn, sandbox, n) for n in range(ROUNDS)]
    finally:
        relay.close(timeout=PATIENCE)
    eventually(lambda: listeners(outbox_dsn) == 0)  # closed with the ingester
    judge(latencies, "threads")
    assert sorted(sandbox.stored_keys()) == [event(n).idempotency_key for n in range(ROUNDS)]


def test_notify_wakes_an_idle_asyncio_relay_within_100_ms_of_the_commit(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    sandbox = in_process_sandbox()

    async def relay() -> list[float]:
        async with AsyncUsageIngester(
            sandbox.async_client(retry_policy=FAST),
            store=PostgresOutbox(outbox_dsn),
            flush_interval=POLL,
        ):
            # The commits and waits block: in a thread, so that the loop runs the relay.
            await in_thread(partial(eventually, lambda: listeners(outbox_dsn) == 1))
            return [
                await in_thread(partial(commit_and_time, outbox_dsn, sandbox, n))
                for n in range(ROUNDS)
            ]

    latencies = asyncio.run(relay())
    eventually(lambda: listeners(outbox_dsn) == 0)
    judge(latencies, "asyncio")
    assert sorted(sandbox.stored_keys()) == [event(n).idempotency_key for n in range(ROUNDS)]


@pytest.mark.forks
def test_a_forked_child_listens_on_its_own_connection_and_leaves_the_parents_alone(
    outbox_dsn: str, in_process_sandbox: InProcessFactory
) -> None:
    sandbox = in_process_sandbox()
    relay = UsageIngester(
        sandbox.client(retry_policy=FAST), store=PostgresOutbox(outbox_dsn), flush_interval=POLL
    )
    try:
        eventually(lambda: listeners(outbox_dsn) == 1)
        parents = listener_pids(outbox_dsn)

        def child() -> int:
            eventually(lambda: listeners(outbox_dsn) == 2)  # its own LISTEN, beside the parent's
            relay.close(timeout=PATIENCE)  # closes the child's, never the parent's
            eventually(lambda: listener_pids(outbox_dsn) == parents)
            return 0

        assert run_in_fork(child, PATIENCE * 2) == 0
        assert listener_pids(outbox_dsn) == parents  # the same connection: never cut
        latency = commit_and_time(outbox_dsn, sandbox, 1)  # and it still wakes the parent
    finally:
        relay.close(timeout=PATIENCE)
    print(f"\nthe parent after the child closed: commit -> request {latency * 1000:.1f} ms")
    assert latency < 0.5  # under 100 ms unloaded: one round, so a margin for a loaded machine


async def in_thread(work: Callable[[], T]) -> T:
    return await asyncio.wait_for(asyncio.to_thread(work), PATIENCE * 2)


pytestmark = pytest.mark.timeout(120)
