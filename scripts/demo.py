"""A guided tour of the SDK against a local sandbox (run by scripts/demo).

Starts the sandbox on its embedded SQLite database (.sandbox/sandbox.db in the working
directory) with its public demo token, walks through every operation with the sync and the
asyncio functions of the generated client, then has a UsageIngester with a spool deliver
10,000 events (the main job, as a user meets it) with a progress line and its throughput,
and stops the sandbox. Every run uses fresh idempotency keys and a fresh customer, so it can
be repeated on the same database.

`--keep` leaves the sandbox running at the end and prints the dashboard's URL and a token
to sign in with.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import shutil
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

from paygentic_sandbox import DEMO_MERCHANT_ID, DEMO_TOKEN, SandboxProcess

from paygentic_client import AuthenticatedClient, UsageIngester, errors
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


INGESTED_EVENTS = 10_000
SANDBOX_DIR = Path(".sandbox")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A guided tour of the SDK against a sandbox.")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the sandbox running and print the dashboard's URL and a token",
    )
    args = parser.parse_args(argv)
    run = uuid.uuid4().hex[:8]
    # No `db`: the sandbox's embedded default, .sandbox/sandbox.db in the working directory.
    # With --keep its log goes to a file: this terminal may be gone while it runs.
    log = SANDBOX_DIR / "sandbox.log" if args.keep else None
    SANDBOX_DIR.mkdir(exist_ok=True)
    sandbox = SandboxProcess(db=None, log=log, detached=args.keep)
    sandbox.start()
    try:
        print(f"Sandbox running at {sandbox.url} (database .sandbox/sandbox.db)")
        print(f"Demo token {DEMO_TOKEN!r} acts for merchant {DEMO_MERCHANT_ID}.\n")
        with AuthenticatedClient(base_url=sandbox.url, token=DEMO_TOKEN) as client:
            event = create_and_repeat(client, run)
            asyncio.run(batch_and_list(sandbox.url, run))
            get_and_refund(client, event.id)
            asyncio.run(refund_again(sandbox.url, event.id))
            ingest_with_a_spool(client, run)
    except BaseException:
        sandbox.stop()
        raise
    if args.keep:
        print(f"\nThe sandbox keeps running (pid {sandbox.pid}); its log: {log}.")
        print(f"Dashboard: {sandbox.url}/_sandbox/  (sign in with the token {DEMO_TOKEN})")
        print(f"Stop it with: kill {sandbox.pid}")
        return 0
    sandbox.stop()
    print("\nSandbox stopped. Run scripts/demo again: every run uses new idempotency keys.")
    print("scripts/demo --keep leaves it running, to look at the events in its dashboard.")
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


def ingest_with_a_spool(client: AuthenticatedClient, run: str) -> None:
    spool = SANDBOX_DIR / f"demo-{run}.spool"
    step(
        8,
        f"{INGESTED_EVENTS:,} events through a UsageIngester with a spool",
        f'UsageIngester(client, spool="{spool}")  # on disk first, then batched',
    )
    customer = f"cus_demoingest{run}"
    now = datetime.datetime.now(datetime.UTC).isoformat()
    requests = [
        CreateUsageEventRequest.from_dict(
            {
                "idempotencyKey": f"demo-{run}-call-{n}",
                "customerId": customer,
                "merchantId": DEMO_MERCHANT_ID,
                "timestamp": now,
                "properties": [{"billableMetricId": "bm_api_calls", "quantity": 1}],
            }
        )
        for n in range(INGESTED_EVENTS)
    ]
    started = time.perf_counter()
    with UsageIngester(client, spool=spool) as ingester:
        handles = [ingester.submit(request) for request in requests]
        # A progress line until everything is delivered (the ingester sends in the
        # background; stats() is a snapshot of its counters).
        while (stats := ingester.stats()).delivered + stats.failed < INGESTED_EVENTS:
            progress(stats.delivered, time.perf_counter() - started)
            time.sleep(0.1)
    elapsed = time.perf_counter() - started
    progress(ingester.stats().delivered, elapsed, final=True)
    ids = {handle.result().id for handle in handles}
    print(f"   -> {len(ids):,} events stored, each once, {INGESTED_EVENTS / elapsed:,.0f} events/s")
    # The spool file, its -wal/-shm companions and its directory of liveness locks (.d).
    for path in SANDBOX_DIR.glob(f"demo-{run}.spool*"):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def progress(delivered: int, elapsed: float, final: bool = False) -> None:
    rate = delivered / elapsed if elapsed > 0 else 0.0
    line = f"   delivered {delivered:>6,} / {INGESTED_EVENTS:,}  {rate:>8,.0f} events/s"
    # One line rewritten in a terminal; in a log (CI), only the last.
    if sys.stdout.isatty():
        print("\r" + line, end="\n" if final else "", flush=True)
    elif final:
        print(line)


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
