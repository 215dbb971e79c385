"""`paygentic-sandbox --drift SEED` answers as a newer API might (extra fields in every object,
unknown dispute statuses), and the client reads it: leniently by default, refusing it with
`strict_responses=True`. The app runs in this process (httpx's ASGI transport)."""

from __future__ import annotations

import asyncio
import datetime
import json
from typing import Any

import httpx
import pytest
from paygentic_sandbox.__main__ import parser
from paygentic_sandbox.app import create_app
from paygentic_sandbox.drift import UNKNOWN_DISPUTE_STATUSES, Drift
from support.sandbox_fixture import MERCHANT_ID, TOKEN, TOKENS

from paygentic_client import AuthenticatedClient
from paygentic_client.api.usage_events import (
    batch_create_usage_events,
    create_usage_event,
    get_usage_event,
    list_usage_events,
)
from paygentic_client.errors import ResponseValidationError
from paygentic_client.models import (
    BatchCreateUsageEventsRequest,
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    Dispute,
    DisputeStatus,
    UsageEvent,
)

SEED = 11
AT = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.UTC)


def request(key: str) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=key,
        customer_id="cus_drift",
        merchant_id=MERCHANT_ID,
        timestamp=AT,
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_1", quantity=3)],
    )


def client(*, strict: bool = False) -> AuthenticatedClient:
    app = create_app(tokens=TOKENS, drift=SEED)
    return AuthenticatedClient(
        base_url="http://sandbox.in-process",
        token=TOKEN,
        httpx_args={"transport": httpx.ASGITransport(app=app)},
        strict_responses=strict,
    )


def test_the_flag_is_parsed() -> None:
    assert parser().parse_args(["--drift", "7"]).drift == 7
    assert parser().parse_args([]).drift is None


def test_every_object_gets_the_seeds_fields_and_a_dispute_an_unknown_status() -> None:
    drift = Drift(SEED)
    body = {"a": {"b": [{"object": "dispute", "status": "pending"}]}}
    drifted = json.loads(drift.content(json.dumps(body)))
    for level in (drifted, drifted["a"], drifted["a"]["b"][0]):
        assert level[drift.scalar_key] == SEED and drift.object_key in level
    assert drifted["a"]["b"][0]["status"] in UNKNOWN_DISPUTE_STATUSES
    assert drift.content("not json") == "not json"
    # The caller's metadata (string values) is echoed as it was sent.
    assert json.loads(drift.content('{"metadata": {"a": "b"}}'))["metadata"] == {"a": "b"}
    assert Drift(SEED).scalar_key == drift.scalar_key  # the same names for a seed


@pytest.mark.timeout(30)
def test_the_client_reads_a_drifted_sandbox_leniently_and_keeps_what_it_does_not_know() -> None:
    key = Drift(SEED).scalar_key

    async def scenario() -> None:
        async with client() as lenient:
            event = await create_usage_event.asyncio(client=lenient, body=request("k1"))
            assert event.additional_properties[key] == SEED
            assert event.properties[0].additional_properties[key] == SEED
            fetched = await get_usage_event.asyncio(client=lenient, id=event.id)
            assert fetched.additional_properties[key] == SEED
            page = await list_usage_events.asyncio(
                client=lenient,
                start_time=AT - datetime.timedelta(days=1),
                end_time=AT + datetime.timedelta(days=1),
                customer_id="cus_drift",
            )
            assert page.additional_properties[key] == SEED
            assert page.pagination.additional_properties[key] == SEED
            assert [e.id for e in page.data] == [event.id]
            batch = await batch_create_usage_events.asyncio(
                client=lenient,
                body=BatchCreateUsageEventsRequest(events=[request("k2"), request("k3")]),
            )
            assert batch.summary.additional_properties[key] == SEED
            assert all(isinstance(e, UsageEvent) for e in batch.successful)
            assert event.to_dict()[key] == SEED

    asyncio.run(scenario())


@pytest.mark.timeout(30)
def test_a_strict_client_refuses_a_drifted_sandbox_naming_the_field() -> None:
    key = Drift(SEED).scalar_key

    async def scenario() -> None:
        async with client(strict=True) as strict:
            with pytest.raises(ResponseValidationError) as raised:
                await create_usage_event.asyncio(client=strict, body=request("k1"))
            assert raised.value.path in (key, f"{key}Details") and raised.value.status_code == 201
            assert "the event was recorded" in str(raised.value)

    asyncio.run(scenario())


def test_a_drifted_dispute_reads_as_an_unknown_status() -> None:
    drift = Drift(SEED)
    dispute: dict[str, Any] = {
        "id": "dsp_1",
        "object": "dispute",
        "usageEventId": "usg_1",
        "customerId": "cus_1",
        "merchantId": "org_1",
        "status": "pending",
        "createdAt": "2024-05-01T12:00:00Z",
        "updatedAt": "2024-05-01T12:00:00Z",
    }
    parsed = Dispute.from_dict(json.loads(drift.content(json.dumps(dispute))))
    assert isinstance(parsed.status, DisputeStatus) and parsed.status == drift.dispute_status
