"""Group commit (ingest/group_commit.py) and submit_many: concurrent submits share spool
transactions, and each returns only once its own event is committed; threads and asyncio."""

from __future__ import annotations

import asyncio
import datetime
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester
from paygentic_client.ingest.group_commit import GroupCommit
from paygentic_client.ingest.spool import Spool
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing is delivered, rows stay
THREADS = 16
EACH = 25


def usage(n: int) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"grp_{n:05d}",
        customer_id="cus_group",
        merchant_id="mer_group",
        timestamp=datetime.datetime(2024, 2, 1, 9, 0, tzinfo=datetime.UTC),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_g", quantity=1)],
    )


def committed_keys(path: Path) -> set[str]:
    """The keys another connection sees: only committed rows."""
    connection = sqlite3.connect(path, timeout=10)
    try:
        return {key for (key,) in connection.execute("SELECT key FROM pending")}
    finally:
        connection.close()


def counting_transactions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    real = Spool.append_many

    def counted(self: Spool, events: Sequence[tuple[str, bytes]]) -> list[int]:
        sizes.append(len(events))
        return real(self, events)

    monkeypatch.setattr(Spool, "append_many", counted)
    return sizes


def test_group_commit_returns_each_caller_only_after_its_own_items_are_committed() -> None:
    committed: set[int] = set()
    groups: list[list[int]] = []
    lock = threading.Lock()

    def commit(items: list[int]) -> list[int | Exception]:
        with lock:
            groups.append(items)
            committed.update(items)
        return [item * 2 for item in items]

    group: GroupCommit[int, int] = GroupCommit(commit)
    late: list[int] = []
    start = threading.Barrier(THREADS)

    def caller(n: int) -> None:
        start.wait(timeout=30)
        for item in range(n * 100, n * 100 + 20):
            assert group.run([item]) == [item * 2]
            with lock:
                if item not in committed:
                    late.append(item)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert late == []
    assert sorted(item for items in groups for item in items) == sorted(
        item for n in range(THREADS) for item in range(n * 100, n * 100 + 20)
    )


def test_a_failed_group_commit_raises_to_every_caller_of_the_group() -> None:
    def commit(items: list[int]) -> list[int | Exception]:
        raise OSError("disk full")

    group: GroupCommit[int, int] = GroupCommit(commit)
    with pytest.raises(OSError, match="disk full"):
        group.run([1, 2])
    # An Exception among the results is raised to that caller only.
    mixed: GroupCommit[int, int] = GroupCommit(
        lambda items: [ValueError(i) if i == 2 else i for i in items]
    )
    assert mixed.run([1]) == [1]
    with pytest.raises(ValueError):
        mixed.run([2])


@pytest.mark.usefixtures("direct_spool")
def test_threads_submitting_to_a_spool_share_transactions_and_return_once_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = counting_transactions(monkeypatch)
    path = tmp_path / "spool.db"
    ingester = UsageIngester(AuthenticatedClient(base_url=UNREACHABLE, token="t"), spool=path)
    not_committed: list[str] = []
    start = threading.Barrier(THREADS)

    def producer(n: int) -> None:
        start.wait(timeout=30)
        for m in range(EACH):
            event = usage(n * EACH + m)
            ingester.submit(event)
            if event.idempotency_key not in committed_keys(path):
                not_committed.append(event.idempotency_key)

    threads = [threading.Thread(target=producer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert not_committed == []
        assert sum(sizes) == THREADS * EACH
        assert len(sizes) < THREADS * EACH  # some commits served several submits
        assert committed_keys(path) == {f"grp_{n:05d}" for n in range(THREADS * EACH)}
    finally:
        ingester.close(timeout=0)


@pytest.mark.usefixtures("direct_spool")
def test_submit_many_commits_a_list_in_one_transaction_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = counting_transactions(monkeypatch)
    path = tmp_path / "spool.db"
    ingester = UsageIngester(AuthenticatedClient(base_url=UNREACHABLE, token="t"), spool=path)
    try:
        handles = ingester.submit_many([usage(n) for n in range(300)])
        assert len(handles) == 300 and sizes == [300]
        assert committed_keys(path) == {f"grp_{n:05d}" for n in range(300)}
        assert ingester.stats().submitted == 300
    finally:
        ingester.close(timeout=0)


@pytest.mark.usefixtures("direct_spool")
def test_async_submits_of_one_loop_turn_share_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes = counting_transactions(monkeypatch)
    path = tmp_path / "spool.db"

    async def main() -> tuple[list[bool], list[str]]:
        client = AuthenticatedClient(base_url=UNREACHABLE, token="t")
        ingester = AsyncUsageIngester(client, spool=path)
        await ingester.submit(usage(0))  # opens the spool

        async def one(n: int) -> bool:
            await ingester.submit(usage(n))
            return f"grp_{n:05d}" in committed_keys(path)

        seen = await asyncio.gather(*(one(n) for n in range(1, 101)))
        many = await ingester.submit_many([usage(n) for n in range(101, 201)])
        await ingester.close(timeout=0)
        return list(seen), [str(len(many))]

    seen, many = asyncio.run(main())
    assert all(seen) and many == ["100"]
    assert sum(sizes) == 201
    assert len(sizes) <= 4  # the first, the 100 of one turn (in at most two hops), the list
    assert sizes[-1] == 100


def test_submit_many_in_memory_returns_a_handle_per_event(tmp_path: Path) -> None:
    ingester = UsageIngester(AuthenticatedClient(base_url=UNREACHABLE, token="t"))
    try:
        handles = ingester.submit_many([usage(n) for n in range(10)])
        assert len(handles) == 10 and ingester.stats().submitted == 10
    finally:
        ingester.close(timeout=0)
