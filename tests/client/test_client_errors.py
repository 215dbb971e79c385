"""Error statuses: typed exceptions from sync/asyncio, parsed models from *_detailed."""

from __future__ import annotations

import asyncio

import pytest
from support.client_harness import (
    OPERATIONS,
    TOKEN,
    FakeApi,
    ResponseExample,
    call_async,
    call_sync,
    response_examples,
)

from paygentic_client import errors
from paygentic_client.models import Error, ValidationError

# Written out here rather than imported, so that the test checks the mapping.
EXPECTED_CLASS: dict[int, type[errors.ApiError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    413: errors.ApiError,
    415: errors.ApiError,
    422: errors.UnprocessableEntityError,
    429: errors.RateLimitError,
    500: errors.InternalServerError,
}

ERROR_EXAMPLES = [
    example
    for operation_id in OPERATIONS
    for example in response_examples(operation_id)
    if example.status >= 400
]


def test_every_documented_error_status_has_an_example() -> None:
    documented = {
        (operation.operation_id, status)
        for operation in OPERATIONS.values()
        for status in operation.module.DOCUMENTED_STATUSES
        if status >= 400
    }
    assert {(e.operation_id, e.status) for e in ERROR_EXAMPLES} == documented


def expected_model(example: ResponseExample) -> type:
    return ValidationError if "errors" in example.body else Error


def assert_error(error: errors.ApiError, example: ResponseExample, api: FakeApi) -> None:
    assert type(error) is EXPECTED_CLASS[example.status]
    assert error.status_code == example.status
    assert type(error.parsed) is expected_model(example)
    assert error.parsed is not None and error.parsed.message == example.body["message"]
    assert error.content == api.body
    assert error.headers["content-type"] == "application/json"
    message = str(error)
    assert message.startswith(f"HTTP {example.status} ")
    assert example.body["message"] in message
    assert example.body["error"] in message
    for detail in example.body.get("errors", []):
        assert f"{detail['field']}: {detail['message']}" in message


@pytest.mark.parametrize("example", ERROR_EXAMPLES, ids=lambda e: e.id)
def test_sync_raises_the_class_of_the_status(example: ResponseExample) -> None:
    api = FakeApi.json(example.status, example.body)

    with pytest.raises(errors.ApiError) as raised:
        call_sync(OPERATIONS[example.operation_id], "sync", api.client())

    assert_error(raised.value, example, api)


@pytest.mark.parametrize("example", ERROR_EXAMPLES, ids=lambda e: e.id)
def test_asyncio_raises_the_class_of_the_status(example: ResponseExample) -> None:
    api = FakeApi.json(example.status, example.body)

    with pytest.raises(errors.ApiError) as raised:
        asyncio.run(call_async(OPERATIONS[example.operation_id], "asyncio", api.client()))

    assert_error(raised.value, example, api)


@pytest.mark.parametrize("example", ERROR_EXAMPLES, ids=lambda e: e.id)
def test_detailed_returns_the_parsed_error_without_raising(example: ResponseExample) -> None:
    operation = OPERATIONS[example.operation_id]
    api = FakeApi.json(example.status, example.body)

    for response in (
        call_sync(operation, "sync_detailed", api.client()),
        asyncio.run(call_async(operation, "asyncio_detailed", api.client())),
    ):
        assert response.status_code == example.status
        assert type(response.parsed) is expected_model(example)
        assert isinstance(response.parsed, Error | ValidationError)
        assert response.parsed.to_dict() == example.body


def test_a_400_with_field_errors_is_a_validation_error() -> None:
    body = {
        "message": "The request body is invalid.",
        "error": "validation_error",
        "errors": [
            {"field": "properties[0].quantity", "message": "must be >= 1", "code": "minimum"},
            {"field": "customerId", "message": "is required", "code": None},
        ],
    }
    api = FakeApi.json(400, body)

    with pytest.raises(errors.BadRequestError) as raised:
        call_sync(OPERATIONS["createUsageEvent"], "sync", api.client())

    parsed = raised.value.parsed
    assert isinstance(parsed, ValidationError)
    assert [(d.field, d.code) for d in parsed.errors] == [
        ("properties[0].quantity", "minimum"),
        ("customerId", None),
    ]
    assert str(raised.value) == (
        "HTTP 400 Bad Request (validation_error): The request body is invalid.\n"
        "  properties[0].quantity: must be >= 1 (minimum)\n"
        "  customerId: is required"
    )


def test_a_400_without_field_errors_is_a_plain_error() -> None:
    body = {"message": "Not JSON.", "error": "bad_request", "code": "MALFORMED_JSON"}
    api = FakeApi.json(400, body)

    with pytest.raises(errors.BadRequestError) as raised:
        call_sync(OPERATIONS["createUsageEvent"], "sync", api.client())

    assert type(raised.value.parsed) is Error
    assert str(raised.value) == "HTTP 400 Bad Request (bad_request, MALFORMED_JSON): Not JSON."


def test_an_undocumented_status_raises_unexpected_status() -> None:
    api = FakeApi(418, b"I'm a teapot", {"content-type": "text/plain"})
    operation = OPERATIONS["getUsageEvent"]

    response = call_sync(operation, "sync_detailed", api.client())
    assert (response.status_code, response.parsed) == (418, None)

    with pytest.raises(errors.UnexpectedStatus) as raised:
        call_sync(operation, "sync", api.client())
    assert isinstance(raised.value, errors.ApiError)
    assert raised.value.parsed is None
    assert raised.value.content == b"I'm a teapot"
    assert str(raised.value) == (
        "HTTP 418 I'm a Teapot: the body is not a documented error (12 bytes, text/plain)"
    )


def test_an_undocumented_status_with_a_known_class_uses_it_and_parses_the_body() -> None:
    # createUsageEvent documents no 404, but the API's error body is still understood.
    body = {"message": "No such route.", "error": "not_found", "code": None, "details": None}
    api = FakeApi.json(404, body)

    assert call_sync(OPERATIONS["createUsageEvent"], "sync_detailed", api.client()).parsed is None
    with pytest.raises(errors.NotFoundError) as raised:
        call_sync(OPERATIONS["createUsageEvent"], "sync", api.client())
    assert isinstance(raised.value.parsed, Error)
    assert raised.value.parsed.message == "No such route."


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_gateway_page_is_a_server_error_without_a_model(status: int) -> None:
    page = b"<html><body>upstream connect error</body></html>"
    api = FakeApi(status, page, {"content-type": "text/html"})
    operation = OPERATIONS["listUsageEvents"]

    assert call_sync(operation, "sync_detailed", api.client()).parsed is None
    with pytest.raises(errors.InternalServerError) as raised:
        call_sync(operation, "sync", api.client())
    assert raised.value.parsed is None
    assert raised.value.content == page
    assert "upstream" not in str(raised.value)
    assert "text/html" in str(raised.value)


def test_an_undocumented_success_status_is_an_error() -> None:
    api = FakeApi.json(202, {"accepted": True})

    with pytest.raises(errors.UnexpectedStatus):
        call_sync(OPERATIONS["createUsageEvent"], "sync", api.client())


def test_the_token_never_appears_in_an_error_message() -> None:
    body = {"message": f"Token {TOKEN} is not valid.", "error": "unauthorized"}
    api = FakeApi.json(401, body)

    with pytest.raises(errors.AuthenticationError) as raised:
        call_sync(OPERATIONS["getUsageEvent"], "sync", api.client())

    assert TOKEN not in str(raised.value)
    assert TOKEN not in repr(raised.value)
    assert "Token [REDACTED] is not valid." in str(raised.value)


def test_the_rate_limit_error_keeps_the_retry_after_header() -> None:
    body = {"message": "Too many requests.", "error": "rate_limited", "code": "RATE_LIMITED"}
    api = FakeApi.json(429, body, headers={"retry-after": "2"})

    with pytest.raises(errors.RateLimitError) as raised:
        call_sync(OPERATIONS["createUsageEvent"], "sync", api.client())

    assert raised.value.headers["retry-after"] == "2"


def test_a_status_unknown_to_http_status_is_still_a_server_error() -> None:
    # Cloudflare answers 520 when the origin fails; HTTPStatus(520) would raise ValueError.
    api = FakeApi(520, b"error code: 520", {"content-type": "text/plain"})
    operation = OPERATIONS["createUsageEvent"]

    response = call_sync(operation, "sync_detailed", api.client())
    assert (response.status_code, response.parsed) == (520, None)
    with pytest.raises(errors.InternalServerError) as raised:
        call_sync(operation, "sync", api.client())
    assert str(raised.value).startswith("HTTP 520: the body is not a documented error")
