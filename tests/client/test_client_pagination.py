"""sync_all / asyncio_all: every matching event once, page by page, stopping at the end."""

from __future__ import annotations

import asyncio
import copy
import datetime
import itertools
from dataclasses import dataclass, field
from typing import Any

import httpx
from support.client_harness import BASE_URL, INSTANT_RETRIES, TOKEN
from support.spec_support import SPEC

from paygentic_client import AuthenticatedClient
from paygentic_client.api.usage_events import list_usage_events
from paygentic_client.models import UsageEvent

EVENT = SPEC["components"]["examples"]["BilledUsageEvent"]["value"]
FILTERS: dict[str, Any] = {
    "start_time": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
    "end_time": datetime.datetime(2024, 1, 31, tzinfo=datetime.UTC),
    "customer_id": "cus_abc123xyz",
}


@dataclass
class EventStore:
    """A fake listUsageEvents over `count` events; it checks the filters of every request."""

    count: int
    pages: list[tuple[int, int]] = field(default_factory=list)  # (offset, limit) asked for

    def handle(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert request.url.path == "/v0/usage"
        assert params["customerId"] == "cus_abc123xyz"
        assert params["startTime"] == FILTERS["start_time"].isoformat()
        offset, limit = int(params["offset"]), int(params["limit"])
        self.pages.append((offset, limit))
        data = [self.event(i) for i in range(offset, min(offset + limit, self.count))]
        pagination = {"limit": limit, "offset": offset, "total": self.count}
        body = {"object": "list", "data": data, "pagination": pagination}
        return httpx.Response(200, json=body)

    @staticmethod
    def event(index: int) -> dict[str, Any]:
        event: dict[str, Any] = copy.deepcopy(EVENT)
        event["id"] = f"usg_{index:06d}"
        return event

    def client(self) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=BASE_URL,
            token=TOKEN,
            httpx_args={"transport": httpx.MockTransport(self.handle)},
            retry_policy=INSTANT_RETRIES,
        )


EXPECTED_IDS = [f"usg_{i:06d}" for i in range(2500)]
EXPECTED_PAGES = [(offset, 100) for offset in range(0, 2500, 100)]


def test_sync_all_yields_each_of_2500_events_once() -> None:
    store = EventStore(2500)
    events = list_usage_events.sync_all(client=store.client(), limit=100, **FILTERS)
    ids = [event.id for event in events]
    assert ids == EXPECTED_IDS
    assert store.pages == EXPECTED_PAGES  # 25 pages, no request for an empty 26th


def test_asyncio_all_yields_each_of_2500_events_once() -> None:
    store = EventStore(2500)

    async def collect() -> list[UsageEvent]:
        iterator = list_usage_events.asyncio_all(client=store.client(), limit=100, **FILTERS)
        return [event async for event in iterator]

    ids = [event.id for event in asyncio.run(collect())]
    assert ids == EXPECTED_IDS
    assert store.pages == EXPECTED_PAGES


def test_pages_are_fetched_only_as_the_iteration_reaches_them() -> None:
    store = EventStore(2500)
    events = list_usage_events.sync_all(client=store.client(), limit=100, **FILTERS)
    assert store.pages == []
    first = list(itertools.islice(events, 150))
    assert [event.id for event in first] == EXPECTED_IDS[:150]
    assert store.pages == [(0, 100), (100, 100)]


def test_the_iteration_starts_at_the_given_offset_and_ends_on_a_short_page() -> None:
    store = EventStore(250)
    events = list(
        list_usage_events.sync_all(client=store.client(), limit=100, offset=50, **FILTERS)
    )
    assert [event.id for event in events] == [f"usg_{i:06d}" for i in range(50, 250)]
    assert store.pages == [(50, 100), (150, 100)]


def test_no_events_make_one_request() -> None:
    store = EventStore(0)
    assert list(list_usage_events.sync_all(client=store.client(), limit=100, **FILTERS)) == []
    assert store.pages == [(0, 100)]
