# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.
# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.
import datetime
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx

from ..._runtime.jsonbody import decode_json
from ..._runtime.pagination import aiterate_pages, first_offset, iterate_pages
from ..._runtime.responses import BODY_PARSE_ERRORS, http_status, parsed_or_raise, read_answer
from ..._runtime.timestamps import isoformat as _isoformat
from ..._runtime.transport import Operation, TimeoutOption, asend, send
from ..._runtime.urls import FixedPathUrl
from ...client import AuthenticatedClient, Client
from ...models.error_body import Error
from ...models.usage_event import UsageEvent
from ...models.usage_event_list import UsageEventList
from ...models.validation_error import ValidationError
from ...types import UNSET, Response, Unset

# The operation's name, in the messages of errors.ResponseValidationError.
_OPERATION = "list_usage_events"
# Every status openapi.yaml documents for this operation.
DOCUMENTED_STATUSES = frozenset({200, 400, 401, 403, 429, 500})
# The operationId (the name of its spans) and path template (_runtime/http_telemetry.py).
OPERATION = Operation("listUsageEvents", "/v0/usage")
PATH = "/v0/usage"
# The path joined to the client's base URL once, not by httpx on every call (_runtime/urls.py).
_URL = FixedPathUrl(PATH)


def _get_kwargs(
    *,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    limit: int | Unset = 10,
    offset: int | Unset = 0,
    customer_id: str | Unset = UNSET,
    merchant_id: str | Unset = UNSET,
    consumer_id: str | Unset = UNSET,
    subscription_id: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_start_time = _isoformat(start_time)
    params["startTime"] = json_start_time

    json_end_time = _isoformat(end_time)
    params["endTime"] = json_end_time

    params["limit"] = limit

    params["offset"] = offset

    params["customerId"] = customer_id

    params["merchantId"] = merchant_id

    params["consumerId"] = consumer_id

    params["subscriptionId"] = subscription_id

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": PATH,
        "params": params,
    }

    return _kwargs


def _parse_response(response: httpx.Response) -> Error | ValidationError | UsageEventList | None:
    if response.status_code == 200:
        response_200 = UsageEventList.from_dict(decode_json(response.content))

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
) -> Response[Error | ValidationError | UsageEventList]:
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
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    limit: int | Unset = 10,
    offset: int | Unset = 0,
    customer_id: str | Unset = UNSET,
    merchant_id: str | Unset = UNSET,
    consumer_id: str | Unset = UNSET,
    subscription_id: str | Unset = UNSET,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Response[Error | ValidationError | UsageEventList]:
    """List

     Lists the usage events whose `timestamp` lies between
    `startTime` and `endTime` (both inclusive) and that
    match at least one of the filters `customerId`,
    `merchantId`, `consumerId` or `subscriptionId`, ordered
    by `timestamp` then `id`, one page of `limit` events
    from `offset` at a time.

    Args:
        start_time (datetime.datetime): Earliest event `timestamp` to include (inclusive), an
            RFC 3339 date-time with an offset; compared in UTC.
        end_time (datetime.datetime): Latest event `timestamp` to include (inclusive), an RFC
            3339 date-time with an offset; not before `startTime`
            (400 otherwise).
        limit (int | Unset): Maximum number of events in one page, 1 to 100. Default: 10.
        offset (int | Unset): Number of matching events to skip, 0 or more; `offset` +
            `limit` walks the pages.
             Default: 0.
        customer_id (str | Unset): Only events of this customer. At least one of
            `customerId`, `merchantId`, `consumerId` and
            `subscriptionId` must be given (400 otherwise); given
            filters must all match.
        merchant_id (str | Unset): Only events of this merchant organisation.
        consumer_id (str | Unset): Only events of this consumer organisation.
        subscription_id (str | Unset): Only events of this subscription.
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
        Response[Error | ValidationError | UsageEventList]
    """

    kwargs = _get_kwargs(
        start_time=start_time,
        end_time=end_time,
        limit=limit,
        offset=offset,
        customer_id=customer_id,
        merchant_id=merchant_id,
        consumer_id=consumer_id,
        subscription_id=subscription_id,
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
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    limit: int | Unset = 10,
    offset: int | Unset = 0,
    customer_id: str | Unset = UNSET,
    merchant_id: str | Unset = UNSET,
    consumer_id: str | Unset = UNSET,
    subscription_id: str | Unset = UNSET,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> UsageEventList:
    """List

     Lists the usage events whose `timestamp` lies between
    `startTime` and `endTime` (both inclusive) and that
    match at least one of the filters `customerId`,
    `merchantId`, `consumerId` or `subscriptionId`, ordered
    by `timestamp` then `id`, one page of `limit` events
    from `offset` at a time.

    Args:
        start_time (datetime.datetime): Earliest event `timestamp` to include (inclusive), an
            RFC 3339 date-time with an offset; compared in UTC.
        end_time (datetime.datetime): Latest event `timestamp` to include (inclusive), an RFC
            3339 date-time with an offset; not before `startTime`
            (400 otherwise).
        limit (int | Unset): Maximum number of events in one page, 1 to 100. Default: 10.
        offset (int | Unset): Number of matching events to skip, 0 or more; `offset` +
            `limit` walks the pages.
             Default: 0.
        customer_id (str | Unset): Only events of this customer. At least one of
            `customerId`, `merchantId`, `consumerId` and
            `subscriptionId` must be given (400 otherwise); given
            filters must all match.
        merchant_id (str | Unset): Only events of this merchant organisation.
        consumer_id (str | Unset): Only events of this consumer organisation.
        subscription_id (str | Unset): Only events of this subscription.
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
        UsageEventList
    """

    response = sync_detailed(
        client=client,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
        offset=offset,
        customer_id=customer_id,
        merchant_id=merchant_id,
        consumer_id=consumer_id,
        subscription_id=subscription_id,
        timeout=timeout,
        max_retries=max_retries,
        extra_headers=extra_headers,
    )
    return parsed_or_raise(response, UsageEventList, DOCUMENTED_STATUSES, client)


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    limit: int | Unset = 10,
    offset: int | Unset = 0,
    customer_id: str | Unset = UNSET,
    merchant_id: str | Unset = UNSET,
    consumer_id: str | Unset = UNSET,
    subscription_id: str | Unset = UNSET,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Response[Error | ValidationError | UsageEventList]:
    """List

     Lists the usage events whose `timestamp` lies between
    `startTime` and `endTime` (both inclusive) and that
    match at least one of the filters `customerId`,
    `merchantId`, `consumerId` or `subscriptionId`, ordered
    by `timestamp` then `id`, one page of `limit` events
    from `offset` at a time.

    Args:
        start_time (datetime.datetime): Earliest event `timestamp` to include (inclusive), an
            RFC 3339 date-time with an offset; compared in UTC.
        end_time (datetime.datetime): Latest event `timestamp` to include (inclusive), an RFC
            3339 date-time with an offset; not before `startTime`
            (400 otherwise).
        limit (int | Unset): Maximum number of events in one page, 1 to 100. Default: 10.
        offset (int | Unset): Number of matching events to skip, 0 or more; `offset` +
            `limit` walks the pages.
             Default: 0.
        customer_id (str | Unset): Only events of this customer. At least one of
            `customerId`, `merchantId`, `consumerId` and
            `subscriptionId` must be given (400 otherwise); given
            filters must all match.
        merchant_id (str | Unset): Only events of this merchant organisation.
        consumer_id (str | Unset): Only events of this consumer organisation.
        subscription_id (str | Unset): Only events of this subscription.
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
        Response[Error | ValidationError | UsageEventList]
    """

    kwargs = _get_kwargs(
        start_time=start_time,
        end_time=end_time,
        limit=limit,
        offset=offset,
        customer_id=customer_id,
        merchant_id=merchant_id,
        consumer_id=consumer_id,
        subscription_id=subscription_id,
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
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    limit: int | Unset = 10,
    offset: int | Unset = 0,
    customer_id: str | Unset = UNSET,
    merchant_id: str | Unset = UNSET,
    consumer_id: str | Unset = UNSET,
    subscription_id: str | Unset = UNSET,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> UsageEventList:
    """List

     Lists the usage events whose `timestamp` lies between
    `startTime` and `endTime` (both inclusive) and that
    match at least one of the filters `customerId`,
    `merchantId`, `consumerId` or `subscriptionId`, ordered
    by `timestamp` then `id`, one page of `limit` events
    from `offset` at a time.

    Args:
        start_time (datetime.datetime): Earliest event `timestamp` to include (inclusive), an
            RFC 3339 date-time with an offset; compared in UTC.
        end_time (datetime.datetime): Latest event `timestamp` to include (inclusive), an RFC
            3339 date-time with an offset; not before `startTime`
            (400 otherwise).
        limit (int | Unset): Maximum number of events in one page, 1 to 100. Default: 10.
        offset (int | Unset): Number of matching events to skip, 0 or more; `offset` +
            `limit` walks the pages.
             Default: 0.
        customer_id (str | Unset): Only events of this customer. At least one of
            `customerId`, `merchantId`, `consumerId` and
            `subscriptionId` must be given (400 otherwise); given
            filters must all match.
        merchant_id (str | Unset): Only events of this merchant organisation.
        consumer_id (str | Unset): Only events of this consumer organisation.
        subscription_id (str | Unset): Only events of this subscription.
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
        UsageEventList
    """

    response = await asyncio_detailed(
        client=client,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
        offset=offset,
        customer_id=customer_id,
        merchant_id=merchant_id,
        consumer_id=consumer_id,
        subscription_id=subscription_id,
        timeout=timeout,
        max_retries=max_retries,
        extra_headers=extra_headers,
    )
    return parsed_or_raise(response, UsageEventList, DOCUMENTED_STATUSES, client)


def sync_all(
    *,
    client: AuthenticatedClient,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    limit: int | Unset = 10,
    offset: int | Unset = 0,
    customer_id: str | Unset = UNSET,
    merchant_id: str | Unset = UNSET,
    consumer_id: str | Unset = UNSET,
    subscription_id: str | Unset = UNSET,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> Iterator[UsageEvent]:
    """Every matching UsageEvent, from `offset` to the end, fetched `limit` at a time
    as the iteration reaches them (one page in memory at a time).

    Takes the arguments of `sync`; each page is fetched with `sync`, so an error status
    raises errors.ApiError from the iteration.
    """

    def page(at: int) -> UsageEventList:
        return sync(
            client=client,
            start_time=start_time,
            end_time=end_time,
            limit=limit,
            offset=at,
            customer_id=customer_id,
            merchant_id=merchant_id,
            consumer_id=consumer_id,
            subscription_id=subscription_id,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    return iterate_pages(page, first_offset(offset))


def asyncio_all(
    *,
    client: AuthenticatedClient,
    start_time: datetime.datetime,
    end_time: datetime.datetime,
    limit: int | Unset = 10,
    offset: int | Unset = 0,
    customer_id: str | Unset = UNSET,
    merchant_id: str | Unset = UNSET,
    consumer_id: str | Unset = UNSET,
    subscription_id: str | Unset = UNSET,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> AsyncIterator[UsageEvent]:
    """Every matching UsageEvent, like `sync_all`, for `async for`."""

    async def page(at: int) -> UsageEventList:
        return await asyncio(
            client=client,
            start_time=start_time,
            end_time=end_time,
            limit=limit,
            offset=at,
            customer_id=customer_id,
            merchant_id=merchant_id,
            consumer_id=consumer_id,
            subscription_id=subscription_id,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    return aiterate_pages(page, first_offset(offset))
