"""Sending one operation's request: the per-call options, the retry loop's sync and async
drivers, and httpx's exceptions turned into ApiConnectionError / ApiTimeoutError.

The decisions (retry or not, how long to wait) are `RetryState`'s (retries.py); this module
only sends, sleeps and logs. Every generated operation function calls `send` or `asend`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from ..errors import ApiConnectionError, ApiTimeoutError
from ..types import UNSET, Unset
from . import logs
from .redact import redact
from .retries import ATTEMPTS_HEADER, RetryPolicy, RetryState, check_max_retries
from .urls import FixedPathUrl

# What a caller may give as a timeout: seconds, an httpx.Timeout, or None for no timeout.
TimeoutOption = float | httpx.Timeout | None


class CallDefaults(Protocol):
    """What the runtime reads from a Client or AuthenticatedClient for every call."""

    @property
    def max_retries(self) -> int: ...
    @property
    def retry_policy(self) -> RetryPolicy: ...
    @property
    def request_timeout(self) -> TimeoutOption | Unset: ...
    @property
    def request_headers(self) -> Mapping[str, str]: ...


class SyncClient(CallDefaults, Protocol):
    def get_httpx_client(self) -> httpx.Client: ...


class AsyncClient(CallDefaults, Protocol):
    def get_async_httpx_client(self) -> httpx.AsyncClient: ...


def build_request(
    httpx_client: httpx.Client | httpx.AsyncClient,
    client: CallDefaults,
    kwargs: dict[str, Any],
    url: FixedPathUrl | None,
    timeout: TimeoutOption | Unset,
    extra_headers: Mapping[str, str] | None,
) -> httpx.Request:
    """The request of one call, with the client's and the call's options applied."""
    if url is not None:
        kwargs["url"] = url.on(httpx_client)
    added = client.request_headers
    if added or extra_headers:
        kwargs["headers"] = {**kwargs.get("headers", {}), **added, **(extra_headers or {})}
    if isinstance(timeout, Unset):
        timeout = client.request_timeout
    if not isinstance(timeout, Unset):
        kwargs["timeout"] = timeout
    return httpx_client.build_request(**kwargs)


def retry_state(client: CallDefaults, max_retries: int | None) -> RetryState:
    if max_retries is None:
        max_retries = client.max_retries
    else:
        check_max_retries(max_retries)
    return client.retry_policy.start(max_retries)


def send(
    client: SyncClient,
    kwargs: dict[str, Any],
    url: FixedPathUrl | None = None,
    *,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send an operation's request with retries; the final response, whatever its status.

    Raises ApiTimeoutError / ApiConnectionError when the last attempt got no response.
    """
    httpx_client = client.get_httpx_client()
    request = build_request(httpx_client, client, kwargs, url, timeout, extra_headers)
    state = retry_state(client, max_retries)
    while True:
        attempt = state.begin()
        try:
            response = _attempt(httpx_client, request, attempt)
        except httpx.RequestError as error:
            wait = state.after_error(error)
            if wait is None:
                raise connection_error(error, request, state) from error
        else:
            wait = state.after_response(response)
            if wait is None:
                return _finish(response, state)
            response.close()
        client.retry_policy.sleep(wait)


async def asend(
    client: AsyncClient,
    kwargs: dict[str, Any],
    url: FixedPathUrl | None = None,
    *,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """The asyncio twin of `send`."""
    httpx_client = client.get_async_httpx_client()
    request = build_request(httpx_client, client, kwargs, url, timeout, extra_headers)
    state = retry_state(client, max_retries)
    while True:
        attempt = state.begin()
        try:
            response = await _aattempt(httpx_client, request, attempt)
        except httpx.RequestError as error:
            wait = state.after_error(error)
            if wait is None:
                raise connection_error(error, request, state) from error
        else:
            wait = state.after_response(response)
            if wait is None:
                return _finish(response, state)
            await response.aclose()
        await client.retry_policy.async_sleep(wait)


def _attempt(httpx_client: httpx.Client, request: httpx.Request, attempt: int) -> httpx.Response:
    if not logs.debug_enabled():
        return httpx_client.send(request)
    start = _log_start(request, attempt)
    try:
        response = httpx_client.send(request)
    except Exception as error:
        _log_failure(request, error, attempt, start)
        raise
    _log_response(request, response, attempt, start)
    return response


async def _aattempt(
    httpx_client: httpx.AsyncClient, request: httpx.Request, attempt: int
) -> httpx.Response:
    if not logs.debug_enabled():
        return await httpx_client.send(request)
    start = _log_start(request, attempt)
    try:
        response = await httpx_client.send(request)
    except Exception as error:
        _log_failure(request, error, attempt, start)
        raise
    _log_response(request, response, attempt, start)
    return response


def _finish(response: httpx.Response, state: RetryState) -> httpx.Response:
    response.headers[ATTEMPTS_HEADER] = str(state.attempts)
    return response


def connection_error(
    error: httpx.RequestError, request: httpx.Request, state: RetryState
) -> ApiConnectionError:
    """The ApiConnectionError (ApiTimeoutError for a timeout) for a call that got no answer."""
    cls = ApiTimeoutError if isinstance(error, httpx.TimeoutException) else ApiConnectionError
    return cls(redact(describe_failure(error, request, state.attempts), (_credential(request),)))


def describe_failure(error: Exception, request: httpx.Request, attempts: int) -> str:
    """For example "connection refused by 127.0.0.1:9 (POST /v0/usage, 4 attempts):
    ConnectError: [Errno 111] Connection refused"."""
    url = request.url
    where = f"{url.host}:{url.port}" if url.port else url.host
    what = "no answer in time from" if isinstance(error, httpx.TimeoutException) else _verb(error)
    tried = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    detail = str(error) or "no detail"
    path = url.raw_path.decode("ascii", "replace")
    return f"{what} {where} ({request.method} {path}, {tried}): {type(error).__name__}: {detail}"


def _verb(error: Exception) -> str:
    text = str(error).lower()
    if isinstance(error, httpx.ConnectError) and "refused" in text:
        return "connection refused by"
    if isinstance(error, httpx.ConnectError):
        return "could not connect to"
    return "no answer from"


def _credential(request: httpx.Request) -> str:
    value: str = request.headers.get("authorization", "")
    return value.partition(" ")[2] or value


def _log_start(request: httpx.Request, attempt: int) -> float:
    logs.log_request(request.method, request.url.raw_path.decode("ascii"), attempt)
    return time.perf_counter()


def _log_response(
    request: httpx.Request, response: httpx.Response, attempt: int, start: float
) -> None:
    elapsed = time.perf_counter() - start
    path = request.url.raw_path.decode("ascii")
    logs.log_response(request.method, path, response.status_code, attempt, elapsed)


def _log_failure(request: httpx.Request, error: Exception, attempt: int, start: float) -> None:
    elapsed = time.perf_counter() - start
    path = request.url.raw_path.decode("ascii")
    logs.log_failure(request.method, path, error, attempt, elapsed, _credential(request))
