"""The sans-I/O retry core on its own (_runtime/retries.py): the edges the client-level
tests in test_client_retries.py do not pin (found by scripts/mutate, see tests/MUTATION.md)."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from support.fake_clock import FakeClock

from paygentic_client import RetryPolicy
from paygentic_client._runtime.retries import check_max_retries, retry_after_seconds


def test_zero_backoffs_and_a_budget_below_a_second_are_allowed() -> None:
    policy = RetryPolicy(backoff_initial=0, backoff_max=0, retry_after_max=0, budget=0.5)
    assert policy.backoff(1) == 0
    assert policy.wait_before(1, "30") == 0


@pytest.mark.parametrize("value", [True, False, -1, 1.0, "1"])
def test_max_retries_must_be_a_plain_non_negative_int(value: object) -> None:
    with pytest.raises(ValueError, match="max_retries"):
        check_max_retries(value)  # type: ignore[arg-type]


def test_an_http_date_in_minus_0000_form_counts_from_now_in_utc() -> None:
    ahead = email.utils.formatdate(time.time() + 30, usegmt=False).replace("+0000", "-0000")
    seconds = retry_after_seconds(ahead)
    assert seconds is not None and 27 <= seconds <= 31


def test_a_date_in_the_past_is_no_wait_at_all() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(" 3 ") == 3.0


def test_a_wait_that_ends_exactly_at_the_deadline_is_taken() -> None:
    clock = FakeClock()
    policy = RetryPolicy(budget=10.0, clock=clock, jitter=lambda: 1.0, backoff_initial=2.0)
    state = policy.start(5)
    state.begin()
    clock.now += 8.0  # the first attempt took 8 s: a 2 s wait ends at the deadline itself
    assert state.after_response(httpx.Response(503)) == 2.0
    state.begin()
    clock.now += 2.0
    assert state.after_response(httpx.Response(503)) is None  # 4 s more would pass it
