# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from collections.abc import Mapping
from typing import Any

import httpx

from ..._runtime.jsonbody import decode_json, encode_json
from ..._runtime.replay import check_answer
from ..._runtime.responses import BODY_PARSE_ERRORS, http_status, parsed_or_raise, read_answer
from ..._runtime.transport import Operation, TimeoutOption, asend, send
from ..._runtime.urls import FixedPathUrl
from ...client import AuthenticatedClient, Client
from ...models.batch_create_usage_events_request import BatchCreateUsageEventsRequest
from ...models.batch_usage_event_response import BatchUsageEventResponse
from ...models.error_body import Error
from ...models.validation_error import ValidationError
from ...types import UNSET, Response, Unset

# The operation's name, in the messages of errors.ResponseValidationError.
_OPERATION = "batch_create_usage_events"
# Every status openapi.yaml documents for this operation.
DOCUMENTED_STATUSES = frozenset({201, 207, 400, 401, 403, 413, 415, 429, 500})
# The operationId (the name of its spans) and path template (_runtime/http_telemetry.py).
OPERATION = Operation("batchCreateUsageEvents", "/v0/usage/batch")
PATH = "/v0/usage/batch"
# The path joined to the client's base URL once, not by httpx on every call (_runtime/urls.py).
_URL = FixedPathUrl(PATH)


def _get_kwargs(
    *,
    body: BatchCreateUsageEventsRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": PATH,
    }

    _json_body = body.to_wire_dict()

    _kwargs["content"] = encode_json(_json_body)
    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    response: httpx.Response,
) -> BatchUsageEventResponse | Error | ValidationError | None:
    if response.status_code == 201:
        response_201 = BatchUsageEventResponse.from_dict(decode_json(response.content))

        return response_201

    if response.status_code == 207:
        response_207 = BatchUsageEventResponse.from_dict(decode_json(response.content))

        return response_207

    # An error status may come from a proxy with any body: then there is no parsed model.
    try:
        if response.status_code == 400:

            def _parse_response_400(data: object) -> Error | ValidationError:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    response_400_type_0 = ValidationError.from_dict(data)

                    return response_400_type_0
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                if not isinstance(data, dict):
                    raise TypeError()
                response_400_type_1 = Error.from_dict(data)

                return response_400_type_1

            response_400 = _parse_response_400(decode_json(response.content))

            return response_400

        if response.status_code == 401:
            response_401 = Error.from_dict(decode_json(response.content))

            return response_401

        if response.status_code == 403:
            response_403 = Error.from_dict(decode_json(response.content))

            return response_403

        if response.status_code == 413:
            response_413 = Error.from_dict(decode_json(response.content))

            return response_413

        if response.status_code == 415:
            response_415 = Error.from_dict(decode_json(response.content))

            return response_415

        if response.status_code == 429:
            response_429 = Error.from_dict(decode_json(response.content))

            return response_429

        if response.status_code == 500:
            response_500 = Error.from_dict(decode_json(response.content))

            return response_500

    except BODY_PARSE_ERRORS:
        return None
    return None


def build_response(
    response: httpx.Response, client: AuthenticatedClient | Client | None = None
) -> Response[BatchUsageEventResponse | Error | ValidationError]:
    """The Response of this operation for an httpx response (its body parsed by status).

    Raises errors.ResponseValidationError if a success's body cannot be read as its model
    (or, for a client with strict_responses, has a field or enum value the spec lacks).
    """
    return Response(
        status_code=http_status(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=read_answer(_parse_response, response, client, _OPERATION),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchCreateUsageEventsRequest,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Response[BatchUsageEventResponse | Error | ValidationError]:
    """Batch Create

     Creates multiple usage events in a single request. The
    idempotencyKey for each event is used to ensure the
    event is processed only once by downstream consumers,
    even if the same event is submitted multiple times.
    Duplicate submissions will be accepted and return the
    same response. An invalid event does not stop the
    others: it is reported in `failed` with its `index` in
    `events`, and the answer is 207 instead of 201.

    Args:
        body (BatchCreateUsageEventsRequest): Usage events to create in one request.
        timeout: The timeout of this call's attempts (seconds or httpx.Timeout; None: none),
            instead of the client's.
        max_retries: How many times this call may be retried, instead of the client's.
        extra_headers: Headers added to this call's request.

    Raises:
        errors.ApiConnectionError: If the last attempt got no response (errors.ApiTimeoutError
            if it timed out); the httpx exception is its __cause__.
        errors.ResponseValidationError: If a success's body cannot be read as its model (a
            required field missing, a value of another type), with the field's path; with
            strict_responses, also for a field or enum value the spec does not define.

    Returns:
        Response[BatchUsageEventResponse | Error | ValidationError]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = send(
        client,
        kwargs,
        _URL,
        operation=OPERATION,
        timeout=timeout,
        max_retries=max_retries,
        extra_headers=extra_headers,
    )
    return build_response(response, client)


def sync(
    *,
    client: AuthenticatedClient,
    body: BatchCreateUsageEventsRequest,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> BatchUsageEventResponse:
    """Batch Create

     Creates multiple usage events in a single request. The
    idempotencyKey for each event is used to ensure the
    event is processed only once by downstream consumers,
    even if the same event is submitted multiple times.
    Duplicate submissions will be accepted and return the
    same response. An invalid event does not stop the
    others: it is reported in `failed` with its `index` in
    `events`, and the answer is 207 instead of 201.

    Args:
        body (BatchCreateUsageEventsRequest): Usage events to create in one request.
        timeout: The timeout of this call's attempts (seconds or httpx.Timeout; None: none),
            instead of the client's.
        max_retries: How many times this call may be retried, instead of the client's.
        extra_headers: Headers added to this call's request.

    Raises:
        errors.ApiError: If the status is not a documented success; the subclass names the
            status (errors.NotFoundError, errors.RateLimitError, ...).
        errors.ApiConnectionError: If the last attempt got no response (errors.ApiTimeoutError
            if it timed out); the httpx exception is its __cause__.
        errors.ResponseValidationError: If a success's body cannot be read as its model (a
            required field missing, a value of another type), with the field's path; with
            strict_responses, also for a field or enum value the spec does not define.

    Returns:
        BatchUsageEventResponse
    """

    response = sync_detailed(
        client=client,
        body=body,
        timeout=timeout,
        max_retries=max_retries,
        extra_headers=extra_headers,
    )
    result = parsed_or_raise(response, BatchUsageEventResponse, DOCUMENTED_STATUSES, client)
    # An answer with an event stored for another request raises (_runtime/replay.py).
    check_answer(body, result)
    return result


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchCreateUsageEventsRequest,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Response[BatchUsageEventResponse | Error | ValidationError]:
    """Batch Create

     Creates multiple usage events in a single request. The
    idempotencyKey for each event is used to ensure the
    event is processed only once by downstream consumers,
    even if the same event is submitted multiple times.
    Duplicate submissions will be accepted and return the
    same response. An invalid event does not stop the
    others: it is reported in `failed` with its `index` in
    `events`, and the answer is 207 instead of 201.

    Args:
        body (BatchCreateUsageEventsRequest): Usage events to create in one request.
        timeout: The timeout of this call's attempts (seconds or httpx.Timeout; None: none),
            instead of the client's.
        max_retries: How many times this call may be retried, instead of the client's.
        extra_headers: Headers added to this call's request.

    Raises:
        errors.ApiConnectionError: If the last attempt got no response (errors.ApiTimeoutError
            if it timed out); the httpx exception is its __cause__.
        errors.ResponseValidationError: If a success's body cannot be read as its model (a
            required field missing, a value of another type), with the field's path; with
            strict_responses, also for a field or enum value the spec does not define.

    Returns:
        Response[BatchUsageEventResponse | Error | ValidationError]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await asend(
        client,
        kwargs,
        _URL,
        operation=OPERATION,
        timeout=timeout,
        max_retries=max_retries,
        extra_headers=extra_headers,
    )
    return build_response(response, client)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BatchCreateUsageEventsRequest,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> BatchUsageEventResponse:
    """Batch Create

     Creates multiple usage events in a single request. The
    idempotencyKey for each event is used to ensure the
    event is processed only once by downstream consumers,
    even if the same event is submitted multiple times.
    Duplicate submissions will be accepted and return the
    same response. An invalid event does not stop the
    others: it is reported in `failed` with its `index` in
    `events`, and the answer is 207 instead of 201.

    Args:
        body (BatchCreateUsageEventsRequest): Usage events to create in one request.
        timeout: The timeout of this call's attempts (seconds or httpx.Timeout; None: none),
            instead of the client's.
        max_retries: How many times this call may be retried, instead of the client's.
        extra_headers: Headers added to this call's request.

    Raises:
        errors.ApiError: If the status is not a documented success; the subclass names the
            status (errors.NotFoundError, errors.RateLimitError, ...).
        errors.ApiConnectionError: If the last attempt got no response (errors.ApiTimeoutError
            if it timed out); the httpx exception is its __cause__.
        errors.ResponseValidationError: If a success's body cannot be read as its model (a
            required field missing, a value of another type), with the field's path; with
            strict_responses, also for a field or enum value the spec does not define.

    Returns:
        BatchUsageEventResponse
    """

    response = await asyncio_detailed(
        client=client,
        body=body,
        timeout=timeout,
        max_retries=max_retries,
        extra_headers=extra_headers,
    )
    result = parsed_or_raise(response, BatchUsageEventResponse, DOCUMENTED_STATUSES, client)
    # An answer with an event stored for another request raises (_runtime/replay.py).
    check_answer(body, result)
    return result
