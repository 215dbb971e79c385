"""Retrying httpx transports: the sync client gets one, the async client the other.

The retry loop is httpx-retries' `RetryTransport`; `_CallRetry` (its `Retry`, one per call)
adds what the loop lacks: a wall-clock budget for the whole call, `Retry-After` capped on its
own, sleeps that tests can replace, and the number of attempts, which the response carries
in the `X-Paygentic-Attempts` header.

Retrying POST is safe here only because create and batch create carry idempotency keys: a
retry resends the very same `httpx.Request`, so the same bytes and the same key, and the API
answers a repeated key with the event it already stored instead of storing another.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_retries import Retry, RetryTransport

from . import logs
from .pool import gated_async_transport

ATTEMPTS_HEADER = "X-Paygentic-Attempts"
DEFAULT_MAX_RETRIES = 3
# Statuses that say "not now" rather than "not this request"; any other 4xx is final.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# No response at all: refused or reset connections, timeouts, a connection dropped mid-answer.
RETRY_EXCEPTIONS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
# Every method: GET reads, PATCH only sets `refunded`, POST creates carry idempotency keys.
RETRY_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
# Where the transports keep a call's _CallRetry on its request; httpx-retries reads this key.
_RETRY_EXTENSION = "retry"


@dataclass(frozen=True)
class RetryPolicy:
    """How the client waits between attempts; how many retries is the client's `max_retries`.

    Attributes:
        backoff_initial: the most the first retry waits, in seconds; the bound doubles with
            each retry, and the wait is uniformly random below it ("full jitter").
        backoff_max: the bound never exceeds this many seconds.
        retry_after_max: a `Retry-After` (seconds or HTTP date) is waited for, up to this.
        budget: seconds from the start of a call after which no further attempt starts;
            a wait that would end past it is not taken and the last error is raised.
        sleep, async_sleep, clock, jitter: replaceable in tests (time.sleep, asyncio.sleep,
            time.monotonic, random.random).
    """

    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    retry_after_max: float = 60.0
    budget: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    async_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        for name in ("backoff_initial", "backoff_max", "retry_after_max"):
            if getattr(self, name) < 0:
                raise ValueError(f"RetryPolicy.{name} must be >= 0, not {getattr(self, name)}")
        if self.budget <= 0:
            raise ValueError(f"RetryPolicy.budget must be > 0, not {self.budget}")

    def backoff(self, retry_number: int) -> float:
        """The wait before retry number `retry_number` (1 for the first retry)."""
        bound = min(self.backoff_max, self.backoff_initial * 2.0 ** (retry_number - 1))
        return self.jitter() * bound


class _Call:
    """What one call has seen so far; shared by its _CallRetry copies and its attempts."""

    __slots__ = ("attempts", "deadline", "failed", "next_delay", "retry_after")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.attempts = 0
        self.failed = False  # the last attempt raised or answered a status worth retrying
        self.retry_after: str | None = None
        self.next_delay = 0.0

    def record(self, response: httpx.Response) -> None:
        self.failed = response.status_code in RETRY_STATUSES
        self.retry_after = response.headers.get("retry-after") if self.failed else None

    def record_error(self) -> None:
        self.failed = True
        self.retry_after = None


class _CallRetry(Retry):
    """httpx-retries' Retry for one call, deciding and taking the waits by our policy.

    The loop asks `is_exhausted()` after every attempt and, if not, calls `increment()` and
    `sleep()`; the wait is decided in `is_exhausted()` because only there can the call still
    give up with the last response or error intact.
    """

    policy: RetryPolicy
    call: _Call

    def for_call(self, call: _Call) -> _CallRetry:
        # Cheaper than Retry.copy_with, which rebuilds its sets: this runs on every call.
        retry = _CallRetry.__new__(_CallRetry)
        retry.__dict__.update(self.__dict__)
        retry.call = call
        return retry

    def increment(self) -> _CallRetry:
        retry = self.for_call(self.call)
        retry.attempts_made = self.attempts_made + 1
        return retry

    def is_exhausted(self) -> bool:
        if self.attempts_made >= self.total:
            return True
        call = self.call
        if not call.failed:
            return False  # a final answer: the loop returns it
        delay = self._delay(self.attempts_made + 1)
        if self.policy.clock() + delay > call.deadline:
            return True
        call.next_delay = delay
        return False

    def _delay(self, retry_number: int) -> float:
        retry_after = self.call.retry_after
        if retry_after:
            try:
                return min(self.parse_retry_after(retry_after), self.policy.retry_after_max)
            except ValueError:
                pass  # not seconds nor a date: back off as if it were absent
        return self.policy.backoff(retry_number)

    def sleep(self, response: httpx.Response | Exception) -> None:
        self.policy.sleep(self.call.next_delay)

    async def asleep(self, response: httpx.Response | Exception) -> None:
        await self.policy.async_sleep(self.call.next_delay)


def _call_retry(max_retries: int, policy: RetryPolicy) -> _CallRetry:
    if max_retries < 0:
        raise ValueError(f"max_retries must be >= 0, not {max_retries}")
    retry = _CallRetry(
        total=max_retries,
        allowed_methods=RETRY_METHODS,
        status_forcelist=RETRY_STATUSES,
        retry_on_exceptions=RETRY_EXCEPTIONS,
    )
    retry.policy = policy
    return retry


def _finish(response: httpx.Response, call: _Call) -> httpx.Response:
    response.headers[ATTEMPTS_HEADER] = str(call.attempts)
    return response


def _gave_up(error: Exception, call: _Call) -> None:
    error.add_note(f"paygentic_client: no response after {call.attempts} attempt(s)")


def _secret(request: httpx.Request) -> str:
    return str(request.headers.get("authorization", ""))


class _Attempts(httpx.BaseTransport):
    """Sends one attempt: counts it, records its outcome for the retry, logs it at DEBUG.

    A transport only so that RetryTransport holds it (and closes `inner` through it); the
    attempts go through `send`, which is given the call instead of finding it on the request.
    """

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def send(self, request: httpx.Request, call: _Call) -> httpx.Response:
        call.attempts += 1
        if not logs.debug_enabled():
            try:
                response = self.inner.handle_request(request)
            except Exception:
                call.record_error()
                raise
            call.record(response)
            return response
        method, path = request.method, request.url.raw_path.decode("ascii")
        logs.log_request(method, path, call.attempts)
        start = time.perf_counter()
        try:
            response = self.inner.handle_request(request)
        except Exception as error:
            call.record_error()
            elapsed = time.perf_counter() - start
            logs.log_failure(method, path, error, call.attempts, elapsed, _secret(request))
            raise
        call.record(response)
        elapsed = time.perf_counter() - start
        logs.log_response(method, path, response.status_code, call.attempts, elapsed)
        return response

    def close(self) -> None:
        self.inner.close()


class _AsyncAttempts(httpx.AsyncBaseTransport):
    """The asyncio twin of _Attempts."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def send(self, request: httpx.Request, call: _Call) -> httpx.Response:
        call.attempts += 1
        if not logs.debug_enabled():
            try:
                response = await self.inner.handle_async_request(request)
            except Exception:
                call.record_error()
                raise
            call.record(response)
            return response
        method, path = request.method, request.url.raw_path.decode("ascii")
        logs.log_request(method, path, call.attempts)
        start = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
        except Exception as error:
            call.record_error()
            elapsed = time.perf_counter() - start
            logs.log_failure(method, path, error, call.attempts, elapsed, _secret(request))
            raise
        call.record(response)
        elapsed = time.perf_counter() - start
        logs.log_response(method, path, response.status_code, call.attempts, elapsed)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Replay(httpx.BaseTransport):
    """The transport of httpx-retries' loop once the first attempt asked for a retry.

    The first attempt was already sent (and counted) outside the loop; the loop's own first
    send gets that outcome back, so it decides on it exactly as if it had sent it, and every
    later send is a real, counted attempt of the very same request.
    """

    def __init__(self, first: httpx.Response | Exception, attempts: _Attempts, call: _Call) -> None:
        self.first: httpx.Response | Exception | None = first
        self.attempts = attempts
        self.call = call

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        first, self.first = self.first, None
        if first is None:
            return self.attempts.send(request, self.call)
        if isinstance(first, Exception):
            raise first
        return first


class _AsyncReplay(httpx.AsyncBaseTransport):
    """The asyncio twin of _Replay."""

    def __init__(
        self, first: httpx.Response | Exception, attempts: _AsyncAttempts, call: _Call
    ) -> None:
        self.first: httpx.Response | Exception | None = first
        self.attempts = attempts
        self.call = call

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        first, self.first = self.first, None
        if first is None:
            return await self.attempts.send(request, self.call)
        if isinstance(first, Exception):
            raise first
        return first


def _needs_retry(request: httpx.Request, call: _Call, template: _CallRetry) -> bool:
    """Whether httpx-retries' loop has anything to decide after the first attempt.

    A final answer (no retry status, no error) on the first attempt is returned as is: the
    loop would return it too, so most calls skip building a per-call Retry and the loop.
    """
    return call.failed and template.is_retryable_method(request.method)


def _retrying_call(request: httpx.Request, template: _CallRetry, call: _Call) -> _CallRetry:
    # httpx-retries reads the Retry from the request when there is one there: put this call's.
    retry = template.for_call(call)
    request.extensions[_RETRY_EXTENSION] = retry
    return retry


class RetryingTransport(RetryTransport):
    """A sync transport that retries `inner` by the policy (for httpx.Client only)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._template = _call_retry(max_retries, policy or RetryPolicy())
        self._attempts = _Attempts(inner)
        super().__init__(transport=self._attempts, retry=self._template)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self._template.policy
        call = _Call(policy.clock() + policy.budget)
        first: httpx.Response | Exception
        try:
            first = self._attempts.send(request, call)
        except Exception as error:
            first = error
        try:
            if _needs_retry(request, call, self._template):
                retry = _retrying_call(request, self._template, call)
                loop = RetryTransport(_Replay(first, self._attempts, call), retry)
                first = loop.handle_request(request)
            elif isinstance(first, Exception):
                raise first
        except Exception as error:
            _gave_up(error, call)
            raise
        return _finish(first, call)


class AsyncRetryingTransport(RetryTransport):
    """An async transport that retries `inner` by the policy (for httpx.AsyncClient only)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        policy: RetryPolicy | None = None,
    ) -> None:
        self._template = _call_retry(max_retries, policy or RetryPolicy())
        self._attempts = _AsyncAttempts(inner)
        super().__init__(transport=self._attempts, retry=self._template)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy = self._template.policy
        call = _Call(policy.clock() + policy.budget)
        first: httpx.Response | Exception
        try:
            first = await self._attempts.send(request, call)
        except Exception as error:
            first = error
        try:
            if _needs_retry(request, call, self._template):
                retry = _retrying_call(request, self._template, call)
                loop = RetryTransport(_AsyncReplay(first, self._attempts, call), retry)
                first = await loop.handle_async_request(request)
            elif isinstance(first, Exception):
                raise first
        except Exception as error:
            _gave_up(error, call)
            raise
        return _finish(first, call)


# httpx.Client options that configure the default transport, which ours replaces; httpx
# would ignore them (or, for `proxy`, route around the retries) next to `transport=`.
_TRANSPORT_OPTIONS = ("limits", "http1", "http2", "proxy")


def sync_client_args(
    httpx_args: dict[str, Any],
    *,
    verify: Any,
    max_retries: int,
    policy: RetryPolicy,
) -> dict[str, Any]:
    """httpx.Client keyword arguments with the transport (given or default) made retrying."""
    args = dict(httpx_args)
    options = {name: args.pop(name) for name in _TRANSPORT_OPTIONS if name in args}
    inner = args.pop("transport", None) or httpx.HTTPTransport(verify=verify, **options)
    args["transport"] = RetryingTransport(inner, max_retries=max_retries, policy=policy)
    return args


def async_client_args(
    httpx_args: dict[str, Any],
    *,
    verify: Any,
    max_retries: int,
    policy: RetryPolicy,
) -> dict[str, Any]:
    """httpx.AsyncClient keyword arguments with the transport made retrying."""
    args = dict(httpx_args)
    options = {name: args.pop(name) for name in _TRANSPORT_OPTIONS if name in args}
    inner = args.pop("transport", None) or gated_async_transport(verify=verify, options=options)
    args["transport"] = AsyncRetryingTransport(inner, max_retries=max_retries, policy=policy)
    return args
