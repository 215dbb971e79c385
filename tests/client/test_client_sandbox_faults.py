"""Against the sandbox with 30% injected faults, 1000 creates store exactly 1000 events.

The faults (`--faults`): a create committed and then its connection dropped, 503 before
anything is written, 429 with Retry-After. The client retries every one, resending the same
idempotency key, so no event is lost and none is stored twice.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from support.sandbox_fixture import MERCHANT_ID, TOKEN, SandboxFactory

from paygentic_client import AuthenticatedClient
from paygentic_client._runtime.retries import RetryPolicy
from paygentic_client.api.usage_events import create_usage_event, list_usage_events
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

FAULTS = "drop-after-commit=0.1,503=0.1,429=0.1,retry-after=1"
EVENTS = 1000
CONCURRENCY = 16
START = datetime.datetime(2024, 1, 15, tzinfo=datetime.UTC)


def event(index: int) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"fault_test_{index:05d}",
        customer_id="cus_faulttest",
        merchant_id=MERCHANT_ID,
        timestamp=START + datetime.timedelta(seconds=index),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_calls", quantity=1)],
    )


def test_1000_creates_with_30_percent_faults_store_exactly_1000_events(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(faults=FAULTS, seed=6)
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)  # recorded, not taken: the sandbox does not enforce them

    # 10 retries: with 30% faults per attempt, 11 faults in a row are a one-in-a-million.
    client = AuthenticatedClient(
        base_url=server.url,
        token=TOKEN,
        max_retries=10,
        retry_policy=RetryPolicy(async_sleep=wait),
    )

    async def run() -> tuple[list[int], list[Any]]:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def create(index: int) -> int:
            async with limit:
                response = await create_usage_event.asyncio_detailed(
                    client=client, body=event(index)
                )
            assert response.status_code in (200, 201), response.content
            return response.attempts

        async with client:
            attempts = await asyncio.gather(*(create(i) for i in range(EVENTS)))
            stored = [
                stored
                async for stored in list_usage_events.asyncio_all(
                    client=client,
                    start_time=START,
                    end_time=START + datetime.timedelta(seconds=EVENTS),
                    customer_id="cus_faulttest",
                    limit=100,
                )
            ]
        return attempts, stored

    attempts, stored = asyncio.run(run())

    assert len(stored) == EVENTS
    assert len({item.id for item in stored}) == EVENTS
    keys = {item.idempotency_key for item in stored}
    assert keys == {f"fault_test_{i:05d}" for i in range(EVENTS)}
    # The faults really happened, and the 429s' Retry-After was the wait.
    retried = sum(count - 1 for count in attempts)
    assert retried > 0.3 * EVENTS
    assert waits.count(1.0) > 0
