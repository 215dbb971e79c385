"""Exactly-once delivery through each ingester against the real sandbox with injected faults:
20% of requests dropped after commit, 10% answered 503, 5% answered 429 with Retry-After."""

from __future__ import annotations

import asyncio
import datetime

from support.sandbox_fixture import MERCHANT_ID, TOKEN, SandboxFactory

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, RetryPolicy, UsageIngester
from paygentic_client.api.usage_events import list_usage_events
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

FAULTS = "drop-after-commit=0.2,503=0.1,429=0.05,retry-after=1"
EVENTS = 10_000
STAMP = datetime.datetime(2024, 3, 1, 12, 0, tzinfo=datetime.UTC)
QUICK = RetryPolicy(backoff_initial=0.02, backoff_max=0.2)


def events(customer_id: str) -> list[CreateUsageEventRequest]:
    return [
        CreateUsageEventRequest(
            idempotency_key=f"{customer_id}_{n:05d}",
            customer_id=customer_id,
            merchant_id=MERCHANT_ID,
            timestamp=STAMP + datetime.timedelta(milliseconds=n),
            properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=1)],
        )
        for n in range(EVENTS)
    ]


def stored_keys(client: AuthenticatedClient, customer_id: str) -> list[str]:
    """The idempotency keys of every event the sandbox holds for the customer, page by page."""
    keys: list[str] = []
    while True:
        page = list_usage_events.sync(
            client=client,
            start_time=STAMP - datetime.timedelta(days=1),
            end_time=STAMP + datetime.timedelta(days=1),
            customer_id=customer_id,
            limit=100,
            offset=len(keys),
        )
        keys.extend(str(event.idempotency_key) for event in page.data)
        if not page.data or len(keys) >= page.pagination.total:
            return keys


def test_threaded_ingester_delivers_each_event_exactly_once(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(faults=FAULTS, seed=3)
    submitted = events("cus_threaded")
    # Every fault reaches the ingester's one retry loop (each send is one attempt).
    with (
        AuthenticatedClient(base_url=server.url, token=TOKEN, retry_policy=QUICK) as client,
        UsageIngester(client, max_batch_size=500, flush_interval=0.2) as ingester,
    ):
        handles = [ingester.submit(event) for event in submitted]
    assert [handle.result().idempotency_key for handle in handles] == [
        event.idempotency_key for event in submitted
    ]
    assert ingester.stats().retried_batches > 0
    server.stop()  # read back through a sandbox without faults, on the same database
    clean = AuthenticatedClient(base_url=sandbox_factory().url, token=TOKEN)
    keys = stored_keys(clean, "cus_threaded")
    assert len(keys) == EVENTS
    assert set(keys) == {event.idempotency_key for event in submitted}


def test_async_ingester_delivers_each_event_exactly_once(sandbox_factory: SandboxFactory) -> None:
    server = sandbox_factory(faults=FAULTS, seed=4)
    submitted = events("cus_async")

    async def main() -> None:
        async with (
            AuthenticatedClient(base_url=server.url, token=TOKEN, retry_policy=QUICK) as client,
            AsyncUsageIngester(client, max_batch_size=500, flush_interval=0.2) as ingester,
        ):
            handles = [await ingester.submit(event) for event in submitted]
        assert all(handle.result().idempotency_key for handle in handles)

    asyncio.run(main())
    server.stop()  # read back through a sandbox without faults, on the same database
    clean = AuthenticatedClient(base_url=sandbox_factory().url, token=TOKEN)
    keys = stored_keys(clean, "cus_async")
    assert len(keys) == EVENTS
    assert set(keys) == {event.idempotency_key for event in submitted}
