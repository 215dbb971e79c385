"""The flows both drivers run around the engine's (ingest/driver_flows.py), by hand: the
close's steps and deadlines, and a sender that outlives a bug."""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from typing import Any

import pytest

from paygentic_client.ingest.core import DEFAULT, GIVE_UP_GRACE
from paygentic_client.ingest.driver_flows import (
    Blocking,
    Cancel,
    Join,
    closing,
    deadline_of,
    remaining,
    sending,
)
from paygentic_client.ingest.engine import Wait


class FakeEngine:
    """What the flows call on an engine, and what they called."""

    def __init__(self, *, accepting: bool = True, bugs: int = 0) -> None:
        self._accepting = accepting
        self.bugs = bugs
        self.calls: list[str] = []

    def accepting(self) -> bool:
        return self._accepting

    def close(self) -> None:
        self.calls.append("close")
        self._accepting = False

    def abandon(self) -> None:
        self.calls.append("abandon")

    def finish(self, senders_stopped: bool) -> Generator[Any, Any, None]:
        self.calls.append(f"finish(senders_stopped={senders_stopped})")
        yield from ()

    def sender(self) -> Generator[Any, Any, None]:
        self.calls.append("sender")
        if self.bugs:
            self.bugs -= 1
            raise RuntimeError("a bug")
        yield from ()


class FakeReporter:
    def __init__(self, *, hooks: bool) -> None:
        self.has_hooks = hooks
        self.calls: list[str] = []

    def close_telemetry(self) -> None:
        self.calls.append("close_telemetry")

    def close_hooks(self, timeout: float | None) -> bool:
        self.calls.append(f"close_hooks({timeout is not None})")
        return True


def stop_watching() -> None:
    """A store's watch, stopped (see stores.watch)."""


def run(flow: Generator[Any, Any, None], answers: dict[type, list[Any]]) -> list[Any]:
    """Drive flow as a driver would, answering each action of a kind from answers (in
    order); the actions it yielded."""
    seen: list[Any] = []
    result: Any = None
    while True:
        try:
            action = flow.send(result)
        except StopIteration:
            return seen
        seen.append(action)
        result = action.call() if type(action) is Blocking else answers[type(action)].pop(0)


@pytest.mark.timeout(5)
def test_a_close_whose_senders_end_in_time_finishes_and_stops_watch_and_hooks() -> None:
    engine, reporter = FakeEngine(), FakeReporter(hooks=True)
    deadline = time.monotonic() + 30

    seen = run(
        closing(engine, reporter, deadline, stop_watching),  # type: ignore[arg-type]
        {Join: [True, True]},
    )

    assert seen[0] == Join(deadline)
    assert type(seen[1]) is Join and seen[1].until is not None and seen[1].until <= deadline
    assert seen[2] == Blocking(stop_watching)
    assert type(seen[3]) is Blocking and len(seen) == 4  # the hooks, last
    assert engine.calls == ["close", "finish(senders_stopped=True)"]
    assert reporter.calls == ["close_telemetry", "close_hooks(True)"]


@pytest.mark.timeout(5)
def test_a_close_past_its_deadline_abandons_gives_grace_then_cancels() -> None:
    engine, reporter = FakeEngine(), FakeReporter(hooks=False)
    before = time.monotonic()

    seen = run(
        closing(engine, reporter, before),  # type: ignore[arg-type]
        {Join: [False, False, True, True], Cancel: [True]},
    )

    kinds = [type(action) for action in seen]
    assert kinds == [Join, Join, Cancel, Join, Join]
    grace = seen[1].until - before
    assert GIVE_UP_GRACE <= grace < GIVE_UP_GRACE + 1
    assert engine.calls == ["close", "abandon", "finish(senders_stopped=True)"]
    assert reporter.calls == ["close_telemetry"]  # no hooks: nothing to wait for


@pytest.mark.timeout(5)
def test_threads_that_cannot_be_cancelled_are_not_joined_again() -> None:
    engine = FakeEngine()

    seen = run(
        closing(engine, FakeReporter(hooks=False), time.monotonic()),  # type: ignore[arg-type]
        {Join: [False, False, False], Cancel: [False]},
    )

    assert [type(action) for action in seen] == [Join, Join, Cancel, Join]
    assert engine.calls == ["close", "abandon", "finish(senders_stopped=False)"]


@pytest.mark.timeout(5)
def test_a_second_close_only_waits_for_the_senders() -> None:
    engine, reporter = FakeEngine(accepting=False), FakeReporter(hooks=True)

    seen = run(closing(engine, reporter, None), {Join: [True]})  # type: ignore[arg-type]

    assert seen == [Join(None)]
    assert engine.calls == ["close"]
    assert reporter.calls == []


@pytest.mark.timeout(5)
def test_a_sender_that_hits_a_bug_logs_it_and_starts_afresh(
    caplog: pytest.LogCaptureFixture,
) -> None:
    engine = FakeEngine(bugs=2)

    with caplog.at_level(logging.ERROR, logger="paygentic_client.ingest"):
        seen = run(sending(engine), {Wait: [None, None]})  # type: ignore[arg-type]

    assert engine.calls == ["sender"] * 3
    assert [type(action) for action in seen] == [Wait, Wait]  # a pause after each bug
    logged = [r for r in caplog.records if "sender failed unexpectedly" in r.getMessage()]
    assert len(logged) == 2 and logged[0].exc_info is not None


@pytest.mark.timeout(5)
def test_deadlines_come_from_the_timeout_or_the_default_and_never_go_negative() -> None:
    now = time.monotonic()
    assert deadline_of(None, 30.0) is None
    assert deadline_of(DEFAULT, None) is None
    default = deadline_of(DEFAULT, 30.0)
    assert default is not None and 30.0 <= default - now < 31.0
    given = deadline_of(5.0, 30.0)
    assert given is not None and 5.0 <= given - now < 6.0
    assert remaining(None) is None
    assert remaining(now - 10) == 0.0
    left = remaining(now + 10)
    assert left is not None and 9.0 < left <= 10.0
