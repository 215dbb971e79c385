"""A key reused for a different event is caught, not answered with someone else's event
(issue 13): create, batch create and both ingesters, against the sandbox."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
from paygentic_sandbox.process import SandboxProcess
from support.sandbox_fixture import MERCHANT_ID, TOKEN

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester, errors
from paygentic_client.api.usage_events import batch_create_usage_events, create_usage_event
from paygentic_client.models import (
    BatchCreateUsageEventsRequest,
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
)

STAMP = datetime.datetime(2024, 5, 1, 9, 0, tzinfo=datetime.UTC)


def event(
    key: str, *, customer: str = "cus_first", quantity: float = 3, at: datetime.datetime = STAMP
) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=key,
        customer_id=customer,
        merchant_id=MERCHANT_ID,
        timestamp=at,
        properties=[
            CreateUsageEventRequestProperty(billable_metric_id="bm_calls", quantity=quantity)
        ],
    )


def client_of(sandbox: SandboxProcess) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=sandbox.url, token=TOKEN)


def test_the_same_event_again_is_its_replay(sandbox: SandboxProcess) -> None:
    client = client_of(sandbox)
    first = create_usage_event.sync(client=client, body=event("rp_same"))
    # The same instant in another offset is the same event.
    other_offset = STAMP.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    again = create_usage_event.sync(client=client, body=event("rp_same", at=other_offset))
    assert again.id == first.id


@pytest.mark.parametrize(
    "changed",
    [
        {"customer": "cus_second"},
        {"quantity": 4},
        {"at": STAMP + datetime.timedelta(seconds=1)},
    ],
    ids=["customer", "quantity", "timestamp"],
)
def test_a_create_answered_with_another_event_raises(
    sandbox: SandboxProcess, changed: dict[str, Any]
) -> None:
    client = client_of(sandbox)
    key = f"rp_create_{'_'.join(changed)}"
    create_usage_event.sync(client=client, body=event(key))
    with pytest.raises(errors.IdempotencyConflictError) as raised:
        create_usage_event.sync(client=client, body=event(key, **changed))
    message = str(raised.value)
    assert key in message and "was not recorded" in message
    assert "customer cus_first" in message  # what is stored ...
    assert raised.value.idempotency_key == key
    # ... and the detailed call still returns the answer as it came, without raising.
    detailed = create_usage_event.sync_detailed(client=client, body=event(key, **changed))
    assert detailed.headers.get("idempotent-replayed") == "true"

    async def async_create() -> None:
        async with client_of(sandbox) as fresh:
            await create_usage_event.asyncio(client=fresh, body=event(key, **changed))

    with pytest.raises(errors.IdempotencyConflictError):
        asyncio.run(async_create())


def test_a_batch_answered_with_another_event_raises(sandbox: SandboxProcess) -> None:
    client = client_of(sandbox)
    create_usage_event.sync(client=client, body=event("rp_batch_1"))
    body = BatchCreateUsageEventsRequest(
        events=[event("rp_batch_1", customer="cus_other"), event("rp_batch_2")]
    )
    with pytest.raises(errors.IdempotencyConflictError) as raised:
        batch_create_usage_events.sync(client=client, body=body)
    assert "rp_batch_1" in str(raised.value) and "rp_batch_2" not in str(raised.value)


def test_the_ingesters_fail_just_the_conflicting_handle(sandbox: SandboxProcess) -> None:
    client = client_of(sandbox)
    create_usage_event.sync(client=client, body=event("rp_ingest_1"))
    with UsageIngester(client, flush_interval=0.05) as ingester:
        conflicting = ingester.submit(event("rp_ingest_1", quantity=9))
        fine = ingester.submit(event("rp_ingest_2"))
    with pytest.raises(errors.IdempotencyConflictError, match="rp_ingest_1"):
        conflicting.result(timeout=30)
    assert fine.result(timeout=30).idempotency_key == "rp_ingest_2"
    assert ingester.stats().failed == 1

    async def main() -> None:
        async with (
            client_of(sandbox) as fresh,
            AsyncUsageIngester(fresh, flush_interval=0.05) as aingester,
        ):
            handle = await aingester.submit(event("rp_ingest_1", customer="cus_x"))
        with pytest.raises(errors.IdempotencyConflictError):
            await handle

    asyncio.run(main())
