# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
from typing import Any
from urllib.parse import quote

import httpx

from ..._runtime.jsonbody import decode_json, encode_json
from ..._runtime.responses import BODY_PARSE_ERRORS, http_status, parsed_or_raise
from ...client import AuthenticatedClient, Client
from ...models.error_body import Error
from ...models.refund_usage_event_request import RefundUsageEventRequest
from ...models.usage_event import UsageEvent
from ...models.validation_error import ValidationError
from ...types import Response

# Every status openapi.yaml documents for this operation.
_DOCUMENTED_STATUSES = frozenset({200, 400, 401, 403, 404, 413, 415, 422, 429, 500})


def _get_kwargs(
    id: str,
    *,
    body: RefundUsageEventRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/v0/usage/{id}".format(
            id=quote(str(id), safe=""),
        ),
    }

    _json_body = body.to_dict()

    _kwargs["content"] = encode_json(_json_body)
    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | Error | ValidationError | UsageEvent | None:
    if response.status_code == 200:
        response_200 = UsageEvent.from_dict(decode_json(response.content))

        return response_200

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

        if response.status_code == 404:
            response_404 = Error.from_dict(decode_json(response.content))

            return response_404

        if response.status_code == 413:
            response_413 = Error.from_dict(decode_json(response.content))

            return response_413

        if response.status_code == 415:
            response_415 = Error.from_dict(decode_json(response.content))

            return response_415

        if response.status_code == 422:
            response_422 = Error.from_dict(decode_json(response.content))

            return response_422

        if response.status_code == 429:
            response_429 = Error.from_dict(decode_json(response.content))

            return response_429

        if response.status_code == 500:
            response_500 = Error.from_dict(decode_json(response.content))

            return response_500

    except BODY_PARSE_ERRORS:
        return None
    return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | Error | ValidationError | UsageEvent]:
    return Response(
        status_code=http_status(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: RefundUsageEventRequest,
) -> Response[Error | Error | ValidationError | UsageEvent]:
    """Refund

     Marks a usage event as refunded. This reverts the consumption recorded by the
    usage event and creates a corresponding refund billing event if the usage
    event was already billed.

    Args:
        id (str): Unique identifier for a usage event.
        body (RefundUsageEventRequest):

    Raises:
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Error | ValidationError | UsageEvent]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    httpx_client = client.get_httpx_client()
    response = httpx_client.request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: RefundUsageEventRequest,
) -> UsageEvent:
    """Refund

     Marks a usage event as refunded. This reverts the consumption recorded by the
    usage event and creates a corresponding refund billing event if the usage
    event was already billed.

    Args:
        id (str): Unique identifier for a usage event.
        body (RefundUsageEventRequest):

    Raises:
        errors.ApiError: If the status is not a documented success; the subclass names the
            status (errors.NotFoundError, errors.RateLimitError, ...).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        UsageEvent
    """

    response = sync_detailed(
        id=id,
        client=client,
        body=body,
    )
    return parsed_or_raise(response, UsageEvent, _DOCUMENTED_STATUSES, client)


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: RefundUsageEventRequest,
) -> Response[Error | Error | ValidationError | UsageEvent]:
    """Refund

     Marks a usage event as refunded. This reverts the consumption recorded by the
    usage event and creates a corresponding refund billing event if the usage
    event was already billed.

    Args:
        id (str): Unique identifier for a usage event.
        body (RefundUsageEventRequest):

    Raises:
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Error | ValidationError | UsageEvent]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    httpx_client = client.get_async_httpx_client()
    response = await httpx_client.request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: RefundUsageEventRequest,
) -> UsageEvent:
    """Refund

     Marks a usage event as refunded. This reverts the consumption recorded by the
    usage event and creates a corresponding refund billing event if the usage
    event was already billed.

    Args:
        id (str): Unique identifier for a usage event.
        body (RefundUsageEventRequest):

    Raises:
        errors.ApiError: If the status is not a documented success; the subclass names the
            status (errors.NotFoundError, errors.RateLimitError, ...).
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        UsageEvent
    """

    response = await asyncio_detailed(
        id=id,
        client=client,
        body=body,
    )
    return parsed_or_raise(response, UsageEvent, _DOCUMENTED_STATUSES, client)
