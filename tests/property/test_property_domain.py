"""Properties of the domain, through the generated client against the sandbox:

- creating any valid event twice gives the same event (same id);
- a batch in which any subset of the events is invalid reports exactly those indexes in
  `failed` and creates exactly the others;
- paging through any list with any `limit` returns every matching event exactly once, in the
  documented order (timestamp, then id).

Valid and invalid events are drawn by schemathesis from openapi.yaml (positive and negative
bodies of createUsageEvent); whether a body is valid is decided by the spec's own schema.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paygentic_sandbox import SandboxProcess
from schemathesis import GenerationMode
from support.property_support import (
    budget,
    count_case,
    json_object,
    load_schema,
    scope_idempotency_keys,
)
from support.sandbox_fixture import MERCHANT_ID, TOKEN
from support.spec_support import validator_for

from paygentic_client import AuthenticatedClient
from paygentic_client.api.usage_events import (
    batch_create_usage_events,
    create_usage_event,
    get_usage_event,
    list_usage_events,
)
from paygentic_client.models import (
    BatchCreateUsageEventsRequest,
    BatchUsageEventResponse,
    CreateUsageEventRequest,
    UsageEvent,
)

schema = load_schema()
CREATE = schema.find_operation_by_id("createUsageEvent")
EVENT_SCHEMA = validator_for({"$ref": "#/components/schemas/CreateUsageEventRequest"})


def examples(count: int) -> settings:
    return settings(
        max_examples=budget(count),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def valid_events() -> st.SearchStrategy[dict[str, Any]]:
    # The schema's date-time allows '0001-01-01T00:00:00+00:01', an instant before year 1 in
    # UTC, which the API refuses (instants are stored in UTC, years 1 to 9999): not valid here.
    return CREATE.as_strategy().map(json_object).filter(_instant_in_utc_years)


def _instant_in_utc_years(event: dict[str, Any]) -> bool:
    try:
        datetime.datetime.fromisoformat(event["timestamp"]).astimezone(datetime.UTC)
    except (OverflowError, ValueError):
        return False
    return True


def invalid_events() -> st.SearchStrategy[Any]:
    # Negative cases may also be negative elsewhere than in the body, or have a body that is
    # not JSON at all: keep the JSON bodies that the spec's schema rejects.
    bodies = CREATE.as_strategy(GenerationMode.NEGATIVE).map(lambda case: case.body)
    return bodies.filter(lambda body: _is_json(body) and not EVENT_SCHEMA.is_valid(body))


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


@pytest.fixture(scope="module")
def client(client_sandbox: SandboxProcess) -> Iterator[AuthenticatedClient]:
    with AuthenticatedClient(base_url=client_sandbox.url, token=TOKEN) as client:
        yield client


@examples(40)
@given(body=valid_events())
def test_creating_an_event_twice_gives_the_same_event(
    client: AuthenticatedClient, body: dict[str, Any]
) -> None:
    count_case("test_creating_an_event_twice_gives_the_same_event")
    # A key never used before, even when Hypothesis replays this example.
    scope_idempotency_keys(body, uuid.uuid4().hex)
    request = CreateUsageEventRequest.from_dict(body)
    first = create_usage_event.sync_detailed(client=client, body=request)
    second = create_usage_event.sync_detailed(client=client, body=request)
    assert first.status_code == second.status_code == 201, first.content
    assert isinstance(first.parsed, UsageEvent) and isinstance(second.parsed, UsageEvent)
    assert second.parsed.id == first.parsed.id
    assert second.parsed.to_dict() == first.parsed.to_dict()
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[Any], set[int]]:
    """Events, and the indexes of the invalid ones among them."""
    size = draw(st.integers(min_value=1, max_value=8))
    invalid = draw(st.sets(st.integers(min_value=0, max_value=size - 1)))
    events = [draw(invalid_events() if i in invalid else valid_events()) for i in range(size)]
    return events, invalid


@examples(30)
@given(batch=batches())
def test_a_batch_creates_exactly_its_valid_events(
    client: AuthenticatedClient, batch: tuple[list[Any], set[int]]
) -> None:
    count_case("test_a_batch_creates_exactly_its_valid_events")
    events, invalid = batch
    scope = uuid.uuid4().hex
    for index, event in enumerate(events):
        if index not in invalid:
            # Keys never used before, and one per event (a key repeated in a batch is one
            # event by design).
            event["idempotencyKey"] = f"batch-{scope}-{index}"
    status, result, content = _send_batch(client, events)
    assert status == (207 if invalid else 201), content
    assert result is not None
    assert [failure.index for failure in result.failed] == sorted(invalid)
    valid = [event for index, event in enumerate(events) if index not in invalid]
    assert [event.idempotency_key for event in result.successful] == [
        event["idempotencyKey"] for event in valid
    ]
    assert (result.summary.total, result.summary.successful, result.summary.failed) == (
        len(events),
        len(valid),
        len(invalid),
    )
    for created in result.successful:
        assert get_usage_event.sync(created.id, client=client).to_dict() == created.to_dict()


def _send_batch(client: AuthenticatedClient, events: list[Any]) -> Any:
    # The request model cannot hold an invalid event (`from_dict` rejects it), so the body goes
    # through the client's own httpx client; the answer is parsed by the generated model.
    response = client.get_httpx_client().post("/v0/usage/batch", json={"events": events})
    parsed = BatchUsageEventResponse.from_dict(response.json()) if response.is_success else None
    return response.status_code, parsed, response.content


BASE_TIME = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)


@st.composite
def stored_events(draw: st.DrawFn) -> list[datetime.datetime]:
    # Few distinct seconds, so that many events share a timestamp and the order falls back on
    # the id.
    seconds = st.integers(min_value=0, max_value=20)
    return [BASE_TIME + datetime.timedelta(seconds=s) for s in draw(st.lists(seconds, max_size=30))]


@examples(30)
@given(
    timestamps=stored_events(),
    limit=st.integers(min_value=1, max_value=100),
    window=st.tuples(st.integers(0, 20), st.integers(0, 20)).map(sorted),
    by_subscription=st.booleans(),
    use_async=st.booleans(),
)
def test_paging_returns_every_matching_event_once(
    client_sandbox: SandboxProcess,
    client: AuthenticatedClient,
    timestamps: list[datetime.datetime],
    limit: int,
    window: list[int],
    by_subscription: bool,
    use_async: bool,
) -> None:
    count_case("test_paging_returns_every_matching_event_once")
    customer = f"cus_{uuid.uuid4().hex}"
    created = _create_events(client, customer, timestamps)
    start, end = (BASE_TIME + datetime.timedelta(seconds=s) for s in window)
    expected = sorted(
        (event for event in created if start <= event.timestamp <= end),
        key=lambda event: (event.timestamp, event.id),
    )
    if by_subscription and created:
        filters = {"subscription_id": created[0].subscription_id}
    else:
        filters = {"customer_id": customer}
    if use_async:
        pages = asyncio.run(_all_pages_async(client_sandbox.url, start, end, limit, filters))
    else:
        pages = _all_pages(client, start, end, limit, filters)
    seen = [event for page in pages for event in page.data]
    assert [event.id for event in seen] == [event.id for event in expected]
    assert all(page.pagination.total == len(expected) for page in pages)
    assert all(len(page.data) <= limit for page in pages)


def _create_events(
    client: AuthenticatedClient, customer: str, timestamps: list[datetime.datetime]
) -> list[UsageEvent]:
    if not timestamps:
        return []
    body = {
        "events": [
            {
                "idempotencyKey": f"page-{customer}-{index}",
                "customerId": customer,
                "merchantId": MERCHANT_ID,
                "timestamp": timestamp.isoformat(),
                "properties": [{"billableMetricId": "bm_calls", "quantity": 1}],
            }
            for index, timestamp in enumerate(timestamps)
        ]
    }
    result = batch_create_usage_events.sync(
        client=client, body=BatchCreateUsageEventsRequest.from_dict(body)
    )
    assert result.summary.failed == 0
    return result.successful


def _all_pages(
    client: AuthenticatedClient,
    start: datetime.datetime,
    end: datetime.datetime,
    limit: int,
    filters: dict[str, Any],
) -> list[Any]:
    pages = []
    offset = 0
    while True:
        page = list_usage_events.sync(
            client=client, start_time=start, end_time=end, limit=limit, offset=offset, **filters
        )
        pages.append(page)
        offset += limit
        if offset >= page.pagination.total:
            return pages


async def _all_pages_async(
    base_url: str,
    start: datetime.datetime,
    end: datetime.datetime,
    limit: int,
    filters: dict[str, Any],
) -> list[Any]:
    pages = []
    offset = 0
    # An httpx.AsyncClient belongs to one event loop: a client of its own for this one.
    async with AuthenticatedClient(base_url=base_url, token=TOKEN) as fresh:
        while True:
            page = await list_usage_events.asyncio(
                client=fresh, start_time=start, end_time=end, limit=limit, offset=offset, **filters
            )
            pages.append(page)
            offset += limit
            if offset >= page.pagination.total:
                return pages
