"""An ingester made before fork() (gunicorn --preload, Celery prefork, multiprocessing's fork
start method) keeps working in the child: the child delivers what it submits, exactly once,
never the parent's queued events, and opens the spool again instead of sharing the parent's
SQLite connection; the parent delivers its own. Against a sandbox process (the children must
reach the same API), so these are the slow tier's.
"""

from __future__ import annotations

import asyncio
import datetime
import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from paygentic_sandbox.process import SandboxProcess
from support.forking import join_or_kill, run_in_fork
from support.sandbox_fixture import MERCHANT_ID, TOKEN
from test_ingest_sandbox import stored_keys

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester
from paygentic_client.errors import IngesterClosedError
from paygentic_client.ingest.spool import Spool
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

# fork() in the test's own process: never inside a pytest-xdist worker (see pyproject.toml).
pytestmark = pytest.mark.forks

STAMP = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)
CHILD_DEADLINE = 30.0  # a child's close(); a loaded machine, and still bounded


def usage(customer: str, tag: str, n: int) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"{customer}_{tag}_{n:03d}",
        customer_id=customer,
        merchant_id=MERCHANT_ID,
        timestamp=STAMP + datetime.timedelta(milliseconds=n),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_f", quantity=1)],
    )


def keys(customer: str, tag: str, count: int) -> list[str]:
    return [f"{customer}_{tag}_{n:03d}" for n in range(count)]


def queued_parent(
    sandbox: SandboxProcess, tmp_path: Path, store: str, customer: str
) -> tuple[UsageIngester, list[Any]]:
    """An ingester with 5 events of the parent's queued (flush_interval 60: not sent yet)."""
    client = AuthenticatedClient(base_url=sandbox.url, token=TOKEN)
    spool = tmp_path / "fork.spool" if store == "spool" else None
    ingester = UsageIngester(client, spool=spool, flush_interval=60)
    handles = [ingester.submit(usage(customer, "parent", n)) for n in range(5)]
    return ingester, handles


def in_child(ingester: UsageIngester, customer: str, tag: str) -> int:
    """What a child does: submit 4 events, close, and say by its exit code whether every one
    of them was created (0), not (1), or the child broke (2)."""
    try:
        handles = [ingester.submit(usage(customer, tag, n)) for n in range(4)]
        ingester.close(timeout=CHILD_DEADLINE)
        created = all(handle.exception(timeout=0) is None for handle in handles)
        stats = ingester.stats()
        counted = (stats.submitted, stats.delivered, stats.recovered) == (4, 4, 0)
        return 0 if created and counted else 1
    except BaseException:
        return 2


def assert_delivered_once_each(
    sandbox: SandboxProcess, ingester: UsageIngester, handles: list[Any], expected: list[str]
) -> None:
    ingester.close(timeout=CHILD_DEADLINE)
    assert all(handle.exception(timeout=0) is None for handle in handles)
    assert ingester.stats().delivered == 5  # the parent's, not a child's
    customer = expected[0].rsplit("_", 2)[0]
    reader = AuthenticatedClient(base_url=sandbox.url, token=TOKEN)
    stored = stored_keys(reader, customer)
    assert len(stored) == len(set(stored))  # nothing twice
    assert sorted(stored) == sorted(expected)


@pytest.mark.parametrize("store", ["memory", "spool"])
def test_a_forked_child_delivers_its_own_events_and_never_the_parents(
    sandbox: SandboxProcess, tmp_path: Path, store: str
) -> None:
    customer = f"cus_osfork_{store}"
    ingester, handles = queued_parent(sandbox, tmp_path, store, customer)
    assert run_in_fork(lambda: in_child(ingester, customer, "child"), CHILD_DEADLINE + 10) == 0
    assert_delivered_once_each(
        sandbox,
        ingester,
        handles,
        keys(customer, "parent", 5) + keys(customer, "child", 4),
    )
    if store == "spool":
        with Spool(tmp_path / "fork.spool") as spool:
            assert spool.status().pending == 0


def _child_main(ingester: UsageIngester, customer: str, tag: str) -> None:
    # multiprocessing runs no exit hook in a child: it closes the ingester itself.
    raise SystemExit(in_child(ingester, customer, tag))


@pytest.mark.parametrize("store", ["memory", "spool"])
def test_multiprocessing_fork_children_each_deliver_their_own_events(
    sandbox: SandboxProcess, tmp_path: Path, store: str
) -> None:
    customer = f"cus_mpfork_{store}"
    ingester, handles = queued_parent(sandbox, tmp_path, store, customer)
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(target=_child_main, args=(ingester, customer, f"child{n}"))
        for n in range(2)
    ]
    for child in children:
        child.start()
    assert join_or_kill(children, CHILD_DEADLINE + 10) == [0, 0]
    assert_delivered_once_each(
        sandbox,
        ingester,
        handles,
        keys(customer, "parent", 5) + keys(customer, "child0", 4) + keys(customer, "child1", 4),
    )


def submit_raises_closed(ingester: UsageIngester) -> bool:
    try:
        ingester.submit(usage("cus_closed", "child", 0))
    except IngesterClosedError:
        return True
    return False


def test_an_ingester_closed_before_the_fork_stays_closed_in_the_child(tmp_path: Path) -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN)  # never reached
    closed = [UsageIngester(client, spool=tmp_path / f"closed{n}.spool") for n in range(3)]
    closed.append(UsageIngester(client))
    for ingester in closed:
        ingester.close()
    # Open beside the closed ones: a closed one's restart once raised in the fork hook, and
    # every ingester after it kept the parent's held lock (its submit() hung for ever).
    open_one = UsageIngester(client, flush_interval=60)

    def child() -> int:
        if not all(submit_raises_closed(ingester) for ingester in closed):
            return 1
        open_one.submit(usage("cus_open", "child", 0))
        return 0 if open_one.stats().submitted == 1 else 1

    try:
        assert run_in_fork(child, timeout=20) == 0
    finally:
        open_one.close(timeout=0)


def test_an_ingester_that_cannot_start_afresh_is_closed_in_the_child_and_the_others_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN)  # never reached
    broken = [UsageIngester(client, flush_interval=60) for _ in range(4)]
    working = UsageIngester(client, flush_interval=60)

    def fail() -> None:
        raise RuntimeError("cannot start afresh")

    for ingester in broken:  # the restarts run in an arbitrary order: most come before it
        monkeypatch.setattr(ingester, "_after_fork_in_child", fail)

    def child() -> int:
        if not all(submit_raises_closed(ingester) for ingester in broken):
            return 1
        working.submit(usage("cus_open", "child", 0))
        return 0 if working.stats().submitted == 1 else 1

    try:
        assert run_in_fork(child, timeout=20) == 0
    finally:
        for ingester in [*broken, working]:
            ingester.close(timeout=0)


def test_async_ingesters_start_afresh_in_the_child_closed_ones_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN)  # never reached
    closed = AsyncUsageIngester(client)
    asyncio.run(closed.close())
    broken = [AsyncUsageIngester(client, flush_interval=60) for _ in range(3)]
    working = AsyncUsageIngester(client, flush_interval=60)

    def fail() -> None:
        raise RuntimeError("cannot start afresh")

    for ingester in broken:
        monkeypatch.setattr(ingester, "_after_fork_in_child", fail)

    async def in_loop() -> int:
        for ingester in [closed, *broken]:
            with pytest.raises(IngesterClosedError):
                await ingester.submit(usage("cus_closed", "child", 0))
        await working.submit(usage("cus_open", "child", 0))
        return 0 if working.stats().submitted == 1 else 1

    assert run_in_fork(lambda: asyncio.run(in_loop()), timeout=20) == 0
