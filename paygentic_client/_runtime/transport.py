"""Sending one operation's request: the per-call options, the retry loop's sync and async
drivers, and httpx's exceptions turned into ApiConnectionError / ApiTimeoutError.

The decisions (retry or not, how long to wait) are `RetryState`'s (retries.py); this module
only sends, sleeps, logs and reports to OpenTelemetry (http_telemetry.py, imported on the
first call that finds the API installed). Every generated operation function calls `send` or
`asend`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from ..errors import ApiConnectionError, ApiTimeoutError
from ..types import UNSET, Unset
from . import logs, otel
from .redact import path_without_values, redact, request_credential
from .retries import ATTEMPTS_HEADER, RetryPolicy, RetryState, check_max_retries
from .urls import FixedPathUrl

if TYPE_CHECKING:
    from .http_telemetry import AttemptTrace, OperationTrace

# What a caller may give as a timeout: seconds, an httpx.Timeout, or None for no timeout.
TimeoutOption = float | httpx.Timeout | None


class Operation:
    """What a generated operation tells the runtime about itself: its operationId (the name of
    its span) and its path template (its attempts' span name and `url.template`).

    A plain class: a NamedTuple's class is built with exec(), ~1M instructions at import."""

    __slots__ = ("name", "url_template")

    def __init__(self, name: str, url_template: str) -> None:
        self.name = name
        self.url_template = url_template

    def __repr__(self) -> str:
        return f"Operation({self.name!r}, {self.url_template!r})"


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
    operation: Operation | None = None,
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
    traced = operation_trace(operation, request)
    try:
        while True:
            attempt = state.begin()
            try:
                response = _attempt(httpx_client, request, attempt, traced)
            except httpx.RequestError as error:
                wait = state.after_error(error)
                if wait is None:
                    raise connection_error(error, request, state) from error
            else:
                wait = state.after_response(response)
                if wait is None:
                    return _finish(response, state, traced)
                response.close()
            client.retry_policy.sleep(wait)
    except BaseException as error:
        if traced is not None:
            traced.failed(_what_failed(error))
        raise


async def asend(
    client: AsyncClient,
    kwargs: dict[str, Any],
    url: FixedPathUrl | None = None,
    *,
    operation: Operation | None = None,
    timeout: TimeoutOption | Unset = UNSET,
    max_retries: int | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """The asyncio twin of `send`."""
    httpx_client = client.get_async_httpx_client()
    request = build_request(httpx_client, client, kwargs, url, timeout, extra_headers)
    state = retry_state(client, max_retries)
    traced = operation_trace(operation, request)
    try:
        while True:
            attempt = state.begin()
            try:
                response = await _aattempt(httpx_client, request, attempt, traced)
            except httpx.RequestError as error:
                wait = state.after_error(error)
                if wait is None:
                    raise connection_error(error, request, state) from error
            else:
                wait = state.after_response(response)
                if wait is None:
                    return _finish(response, state, traced)
                await response.aclose()
            await client.retry_policy.async_sleep(wait)
    except BaseException as error:
        if traced is not None:
            traced.failed(_what_failed(error))
        raise


def _what_failed(error: BaseException) -> BaseException:
    """The exception a span names: the httpx error under an ApiConnectionError we raised."""
    if isinstance(error, ApiConnectionError) and error.__cause__ is not None:
        return error.__cause__
    return error


def operation_trace(operation: Operation | None, request: httpx.Request) -> OperationTrace | None:
    """The call's telemetry, or None when OpenTelemetry is not installed or switched off."""
    if not otel.enabled():
        return None
    from .http_telemetry import OperationTrace

    return OperationTrace(operation, request)


def _attempt(
    httpx_client: httpx.Client,
    request: httpx.Request,
    attempt: int,
    traced: OperationTrace | None,
) -> httpx.Response:
    watch = _watch(request, attempt, traced)
    if watch is None:
        return httpx_client.send(request)
    try:
        response = httpx_client.send(request)
    except BaseException as error:
        watch.failed(error)
        raise
    watch.answered(response)
    return response


async def _aattempt(
    httpx_client: httpx.AsyncClient,
    request: httpx.Request,
    attempt: int,
    traced: OperationTrace | None,
) -> httpx.Response:
    watch = _watch(request, attempt, traced)
    if watch is None:
        return await httpx_client.send(request)
    try:
        response = await httpx_client.send(request)
    except BaseException as error:
        watch.failed(error)
        raise
    watch.answered(response)
    return response


def _watch(
    request: httpx.Request, attempt: int, traced: OperationTrace | None
) -> _AttemptWatch | None:
    """What reports an attempt (a DEBUG log line, a span), or None when nothing does."""
    debug = logs.debug_enabled()
    if traced is None and not debug:
        return None
    return _AttemptWatch(request, attempt, traced, debug)


class _AttemptWatch:
    """One attempt's log lines and span; the same for the sync and the async driver."""

    __slots__ = ("_attempt", "_debug", "_request", "_span", "_start")

    def __init__(
        self, request: httpx.Request, attempt: int, traced: OperationTrace | None, debug: bool
    ) -> None:
        self._request = request
        self._attempt = attempt
        self._debug = debug
        # The span first: it puts the traceparent header in the request.
        self._span: AttemptTrace | None = traced.attempt(request, attempt) if traced else None
        if debug:
            logs.log_request(request, attempt)
        self._start = time.perf_counter()

    def answered(self, response: httpx.Response) -> None:
        if self._span is not None:
            self._span.answered(response.status_code)
        if self._debug:
            elapsed = time.perf_counter() - self._start
            logs.log_response(self._request, response, self._attempt, elapsed)

    def failed(self, error: BaseException) -> None:
        if self._span is not None:
            self._span.failed(error)
        if self._debug:
            elapsed = time.perf_counter() - self._start
            secret = request_credential(self._request)
            logs.log_failure(self._request, error, self._attempt, elapsed, secret)


def _finish(
    response: httpx.Response, state: RetryState, traced: OperationTrace | None
) -> httpx.Response:
    response.headers[ATTEMPTS_HEADER] = str(state.attempts)
    if traced is not None:
        traced.answered(response.status_code)
    return response


def connection_error(
    error: httpx.RequestError, request: httpx.Request, state: RetryState
) -> ApiConnectionError:
    """The ApiConnectionError (ApiTimeoutError for a timeout) for a call that got no answer."""
    cls = ApiTimeoutError if isinstance(error, httpx.TimeoutException) else ApiConnectionError
    return cls(
        redact(describe_failure(error, request, state.attempts), (request_credential(request),))
    )


def describe_failure(error: Exception, request: httpx.Request, attempts: int) -> str:
    """For example "connection refused by 127.0.0.1:9 (POST /v0/usage, 4 attempts):
    ConnectError: [Errno 111] Connection refused"."""
    url = request.url
    where = f"{url.host}:{url.port}" if url.port else url.host
    what = "no answer in time from" if isinstance(error, httpx.TimeoutException) else _verb(error)
    tried = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    detail = str(error) or "no detail"
    path = path_without_values(url)
    return f"{what} {where} ({request.method} {path}, {tried}): {type(error).__name__}: {detail}"


def _verb(error: Exception) -> str:
    text = str(error).lower()
    if isinstance(error, httpx.ConnectError) and "refused" in text:
        return "connection refused by"
    if isinstance(error, httpx.ConnectError):
        return "could not connect to"
    return "no answer from"
