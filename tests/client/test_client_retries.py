"""Retries: which failures, how many attempts, the waits, the budget, identical bodies.

A scripted MockTransport answers each attempt in turn; the RetryPolicy's sleeps are recorded
instead of taken, and its clock only moves when a sleep is recorded, so these tests are exact
and take no time.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from support.client_harness import BASE_URL, OPERATIONS, TOKEN
from support.spec_support import SPEC

from paygentic_client import AuthenticatedClient, errors
from paygentic_client._runtime.retries import ATTEMPTS_HEADER, RetryPolicy
from paygentic_client.api.usage_events import (
    batch_create_usage_events,
    create_usage_event,
    get_usage_event,
)

EVENT = SPEC["components"]["examples"]["BilledUsageEvent"]["value"]
RETRIED = [408, 429, 500, 502, 503, 504]
NOT_RETRIED = [400, 401, 403, 404, 422]
# A failure without a response: what httpx raises for it, built for a request.
Outcome = int | httpx.Response | Callable[[httpx.Request], Exception]


def connect_error(request: httpx.Request) -> Exception:
    return httpx.ConnectError("connection refused", request=request)


def read_timeout(request: httpx.Request) -> Exception:
    return httpx.ReadTimeout("timed out", request=request)


def dropped(request: httpx.Request) -> Exception:
    return httpx.RemoteProtocolError("Server disconnected without sending a response.")


@dataclass
class Clock:
    """time.monotonic and the sleeps of a RetryPolicy: sleeping records and advances."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def policy(self, **options: Any) -> RetryPolicy:
        defaults: dict[str, Any] = {"jitter": lambda: 1.0}
        return RetryPolicy(
            sleep=self.sleep,
            async_sleep=self.async_sleep,
            clock=lambda: self.now,
            **{**defaults, **options},
        )


@dataclass
class ScriptedApi:
    """Answers attempt n with outcomes[n] (the last one repeats) and keeps every request."""

    outcomes: list[Outcome]
    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.outcomes[min(len(self.requests), len(self.outcomes)) - 1]
        if isinstance(outcome, httpx.Response):
            return outcome
        if isinstance(outcome, int):
            body = EVENT if outcome < 300 else {"error": "x", "message": f"status {outcome}"}
            return httpx.Response(outcome, json=body)
        raise outcome(request)

    def client(self, clock: Clock, max_retries: int = 3, **options: Any) -> AuthenticatedClient:
        return AuthenticatedClient(
            base_url=BASE_URL,
            token=TOKEN,
            httpx_args={"transport": httpx.MockTransport(self.handle)},
            max_retries=max_retries,
            retry_policy=clock.policy(**options),
        )


def get_sync(client: AuthenticatedClient) -> Any:
    return get_usage_event.sync_detailed("usg_9f8e7d6c5b4a", client=client)


def get_async(client: AuthenticatedClient) -> Any:
    return asyncio.run(get_usage_event.asyncio_detailed("usg_9f8e7d6c5b4a", client=client))


CALLS = pytest.mark.parametrize("call", [get_sync, get_async], ids=["sync", "async"])


@CALLS
@pytest.mark.parametrize("status", RETRIED)
def test_a_retried_status_is_retried_until_success(status: int, call: Any) -> None:
    api, clock = ScriptedApi([status, status, 200]), Clock()
    response = call(api.client(clock))
    assert response.status_code == 200
    assert response.attempts == 3
    assert response.headers[ATTEMPTS_HEADER] == "3"
    assert len(api.requests) == 3
    assert len(clock.sleeps) == 2


@CALLS
@pytest.mark.parametrize("status", NOT_RETRIED)
def test_other_4xx_are_never_retried(status: int, call: Any) -> None:
    api, clock = ScriptedApi([status, 200]), Clock()
    response = call(api.client(clock))
    assert response.status_code == status
    assert response.attempts == 1
    assert len(api.requests) == 1
    assert clock.sleeps == []


@CALLS
@pytest.mark.parametrize("failure", [connect_error, read_timeout, dropped])
def test_a_call_without_a_response_is_retried(failure: Any, call: Any) -> None:
    api, clock = ScriptedApi([failure, failure, 200]), Clock()
    assert call(api.client(clock)).attempts == 3
    assert len(api.requests) == 3


@CALLS
def test_after_max_retries_the_last_response_is_returned(call: Any) -> None:
    api, clock = ScriptedApi([503]), Clock()
    response = call(api.client(clock, max_retries=2))
    assert (response.status_code, response.attempts, len(api.requests)) == (503, 3, 3)


@CALLS
def test_max_retries_0_turns_retries_off(call: Any) -> None:
    api, clock = ScriptedApi([503, 200]), Clock()
    response = call(api.client(clock, max_retries=0))
    assert (response.status_code, response.attempts, len(api.requests)) == (503, 1, 1)


def test_the_error_raised_after_the_last_retry_carries_the_attempts() -> None:
    api, clock = ScriptedApi([500]), Clock()
    with pytest.raises(errors.InternalServerError) as raised:
        get_usage_event.sync("usg_9f8e7d6c5b4a", client=api.client(clock))
    assert raised.value.headers[ATTEMPTS_HEADER] == "4"
    assert len(api.requests) == 4


@CALLS
def test_the_last_connection_error_is_raised_with_a_note(call: Any) -> None:
    api, clock = ScriptedApi([connect_error]), Clock()
    with pytest.raises(errors.ApiConnectionError) as raised:
        call(api.client(clock, max_retries=2))
    assert len(api.requests) == 3
    assert not isinstance(raised.value, errors.ApiTimeoutError)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert "3 attempts" in str(raised.value)


@pytest.mark.parametrize(
    ("operation_id", "module"),
    [
        ("createUsageEvent", create_usage_event),
        ("batchCreateUsageEvents", batch_create_usage_events),
    ],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_retried_post_resends_the_byte_identical_body(
    operation_id: str, module: Any, mode: str
) -> None:
    success = 201 if operation_id == "createUsageEvent" else 200
    api = ScriptedApi([dropped, 503, httpx.Response(429, headers={"Retry-After": "1"}), success])
    client = api.client(Clock())
    kwargs = OPERATIONS[operation_id].kwargs()
    if mode == "sync":
        module.sync_detailed(client=client, **kwargs)
    else:
        asyncio.run(module.asyncio_detailed(client=client, **kwargs))

    assert [request.method for request in api.requests] == ["POST"] * 4
    bodies = {request.content for request in api.requests}
    assert len(bodies) == 1
    assert json.loads(bodies.pop()) == kwargs["body"].to_dict()


def test_the_backoff_doubles_up_to_its_cap() -> None:
    api, clock = ScriptedApi([503]), Clock()
    get_sync(api.client(clock, max_retries=4, backoff_initial=0.5, backoff_max=1.5))
    assert clock.sleeps == [0.5, 1.0, 1.5, 1.5]


def test_the_backoff_is_jittered_below_its_bound() -> None:
    draws = iter([0.25, 0.5, 0.0])
    api, clock = ScriptedApi([503]), Clock()
    get_sync(api.client(clock, backoff_initial=1.0, jitter=lambda: next(draws)))
    assert clock.sleeps == [0.25, 1.0, 0.0]


def test_the_default_jitter_stays_below_the_bound() -> None:
    api, clock = ScriptedApi([503]), Clock()
    client = AuthenticatedClient(
        base_url=BASE_URL,
        token=TOKEN,
        httpx_args={"transport": httpx.MockTransport(api.handle)},
        retry_policy=RetryPolicy(sleep=clock.sleep, clock=lambda: clock.now),
    )
    get_sync(client)
    assert all(0 <= s <= bound for s, bound in zip(clock.sleeps, [0.5, 1, 2], strict=True))


@CALLS
def test_retry_after_seconds_is_honoured(call: Any) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "x", "message": "m"})
    api, clock = ScriptedApi([limited, 200]), Clock()
    assert call(api.client(clock)).attempts == 2
    assert clock.sleeps == [7.0]


def test_retry_after_as_an_http_date_is_honoured() -> None:
    sent = time.time()
    # An HTTP date has whole seconds: the answer names the second 30 s from now, cut down.
    due = int(sent + 30)
    when = email.utils.formatdate(due, usegmt=True)
    api, clock = ScriptedApi([httpx.Response(503, headers={"Retry-After": when}), 200]), Clock()
    get_sync(api.client(clock))
    answered = time.time()
    (slept,) = clock.sleeps
    # The wait runs from when the policy read the date, some time between the two readings of
    # the clock (however slow the machine), to the date; 1 ms for the float arithmetic.
    assert due - answered - 0.001 <= slept <= due - sent + 0.001


def test_retry_after_is_capped() -> None:
    api, clock = ScriptedApi([httpx.Response(429, headers={"Retry-After": "3600"}), 200]), Clock()
    get_sync(api.client(clock, retry_after_max=20.0))
    assert clock.sleeps == [20.0]


def test_a_retry_after_that_is_not_a_time_falls_back_to_the_backoff() -> None:
    api, clock = ScriptedApi([httpx.Response(503, headers={"Retry-After": "soon"}), 200]), Clock()
    get_sync(api.client(clock, backoff_initial=0.5))
    assert clock.sleeps == [0.5]


@CALLS
def test_no_wait_past_the_budget_is_taken_and_the_last_error_is_raised(call: Any) -> None:
    # Waits of 1, 2, 4: after the second attempt (t=1), a wait of 2 would end at 3 > 2.5.
    api, clock = ScriptedApi([connect_error]), Clock()
    with pytest.raises(errors.ApiConnectionError):
        call(api.client(clock, max_retries=5, backoff_initial=1.0, budget=2.5))
    assert clock.sleeps == [1.0]
    assert len(api.requests) == 2


def test_a_retry_after_beyond_the_budget_ends_the_call_at_once() -> None:
    limited = httpx.Response(
        429, headers={"Retry-After": "30"}, json={"error": "x", "message": "m"}
    )
    api, clock = ScriptedApi([limited, 200]), Clock()
    with pytest.raises(errors.RateLimitError) as raised:
        get_usage_event.sync("usg_9f8e7d6c5b4a", client=api.client(clock, budget=10.0))
    assert clock.sleeps == []
    assert raised.value.headers[ATTEMPTS_HEADER] == "1"


def test_the_budget_counts_the_time_spent_in_attempts() -> None:
    clock = Clock()

    def slow(request: httpx.Request) -> Exception:
        clock.now += 4.5  # the attempt itself took 4.5 s
        return httpx.ReadTimeout("timed out", request=request)

    api = ScriptedApi([slow])
    with pytest.raises(errors.ApiTimeoutError) as timed_out:
        get_sync(api.client(clock, max_retries=10, backoff_initial=0.5, budget=10.0))
    # t=4.5, wait 0.5, t=9.5: a wait of 1 would end at 10.5 > 10, so two attempts.
    assert len(api.requests) == 2
    assert clock.sleeps == [0.5]
    assert isinstance(timed_out.value.__cause__, httpx.ReadTimeout)


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(ValueError, match="budget"):
        RetryPolicy(budget=0)
    with pytest.raises(ValueError, match="backoff_max"):
        RetryPolicy(backoff_max=-1)
    with pytest.raises(ValueError, match="max_retries"):
        loopback = "http://127.0.0.1:9"
        AuthenticatedClient(base_url=loopback, token=TOKEN, max_retries=-1).get_httpx_client()
