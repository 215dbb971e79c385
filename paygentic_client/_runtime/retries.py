"""The one retry policy of paygentic_client, as a sans-I/O core: no sending, no sleeping.

`RetryPolicy` says which outcomes are worth another attempt and how long to wait first;
`RetryState` applies it to one call (or, in an ingester, to one batch). The drivers that send
and sleep are `_runtime/transport.py` (plain calls, sync and async) and the ingesters, so a
request is never retried by two stacked loops.

We own this loop instead of using httpx-retries: its public API gives no per-call retry
count, no wall-clock budget and no way to read the attempt count, and getting them meant
relying on the order its loop calls its hooks (stripe-python and openai-python also own
theirs, about this size).

Retrying POST is safe only because create and batch create carry idempotency keys: a retry
resends the very same `httpx.Request`, so the same bytes and the same key, and the API
answers a repeated key with the event it already stored instead of storing another.
"""

from __future__ import annotations

import datetime
import email.utils
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

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


async def _asyncio_sleep(seconds: float) -> None:
    """asyncio.sleep, with asyncio imported on the first async retry: a program that only
    makes sync calls never loads it (a fifth of `import httpx`; issue 11)."""
    import asyncio

    await asyncio.sleep(seconds)


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
    async_sleep: Callable[[float], Awaitable[None]] = _asyncio_sleep
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

    def wait_before(self, retry_number: int, retry_after: str | None) -> float:
        """The wait before a retry: the server's Retry-After (capped) when it sent a usable
        one, else the backoff."""
        if retry_after:
            seconds = retry_after_seconds(retry_after)
            if seconds is not None:
                return min(seconds, self.retry_after_max)
        return self.backoff(retry_number)

    def start(self, max_retries: int) -> RetryState:
        """The state of one call that may be retried `max_retries` times within the budget."""
        check_max_retries(max_retries)
        return RetryState(self, max_retries, self.clock() + self.budget)


def check_max_retries(max_retries: int) -> None:
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ValueError(f"max_retries must be an int >= 0, not {max_retries!r}")


def is_retryable_status(status_code: int) -> bool:
    return status_code in RETRY_STATUSES


def retry_after_seconds(value: str) -> float | None:
    """A Retry-After value (delay-seconds or an HTTP date) in seconds from now; None if it is
    neither. A date in the past is 0."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


class RetryState:
    """One call's attempts under a policy: after each attempt, `after_response` or
    `after_error` says how long to wait before the next one, or None when the outcome is final
    (a success, a status not worth retrying, no retries left, or a wait past the deadline)."""

    __slots__ = ("attempts", "deadline", "max_retries", "policy")

    def __init__(self, policy: RetryPolicy, max_retries: int, deadline: float) -> None:
        self.policy = policy
        self.max_retries = max_retries
        self.deadline = deadline
        self.attempts = 0

    def begin(self) -> int:
        """Count an attempt about to be sent; its number (1 for the first)."""
        self.attempts += 1
        return self.attempts

    def after_response(self, response: httpx.Response) -> float | None:
        if response.status_code not in RETRY_STATUSES:
            return None
        return self._next_wait(response.headers.get("retry-after"))

    def after_error(self, error: Exception) -> float | None:
        if not isinstance(error, RETRY_EXCEPTIONS):
            return None
        return self._next_wait(None)

    def _next_wait(self, retry_after: str | None) -> float | None:
        retries_made = self.attempts - 1
        if retries_made >= self.max_retries:
            return None
        wait = self.policy.wait_before(retries_made + 1, retry_after)
        if self.policy.clock() + wait > self.deadline:
            return None
        return wait
