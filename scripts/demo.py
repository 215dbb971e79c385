"""A guided tour of the SDK against a local sandbox (run by scripts/demo).

Starts the sandbox on its embedded SQLite database (.sandbox/sandbox.db in the working
directory) with its public demo token, walks through every operation with the sync and the
asyncio functions of the generated client, and stops the sandbox. Every run uses fresh
idempotency keys and a fresh customer, so it can be repeated on the same database.
"""

from __future__ import annotations

import asyncio
import datetime
import sys
import uuid
from decimal import Decimal

from paygentic_sandbox import DEMO_MERCHANT_ID, DEMO_TOKEN, SandboxProcess

from paygentic_client import AuthenticatedClient, errors
from paygentic_client.api.usage_events import (
    batch_create_usage_events,
    create_usage_event,
    get_usage_event,
    list_usage_events,
    refund_usage_event,
)
from paygentic_client.models import (
    BatchCreateUsageEventsRequest,
    Billing,
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    Metadata,
    Refund,
    RefundUsageEventRequest,
    UsageEvent,
)

ATOMIC_UNITS_PER_DOLLAR = Decimal(10**9)


def main() -> int:
    run = uuid.uuid4().hex[:8]
    # No `db`: the sandbox's embedded default, .sandbox/sandbox.db in the working directory.
    with SandboxProcess(db=None) as sandbox:
        print(f"Sandbox running at {sandbox.url} (database .sandbox/sandbox.db)")
        print(f"Demo token {DEMO_TOKEN!r} acts for merchant {DEMO_MERCHANT_ID}.\n")
        with AuthenticatedClient(base_url=sandbox.url, token=DEMO_TOKEN) as client:
            event = create_and_repeat(client, run)
            asyncio.run(batch_and_list(sandbox.url, run))
            get_and_refund(client, event.id)
            asyncio.run(refund_again(sandbox.url, event.id))
    print("\nSandbox stopped. Run scripts/demo again: every run uses new idempotency keys.")
    return 0


def step(number: int, title: str, code: str) -> None:
    print(f"{number}. {title}\n   {code}")


def create_and_repeat(client: AuthenticatedClient, run: str) -> UsageEvent:
    request = CreateUsageEventRequest(
        idempotency_key=f"demo-{run}-llm-call",
        customer_id=f"cus_demo{run}",
        merchant_id=DEMO_MERCHANT_ID,
        timestamp=datetime.datetime.now(datetime.UTC),
        properties=[
            CreateUsageEventRequestProperty(
                billable_metric_id="bm_input_tokens", quantity=1500, price="0.000003"
            ),
            CreateUsageEventRequestProperty(
                billable_metric_id="bm_output_tokens", quantity=800, price="0.000015"
            ),
        ],
        metadata=Metadata.from_dict({"model_name": "claude-3-opus"}),
    )
    step(1, "Create a usage event", "create_usage_event.sync(client=client, body=request)")
    event = create_usage_event.sync(client=client, body=request)
    print(f"   -> {event.id} for {event.customer_id}, {describe_billing(event)}")

    step(2, "Send the same event again (same idempotency key)", "create_usage_event.sync(...)")
    again = create_usage_event.sync(client=client, body=request)
    same = "the same event, billed once" if again.id == event.id else "A DIFFERENT EVENT"
    print(f"   -> {again.id}: {same}\n")
    return event


def describe_billing(event: UsageEvent) -> str:
    billing = event.billing
    if not isinstance(billing, Billing) or not isinstance(billing.price, int):
        return "not billed yet"
    dollars = Decimal(billing.price) / ATOMIC_UNITS_PER_DOLLAR
    return f"billed ${dollars.normalize()} {billing.currency} ({billing.billing_event_id})"


async def batch_and_list(base_url: str, run: str) -> None:
    customer = f"cus_demobatch{run}"
    start = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    events = [
        {
            "idempotencyKey": f"demo-{run}-gpu-{index}",
            "customerId": customer,
            "merchantId": DEMO_MERCHANT_ID,
            "timestamp": (start + datetime.timedelta(seconds=index)).isoformat(),
            "properties": [{"billableMetricId": "bm_gpu_hours", "quantity": quantity}],
        }
        for index, quantity in enumerate([2.5, 0, 1, 4])
    ]
    async with AuthenticatedClient(base_url=base_url, token=DEMO_TOKEN) as client:
        step(
            3,
            "A batch of 4 events; the second has quantity 0, below the minimum of 1",
            "await batch_create_usage_events.asyncio(client=client, body=batch)",
        )
        result = await batch_create_usage_events.asyncio(
            client=client, body=BatchCreateUsageEventsRequest.from_dict({"events": events})
        )
        summary = result.summary
        print(f"   -> 207: {summary.successful} created, {summary.failed} failed")
        for failure in result.failed:
            print(f"      events[{failure.index}] ({failure.idempotency_key}): {failure.error}")

        step(
            4,
            f"List {customer}'s events, 2 per page",
            "await list_usage_events.asyncio(client=client, customer_id=..., limit=2, offset=...)",
        )
        offset = 0
        while True:
            page = await list_usage_events.asyncio(
                client=client,
                start_time=start,
                end_time=start + datetime.timedelta(minutes=1),
                customer_id=customer,
                limit=2,
                offset=offset,
            )
            ids = ", ".join(f"{event.id} ({event.properties[0].quantity} h)" for event in page.data)
            print(f"   page at offset {offset}: {ids}  (total {page.pagination.total})")
            offset += page.pagination.limit
            if offset >= page.pagination.total:
                break
    print()


def get_and_refund(client: AuthenticatedClient, event_id: str) -> None:
    step(5, "Get the first event back", f'get_usage_event.sync("{event_id}", client=client)')
    event = get_usage_event.sync(event_id, client=client)
    print(f"   -> {event.id}, created at {event.created_at:%Y-%m-%d %H:%M:%S} UTC")

    step(6, "Refund it", "refund_usage_event.sync(event_id, client=client, body=...)")
    refunded = refund_usage_event.sync(
        event_id,
        client=client,
        body=RefundUsageEventRequest(refunded=True, reason="The generation failed"),
    )
    assert isinstance(refunded.refund, Refund)
    when = f"{refunded.refund.refunded_at:%H:%M:%S}"
    print(f"   -> refunded at {when} UTC, reason: {refunded.refund.reason}")


async def refund_again(base_url: str, event_id: str) -> None:
    step(7, "Refund it again", "await refund_usage_event.asyncio(...)  # raises")
    async with AuthenticatedClient(base_url=base_url, token=DEMO_TOKEN) as client:
        try:
            await refund_usage_event.asyncio(
                event_id, client=client, body=RefundUsageEventRequest(refunded=True)
            )
        except errors.UnprocessableEntityError as error:
            print(f"   -> caught {type(error).__name__}: {error}")
            return
    raise SystemExit("a second refund was accepted")


if __name__ == "__main__":
    sys.exit(main())
