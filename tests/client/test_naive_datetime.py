"""A naive datetime in a request body or query is refused before anything is sent."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
from support.client_harness import OPERATIONS, FakeApi

from paygentic_client import errors
from paygentic_client.ingest import UsageIngester
from paygentic_client.models import BatchCreateUsageEventsRequest, CreateUsageEventRequest

NAIVE = datetime.datetime(2024, 1, 15, 10, 30)


def with_naive_datetime(operation_id: str) -> dict[str, Any]:
    kwargs = OPERATIONS[operation_id].kwargs()
    body = kwargs.get("body")
    if isinstance(body, CreateUsageEventRequest):
        body.timestamp = NAIVE
    elif isinstance(body, BatchCreateUsageEventsRequest):
        body.events[-1].timestamp = NAIVE
    else:
        kwargs["start_time"] = NAIVE
    return kwargs


@pytest.mark.parametrize("operation_id", ["createUsageEvent", "batchCreateUsageEvents"])
@pytest.mark.parametrize("face", ["sync", "asyncio"])
def test_a_naive_timestamp_in_a_body_is_refused_unsent(operation_id: str, face: str) -> None:
    api = FakeApi.json(201, {})
    function = getattr(OPERATIONS[operation_id].module, face)
    kwargs = with_naive_datetime(operation_id)

    with pytest.raises(errors.NaiveDatetimeError) as raised:
        if face == "asyncio":
            asyncio.run(function(client=api.client(), **kwargs))
        else:
            function(client=api.client(), **kwargs)

    assert api.requests == []
    assert isinstance(raised.value, ValueError)
    assert "2024-01-15T10:30:00 has no UTC offset" in str(raised.value)
    assert "datetime.now(timezone.utc)" in str(raised.value)


def test_a_naive_query_datetime_is_refused_unsent() -> None:
    api = FakeApi.json(200, {})
    kwargs = with_naive_datetime("listUsageEvents")

    with pytest.raises(errors.NaiveDatetimeError, match="datetime.now\\(timezone.utc\\)"):
        OPERATIONS["listUsageEvents"].module.sync(client=api.client(), **kwargs)

    assert api.requests == []


def test_aware_datetimes_in_any_zone_are_sent() -> None:
    api = FakeApi.json(
        200, {"object": "list", "data": [], "pagination": {"limit": 1, "offset": 0, "total": 0}}
    )
    kwargs = OPERATIONS["listUsageEvents"].kwargs()
    eastern = datetime.timezone(-datetime.timedelta(hours=5))
    kwargs["start_time"] = datetime.datetime(2024, 1, 1, tzinfo=eastern)

    OPERATIONS["listUsageEvents"].module.sync_detailed(client=api.client(), **kwargs)

    assert api.requests[0].url.params["startTime"] == "2024-01-01T00:00:00-05:00"


def test_the_ingester_refuses_a_naive_timestamp_at_submit() -> None:
    api = FakeApi.json(201, {})
    body = with_naive_datetime("createUsageEvent")["body"]

    ingester = UsageIngester(api.client())
    try:
        with pytest.raises(errors.NaiveDatetimeError):
            ingester.submit(body)
    finally:
        # Bounded: were the event queued, the fake's answer is no batch result to settle it.
        ingester.close(timeout=1)

    assert api.requests == []
