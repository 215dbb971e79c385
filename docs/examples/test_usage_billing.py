"""A user's test file: an app's billing code tested against the Paygentic sandbox.

Its only set-up is `pip install paygentic-sandbox pytest` beside paygentic-client: the
sandbox's pytest plugin gives each test a sandbox merchant of its own (`paygentic_sandbox`),
and the test builds its client from that sandbox's `url` and `token`.
"""

from __future__ import annotations

import asyncio
import datetime

from paygentic_sandbox import Sandbox
from paygentic_sandbox.pytest_plugin import SandboxFactory

from paygentic_client import AuthenticatedClient, RetryPolicy, UsageIngester
from paygentic_client.api.usage_events import create_usage_event, get_usage_event
from paygentic_client.models import CreateUsageEventRequest

# The sandbox answers at once: retry after milliseconds, not the production half-second.
FAST_RETRIES = RetryPolicy(backoff_initial=0.01, backoff_max=0.05)


def api_calls(merchant_id: str, customer_id: str, key: str, calls: int) -> CreateUsageEventRequest:
    """What the app under test sends when a customer used its API (the code you test)."""
    return CreateUsageEventRequest.from_dict(
        {
            "idempotencyKey": key,
            "customerId": customer_id,
            "merchantId": merchant_id,
            "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
            "properties": [{"billableMetricId": "bm_api_calls", "quantity": calls}],
        }
    )


def client_for(sandbox: Sandbox) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=sandbox.url, token=sandbox.token, retry_policy=FAST_RETRIES)


def test_a_repeated_charge_is_recorded_once(paygentic_sandbox: Sandbox) -> None:
    event = api_calls(paygentic_sandbox.merchant_id, "cus_alice", "request-42", calls=3)
    with client_for(paygentic_sandbox) as client:
        first = create_usage_event.sync(client=client, body=event)
        again = create_usage_event.sync(client=client, body=event)  # e.g. a retried request
    assert again.id == first.id
    (stored,) = paygentic_sandbox.events(customer_id="cus_alice")
    assert stored["properties"][0]["quantity"] == 3


def test_the_async_client(paygentic_sandbox: Sandbox) -> None:
    async def bill() -> str:
        async with client_for(paygentic_sandbox) as client:
            event = api_calls(paygentic_sandbox.merchant_id, "cus_bob", "request-7", calls=1)
            created = await create_usage_event.asyncio(client=client, body=event)
            fetched = await get_usage_event.asyncio(created.id, client=client)
            return fetched.id

    event_id = asyncio.run(bill())
    assert [event["id"] for event in paygentic_sandbox.events()] == [event_id]


def test_the_ingester_bills_each_call_once_through_faults(paygentic_sandbox: Sandbox) -> None:
    # One request in five answered 503, one in ten stored but never answered: the ingester
    # resends, and the idempotency keys keep every event single.
    with (
        paygentic_sandbox.faults("503=0.2,drop-after-commit=0.1", seed=7),
        client_for(paygentic_sandbox) as client,
        UsageIngester(client, max_batch_size=25, flush_interval=0.05) as ingester,
    ):
        handles = [
            ingester.submit(api_calls(paygentic_sandbox.merchant_id, "cus_carol", f"job-{n}", 1))
            for n in range(200)
        ]
    # Leaving the block flushed the ingester: every handle has its answer.
    assert all(handle.result().id.startswith("usg_") for handle in handles)
    keys = sorted(event["idempotencyKey"] for event in paygentic_sandbox.events())
    assert keys == sorted(f"job-{n}" for n in range(200))


def test_a_sandbox_of_its_own_with_production_nulls(
    paygentic_sandbox_factory: SandboxFactory,
) -> None:
    # Server-wide options need a server of the test's own: here `null` for every optional
    # field without a value, as production's published examples show.
    sandbox = paygentic_sandbox_factory(null_optionals=True)
    with client_for(sandbox) as client:
        event = api_calls(sandbox.merchant_id, "cus_dave", "request-1", calls=2)
        created = create_usage_event.sync(client=client, body=event)
    assert created.refund is None
    assert sandbox.events()[0]["refund"] is None
