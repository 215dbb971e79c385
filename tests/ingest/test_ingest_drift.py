"""The ingesters against answers of a newer API: an event the answer says was created is
delivered even when it carries fields and enum values this client does not know, and its
handle's result() is the lenient model (unknown values kept, every field of its type)."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any

import httpx
import pytest

from paygentic_client import AsyncUsageIngester, AuthenticatedClient, UsageIngester
from paygentic_client.models import (
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    Dispute,
    DisputeStatus,
    UsageEvent,
    UsageEventProperty,
)

BASE_URL = "https://api.test.invalid"


def request(i: int) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=f"key-{i}",
        customer_id="cus_1",
        merchant_id="org_1",
        timestamp=datetime.datetime(2024, 1, 15, 10, 30, i, tzinfo=datetime.UTC),
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_1", quantity=2)],
    )


def drifted(event: dict[str, Any]) -> dict[str, Any]:
    """The event a newer API stores for a request: extra fields at every level and a dispute
    status this client does not know. Its id comes from its key (key-3 -> usg_3), whichever
    batch the ingester sent it in."""
    stamp = "2024-01-15T10:31:00Z"
    i = event["idempotencyKey"].removeprefix("key-")
    return {
        "id": f"usg_{i}",
        "object": "usageEvent",
        "idempotencyKey": event["idempotencyKey"],
        "customerId": event["customerId"],
        "merchantId": event["merchantId"],
        "subscriptionId": "sub_1",
        "timestamp": event["timestamp"],
        "createdAt": stamp,
        "properties": [{**p, "price": None, "unit": "tokens"} for p in event["properties"]],
        "region": "eu-west-1",
        "dispute": {
            "id": f"dsp_{i}",
            "object": "dispute",
            "usageEventId": f"usg_{i}",
            "customerId": event["customerId"],
            "merchantId": event["merchantId"],
            "status": "escalated",
            "escalation": {"level": 2},
            "createdAt": stamp,
            "updatedAt": stamp,
        },
    }


def answer(request: httpx.Request) -> httpx.Response:
    events = json.loads(request.content)["events"]
    body = {
        "object": "batchUsageEvents",
        "successful": [drifted(event) for event in events],
        "failed": [],
        "summary": {"total": len(events), "successful": len(events), "failed": 0, "v2": 1},
        "requestId": "req_1",
    }
    return httpx.Response(201, json=body)


def client() -> AuthenticatedClient:
    transport = httpx.MockTransport(answer)
    return AuthenticatedClient(base_url=BASE_URL, token="t", httpx_args={"transport": transport})


def check_delivered(event: UsageEvent, i: int) -> None:
    assert isinstance(event, UsageEvent) and event.id == f"usg_{i}"
    assert event.additional_properties == {"region": "eu-west-1"}
    (prop,) = event.properties
    assert isinstance(prop, UsageEventProperty) and prop.additional_properties["unit"] == "tokens"
    assert isinstance(event.dispute, Dispute)
    status = event.dispute.status
    assert isinstance(status, DisputeStatus) and status == "escalated"
    assert event.dispute.additional_properties == {"escalation": {"level": 2}}


@pytest.mark.timeout(30)
def test_the_threaded_ingester_delivers_events_with_unknown_values() -> None:
    with UsageIngester(client(), flush_interval=0.01) as ingester:
        handles = [ingester.submit(request(i)) for i in range(3)]
        for i, handle in enumerate(handles):
            check_delivered(handle.result(timeout=20), i)


@pytest.mark.timeout(30)
def test_the_asyncio_ingester_delivers_events_with_unknown_values() -> None:
    async def deliver() -> list[UsageEvent]:
        async with AsyncUsageIngester(client(), flush_interval=0.01) as ingester:
            handles = [await ingester.submit(request(i)) for i in range(3)]
            return [await handle for handle in handles]

    for i, event in enumerate(asyncio.run(deliver())):
        check_delivered(event, i)
