"""The hooks' machinery (paygentic_client/_runtime/hooks.py): when `on_stalled` fires (the
sans-I/O StallWatch, driven with numbers), and how the hooks are called (HookRunner: on a
thread of its own, never holding up the caller, an exception logged and contained)."""

from __future__ import annotations

import datetime
import logging
import threading

import pytest

from paygentic_client._runtime.hooks import NO_ANSWER_YET, HookRunner, Stall, StallWatch

WAIT = 5.0  # seconds a test waits for the hook thread; the hooks answer in microseconds


def test_nothing_waiting_is_never_a_stall() -> None:
    watch = StallWatch(stalled_after=5)

    assert watch.check(100.0, None) is None
    assert watch.deadline(None) is None


def test_events_waiting_with_no_successful_batch_stall_after_the_delay() -> None:
    watch = StallWatch(stalled_after=5)

    assert watch.deadline(10.0) == 15.0
    assert watch.check(14.9, 10.0) is None
    assert watch.check(15.0, 10.0) == Stall(NO_ANSWER_YET, 10.0)


def test_a_stall_is_reported_once_until_delivery_recovers() -> None:
    watch = StallWatch(stalled_after=5)
    watch.failed("HTTP 503")

    assert watch.check(6.0, 0.0) == Stall("HTTP 503", 0.0)
    assert watch.check(60.0, 0.0) is None and watch.deadline(0.0) is None

    watch.succeeded(61.0)
    # Still waiting events (the oldest from before the success): a new stall counts from it.
    assert watch.check(65.9, 0.0) is None
    watch.failed("httpx.ConnectError")
    assert watch.check(66.0, 0.0) == Stall("httpx.ConnectError", 61.0)


def test_a_recent_success_holds_off_a_stall_of_older_events() -> None:
    watch = StallWatch(stalled_after=5)
    watch.succeeded(3.0)

    assert watch.check(7.9, 0.0) is None
    assert watch.check(8.0, 0.0) == Stall(NO_ANSWER_YET, 3.0)


def test_events_that_arrive_after_the_last_success_count_from_their_arrival() -> None:
    watch = StallWatch(stalled_after=5)
    watch.succeeded(3.0)

    assert watch.deadline(20.0) == 25.0
    assert watch.check(24.0, 20.0) is None
    assert watch.check(25.0, 20.0) == Stall(NO_ANSWER_YET, 20.0)


@pytest.mark.parametrize("delay", [0, -1, float("nan")])
def test_stalled_after_must_be_positive(delay: float) -> None:
    with pytest.raises(ValueError, match="stalled_after"):
        StallWatch(stalled_after=delay)


def test_a_slow_hook_does_not_hold_up_the_caller() -> None:
    release = threading.Event()
    called: list[tuple[str | None, str]] = []
    threads: list[str] = []

    def on_rejected(key: str | None, reason: str) -> None:
        threads.append(threading.current_thread().name)
        release.wait(WAIT)
        called.append((key, reason))

    runner = HookRunner(on_rejected=on_rejected)
    runner.rejected("evt_1", "quantity must be >= 1")  # returns while the hook waits
    runner.rejected(None, "idempotencyKey is required")
    assert called == []

    release.set()
    assert runner.close(WAIT)
    assert called == [("evt_1", "quantity must be >= 1"), (None, "idempotencyKey is required")]
    assert threads == ["paygentic-hooks", "paygentic-hooks"]


def test_a_hook_that_raises_is_logged_and_the_next_call_still_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    called: list[str | None] = []

    def on_rejected(key: str | None, reason: str) -> None:
        called.append(key)
        if key == "evt_bad":
            raise RuntimeError("the hook is broken")

    runner = HookRunner(on_rejected=on_rejected)
    with caplog.at_level(logging.ERROR, logger="paygentic_client.ingest"):
        runner.rejected("evt_bad", "x")
        runner.rejected("evt_good", "y")
        assert runner.close(WAIT)

    assert called == ["evt_bad", "evt_good"]
    (record,) = caplog.records
    assert "on_rejected" in record.getMessage() and record.exc_info is not None


def test_on_stalled_gets_the_cause_and_an_aware_utc_datetime() -> None:
    now = datetime.datetime(2026, 12, 7, 5, 0, 0, tzinfo=datetime.UTC)
    got: list[tuple[str, datetime.datetime]] = []
    runner = HookRunner(
        on_stalled=lambda cause, since: got.append((cause, since)),
        monotonic=lambda: 1000.0,
        wall_clock=lambda: now,
    )
    runner.stalled(Stall("HTTP 503", 994.0))
    assert runner.close(WAIT)

    assert got == [("HTTP 503", now - datetime.timedelta(seconds=6))]


def test_without_hooks_nothing_is_started() -> None:
    runner = HookRunner()
    runner.rejected("evt_1", "x")
    runner.stalled(Stall("HTTP 503", 0.0))

    assert not any(t.name == "paygentic-hooks" and t.is_alive() for t in threading.enumerate())
    assert runner.close(0)


def test_a_report_after_close_starts_a_new_thread() -> None:
    called: list[str | None] = []
    runner = HookRunner(on_rejected=lambda key, reason: called.append(key))
    runner.rejected("evt_1", "x")
    assert runner.close(WAIT)
    runner.rejected("evt_2", "x")
    assert runner.close(WAIT)

    assert called == ["evt_1", "evt_2"]
