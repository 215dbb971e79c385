"""Every operation's success path, sync and async, on every success example of the spec."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from support.client_harness import (
    BASE_URL,
    OPERATIONS,
    TOKEN,
    FakeApi,
    ResponseExample,
    call_async,
    call_sync,
    response_examples,
)

from paygentic_client.models import (
    BatchUsageEventResponse,
    CreateUsageEventRequest,
    UsageEvent,
    UsageEventList,
)

SUCCESS_EXAMPLES = [
    example
    for operation_id in OPERATIONS
    for example in response_examples(operation_id)
    if 200 <= example.status <= 299
]


def test_every_operation_has_a_success_example() -> None:
    assert {example.operation_id for example in SUCCESS_EXAMPLES} == set(OPERATIONS)


def assert_matches(result: object, body: dict[str, Any]) -> None:
    """The parsed model carries the example's identifying fields."""
    if isinstance(result, UsageEvent):
        assert (result.id, result.customer_id) == (body["id"], body["customerId"])
    elif isinstance(result, UsageEventList):
        assert [event.id for event in result.data] == [event["id"] for event in body["data"]]
        assert result.pagination.to_dict() == body["pagination"]
    elif isinstance(result, BatchUsageEventResponse):
        assert result.summary.to_dict() == body["summary"]
        successful = [event["id"] for event in body["successful"]]
        assert [event.id for event in result.successful] == successful
    else:
        raise AssertionError(f"unexpected result type {type(result).__name__}")


def kwargs_for(example: ResponseExample) -> dict[str, Any]:
    """The operation's arguments; for a create, the request whose answer the example is (the
    client raises IdempotencyConflictError for an answer stored for another request)."""
    kwargs = OPERATIONS[example.operation_id].kwargs()
    if example.operation_id == "createUsageEvent":
        event = example.body
        properties = [
            {"billableMetricId": p["billableMetricId"], "quantity": p["quantity"]}
            for p in event["properties"]
        ]
        fields = ("idempotencyKey", "customerId", "merchantId", "timestamp")
        request = {name: event[name] for name in fields} | {"properties": properties}
        kwargs["body"] = CreateUsageEventRequest.from_dict(request)
    return kwargs


def assert_request(api: FakeApi, example: ResponseExample) -> None:
    operation = OPERATIONS[example.operation_id]
    (request,) = api.requests
    assert request.method == operation.method
    assert request.url.path == operation.path
    assert str(request.url).startswith(BASE_URL)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    if operation.method in {"POST", "PATCH"}:
        assert json.loads(request.content) == kwargs_for(example)["body"].to_dict()


@pytest.mark.parametrize("example", SUCCESS_EXAMPLES, ids=lambda e: e.id)
def test_sync_returns_the_success_model(example: ResponseExample) -> None:
    operation = OPERATIONS[example.operation_id]
    api = FakeApi.json(example.status, example.body)

    result = operation.module.sync(client=api.client(), **kwargs_for(example))

    assert type(result) is operation.success_type
    assert_matches(result, example.body)
    assert_request(api, example)


@pytest.mark.parametrize("example", SUCCESS_EXAMPLES, ids=lambda e: e.id)
def test_asyncio_returns_the_success_model(example: ResponseExample) -> None:
    operation = OPERATIONS[example.operation_id]
    api = FakeApi.json(example.status, example.body)

    result = asyncio.run(operation.module.asyncio(client=api.client(), **kwargs_for(example)))

    assert type(result) is operation.success_type
    assert_matches(result, example.body)
    assert_request(api, example)


@pytest.mark.parametrize("example", SUCCESS_EXAMPLES, ids=lambda e: e.id)
def test_detailed_returns_status_headers_content_and_parsed(example: ResponseExample) -> None:
    operation = OPERATIONS[example.operation_id]
    api = FakeApi.json(example.status, example.body, headers={"x-request-id": "req_1"})

    sync_response = call_sync(operation, "sync_detailed", api.client())
    async_response = asyncio.run(call_async(operation, "asyncio_detailed", api.client()))

    for response in (sync_response, async_response):
        assert response.status_code == example.status
        assert response.headers["x-request-id"] == "req_1"
        assert response.content == api.body
        assert type(response.parsed) is operation.success_type
        assert_matches(response.parsed, example.body)


def test_list_sends_its_filters_as_query_parameters() -> None:
    operation = OPERATIONS["listUsageEvents"]
    page = {"object": "list", "data": [], "pagination": {"limit": 10, "offset": 0, "total": 0}}
    api = FakeApi.json(200, page)

    call_sync(operation, "sync", api.client())

    params = dict(api.requests[0].url.params)
    assert params == {
        "startTime": "2024-01-01T00:00:00+00:00",
        "endTime": "2024-01-31T00:00:00+00:00",
        "customerId": "cus_abc123xyz",
        "limit": "10",
        "offset": "0",
    }


def test_batch_207_with_failures_is_a_success() -> None:
    (example,) = [e for e in response_examples("batchCreateUsageEvents") if e.status == 207]
    api = FakeApi.json(207, example.body)

    result = call_sync(OPERATIONS["batchCreateUsageEvents"], "sync", api.client())

    assert isinstance(result, BatchUsageEventResponse)
    assert (result.summary.total, result.summary.successful, result.summary.failed) == (2, 1, 1)
    (failure,) = result.failed
    assert failure.index == 1
    assert failure.idempotency_key == "consumption_ref_789ghi"
    assert failure.error.startswith("properties[0].quantity")
