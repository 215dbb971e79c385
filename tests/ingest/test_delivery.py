"""Delivery semantics, written once and run by all four ingesters (threads or asyncio ×
memory or spool: the `ingesting` fixture, tests/ingest/conftest.py), against the sandbox app
in process behind a network double that answers what a test scripts
(tests/support/network_double.py).

- Only an answer about the events rejects them: a whole-batch 400 or 422 (and a 207's
  `failed` entries, tests/ingest/test_ingest.py). Every other status is about something
  else (a rotated token, a proxy, a deploy): the events are kept and sent again, the cause is
  logged at WARNING, and stats() says since when delivery is stalled and why.
- A 413 sends the batch in halves; a single event answered 413 is rejected with the reason.
- A spool that fails (a full disk) while claiming or settling never stops the senders:
  delivery resumes by itself, and close() names the real cause.
"""

from __future__ import annotations

import datetime
import errno
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.ingest_harness import PATIENCE, Asynchronous, IngestingFactory, Threaded
from support.inprocess_sandbox import InProcessSandbox
from support.sandbox_fixture import MERCHANT_ID, TOKEN
from support.tmpfs import TmpfsFactory, fill_up

from paygentic_client import RetryPolicy
from paygentic_client.errors import (
    ApiError,
    EventRejectedError,
    IngesterClosedError,
    SpoolError,
)
from paygentic_client.ingest.journal import Journal
from paygentic_client.ingest.spool import Spool
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

FAST = RetryPolicy(backoff_initial=0.001, backoff_max=0.01)
# After a failed send the ingester waits PATIENCE: a test reads its state meanwhile.
STALLED = RetryPolicy(backoff_initial=PATIENCE, backoff_max=PATIENCE, jitter=lambda: 1.0)
# Whole-batch answers that say nothing about the events: a redirect, a token, a wrong URL, a
# proxy, a status outside the contract (every one of the list is in
# test_ingest_core.py's verdict test; these run end to end in all four ingesters).
NOT_ABOUT_THE_EVENTS = ["308", "401", "404", "409", "522", "599"]


# One sandbox app for the module (making one takes ~0.5 s, and this module runs ~50 tests in
# the fast tier); each test's events have keys of their own, and the double is reset.
_runs = itertools.count()


@pytest.fixture(scope="module")
def shared_api() -> Iterator[InProcessSandbox]:
    sandbox = InProcessSandbox()
    yield sandbox
    sandbox.close()


@pytest.fixture
def api(shared_api: InProcessSandbox) -> InProcessSandbox:
    shared_api.network.script = []
    shared_api.network.sent.clear()
    return shared_api


class Run:
    """This test's events: keys of its own in the shared sandbox."""

    def __init__(self, api: InProcessSandbox) -> None:
        self.api = api
        self.prefix = f"dlv{next(_runs)}_"

    def usage(self, n: int) -> CreateUsageEventRequest:
        return CreateUsageEventRequest(
            idempotency_key=self.key(n),
            customer_id="cus_delivery",
            merchant_id=MERCHANT_ID,
            timestamp=datetime.datetime(2024, 4, 1, 8, 0, tzinfo=datetime.UTC),
            properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_d", quantity=1)],
        )

    def key(self, n: int) -> str:
        return f"{self.prefix}{n:05d}"

    def keys(self, count: int) -> list[str]:
        return [self.key(n) for n in range(count)]

    def stored(self) -> list[str]:
        return sorted(key for key in self.api.stored_keys() if key.startswith(self.prefix))


@pytest.fixture
def run(api: InProcessSandbox) -> Run:
    return Run(api)


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        yield caplog


def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + PATIENCE
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


# -- only an answer about the events rejects them ------------------------------------------


@pytest.mark.parametrize("status", NOT_ABOUT_THE_EVENTS)
def test_an_answer_not_about_the_events_keeps_them_and_sends_them_again(
    ingesting: IngestingFactory, api: InProcessSandbox, run: Run, status: str
) -> None:
    api.network.script = [status]
    ingester = ingesting(api.dual_client(retry_policy=FAST), flush_interval=PATIENCE)
    handles = [ingester.submit(run.usage(n)) for n in range(3)]
    assert ingester.flush(timeout=PATIENCE)
    assert [h.result(timeout=0).idempotency_key for h in handles] == run.keys(3)
    assert api.network.batch_sizes() == [3, 3]  # the refused send, and the same batch again
    assert run.stored() == run.keys(3)
    stats = ingester.stats()
    assert (stats.delivered, stats.failed, stats.retried_batches) == (3, 0, 1)
    assert (stats.stalled_for, stats.stall_cause) == (None, None)  # it works again
    ingester.close(PATIENCE)
    assert ingester.spool_status() == (0, 0, 0)


@pytest.mark.parametrize("status", ["400", "422"])
def test_a_whole_batch_400_or_422_rejects_every_event_of_it(
    ingesting: IngestingFactory, api: InProcessSandbox, run: Run, status: str
) -> None:
    api.network.script = [status]
    ingester = ingesting(api.dual_client(retry_policy=FAST), flush_interval=PATIENCE)
    handles = [ingester.submit(run.usage(n)) for n in range(2)]
    assert ingester.flush(timeout=PATIENCE)
    for handle in handles:
        error = handle.exception(timeout=0)
        assert isinstance(error, ApiError) and error.status_code == int(status)
    assert len(api.network.sent) == 1  # not sent again
    assert run.stored() == []
    assert ingester.stats().failed == 2
    ingester.close(PATIENCE)
    if ingester.spool is not None:
        assert ingester.spool_status() == (0, 0, 2)
        assert [key for key, _ in ingester.rejected()] == run.keys(2)
        assert all(f"injected {status}" in reason for _, reason in ingester.rejected())


def test_a_stalled_delivery_says_since_when_and_why_and_close_names_the_cause(
    ingesting: IngestingFactory, api: InProcessSandbox, run: Run, logged: pytest.LogCaptureFixture
) -> None:
    api.network.script = ["401"] * 1000
    ingester = ingesting(api.dual_client(retry_policy=STALLED), flush_interval=0.01)
    handle = ingester.submit(run.usage(0))
    eventually(lambda: ingester.stats().stall_cause is not None, "no stall seen")
    started = time.monotonic()
    stats = ingester.stats()
    assert stats.stall_cause is not None and stats.stall_cause.startswith("HTTP 401")
    assert stats.stalled_for is not None and 0 <= stats.stalled_for < PATIENCE
    time.sleep(0.05)
    later = ingester.stats().stalled_for
    assert later is not None and later >= stats.stalled_for + 0.04
    assert time.monotonic() - started < PATIENCE  # it did not wait out the backoff
    [warning] = [r for r in logged.records if "failed (HTTP 401" in r.getMessage()]
    assert warning.levelno == logging.WARNING
    assert TOKEN not in warning.getMessage()
    ingester.close(0)
    error = handle.exception(timeout=0)
    assert isinstance(error, IngesterClosedError)
    assert "last cause: HTTP 401 Unauthorized" in str(error)
    assert isinstance(error.__cause__, ApiError) and error.__cause__.status_code == 401
    assert run.stored() == []
    assert ingester.spool_status()[::2] == ((1, 0) if ingester.spool else (0, 0))


# -- 413: too large ----------------------------------------------------------------------------


def test_a_batch_answered_413_is_sent_in_halves(
    ingesting: IngestingFactory, api: InProcessSandbox, run: Run
) -> None:
    api.network.script = ["413", "413"]
    ingester = ingesting(api.dual_client(retry_policy=FAST), flush_interval=PATIENCE)
    handles = [ingester.submit(run.usage(n)) for n in range(5)]
    assert ingester.flush(timeout=PATIENCE)
    assert [h.result(timeout=0).idempotency_key for h in handles] == run.keys(5)
    # 5 refused; its first half (2) refused too, sent as 1 and 1; then the second half (3).
    assert api.network.batch_sizes() == [5, 2, 1, 1, 3]
    assert run.stored() == run.keys(5)
    assert ingester.stats().retried_batches == 0  # halves are new batches, not retries


def test_a_single_event_answered_413_is_rejected_with_the_reason(
    ingesting: IngestingFactory, api: InProcessSandbox, run: Run
) -> None:
    api.network.script = ["413"]
    ingester = ingesting(api.dual_client(retry_policy=FAST), flush_interval=PATIENCE)
    handle = ingester.submit(run.usage(0))
    assert ingester.flush(timeout=PATIENCE)
    error = handle.exception(timeout=0)
    assert isinstance(error, EventRejectedError)
    assert error.reason.startswith("the API refused the event as too large: HTTP 413")
    assert error.idempotency_key == run.key(0)
    assert len(api.network.sent) == 1
    ingester.close(PATIENCE)
    if ingester.spool is not None:
        [(key, reason)] = ingester.rejected()
        assert key == run.key(0) and reason == error.reason


# -- a spool that fails: a full disk ----------------------------------------------------------


FULL = "spool x: could not {}: the disk is full (or the spool reached max_bytes) [SQLITE_FULL]"


class DiskFull:
    """Makes Spool.<method> fail as a full disk does while `full` is set."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, method: str, doing: str) -> None:
        self.full = True
        self.calls = 0
        real = getattr(Spool, method)

        def failing(spool: Spool, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.full:
                raise SpoolError(FULL.format(doing))
            return real(spool, *args, **kwargs)

        monkeypatch.setattr(Spool, method, failing)
        if method == "settle":  # an ingester's own events are settled in its journal
            real_settled = Journal.settled

            def failing_write(journal: Journal, ns: Any) -> None:
                self.calls += 1
                if self.full:
                    raise OSError(errno.ENOSPC, "No space left on device")
                real_settled(journal, ns)

            monkeypatch.setattr(Journal, "settled", failing_write)


@pytest.mark.usefixtures("direct_spool")
@pytest.mark.parametrize("ingest_store", ["spool"], indirect=True)
def test_a_full_disk_while_claiming_stalls_delivery_until_space_comes_back(
    ingesting: IngestingFactory,
    api: InProcessSandbox,
    run: Run,
    monkeypatch: pytest.MonkeyPatch,
    logged: pytest.LogCaptureFixture,
) -> None:
    disk = DiskFull(monkeypatch, "claim", "claim events")
    ingester = ingesting(api.dual_client(retry_policy=FAST), flush_interval=0.01)
    handle = ingester.submit(run.usage(0))
    eventually(lambda: disk.calls >= 3, "the senders stopped trying")
    cause = ingester.stats().stall_cause
    assert (
        cause is not None and "could not claim events: spool x" in cause and "disk is full" in cause
    )
    disk.full = False  # space is back: no restart, delivery resumes
    assert handle.result(timeout=PATIENCE).idempotency_key == run.key(0)
    eventually(lambda: ingester.stats().stall_cause is None, "still stalled")
    assert run.stored() == [run.key(0)]
    assert not [r for r in logged.records if r.levelno >= logging.ERROR]
    ingester.close(PATIENCE)
    assert ingester.spool_status() == (0, 0, 0)


@pytest.mark.parametrize("ingest_store", ["spool"], indirect=True)
def test_a_full_disk_while_settling_keeps_trying_and_close_names_it(
    ingesting: IngestingFactory, api: InProcessSandbox, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = DiskFull(monkeypatch, "settle", "record the API's answer")
    ingester = ingesting(api.dual_client(retry_policy=FAST), flush_interval=0.01)
    handle = ingester.submit(run.usage(0))
    eventually(lambda: disk.calls >= 3, "the senders stopped trying")
    assert len(api.network.sent) == 1  # the answer is known: settling is retried, not sending
    ingester.close(0.2)
    error = handle.exception(timeout=0)
    assert isinstance(error, IngesterClosedError)
    assert "last cause: could not record the API's answer: spool " in str(error)
    assert "disk is full" in str(error)
    assert isinstance(error.__cause__, SpoolError)
    # Still pending: the next ingester sends it again, and the API answers with the same event.
    assert ingester.spool_status()[0] == 1


@pytest.mark.parametrize("ingest_store", ["spool"], indirect=True)
def test_settling_resumes_by_itself_when_space_comes_back(
    ingesting: IngestingFactory, api: InProcessSandbox, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = DiskFull(monkeypatch, "settle", "record the API's answer")
    ingester = ingesting(api.dual_client(retry_policy=FAST), flush_interval=0.01)
    handle = ingester.submit(run.usage(0))
    eventually(lambda: disk.calls >= 3, "the senders stopped trying")
    assert not ingester.flush(timeout=0)  # no handle says created while its row is pending
    disk.full = False
    assert handle.result(timeout=PATIENCE).idempotency_key == run.key(0)
    assert len(api.network.sent) == 1
    ingester.close(PATIENCE)
    assert ingester.spool_status() == (0, 0, 0)


@pytest.mark.usefixtures("direct_spool")
def test_an_ingester_on_a_disk_that_fills_up_delivers_once_space_is_freed(
    api: InProcessSandbox, run: Run, small_tmpfs: TmpfsFactory, ingest_driver: str
) -> None:
    """A real full disk (a tmpfs of the test's own, filled up), threads and asyncio: the
    senders' claims fail with SQLITE_FULL, delivery stalls and says why, and once the ballast
    is removed the events go by themselves, without a restart."""
    point = small_tmpfs("2m")
    kind = Threaded if ingest_driver == "threads" else Asynchronous
    ingester = kind(api.dual_client(retry_policy=FAST), point / "s.db", flush_interval=60)
    try:
        handles = [ingester.submit(run.usage(n)) for n in range(20)]
        ballast = point / "ballast"
        fill_up(ballast)
        assert not ingester.flush(timeout=0)  # claim now: on a full disk
        eventually(lambda: "disk is full" in (ingester.stats().stall_cause or ""), "no stall seen")
        assert api.network.sent == []
        ballast.unlink()
        assert [h.result(timeout=PATIENCE).idempotency_key for h in handles] == run.keys(20)
        assert run.stored() == run.keys(20)
        ingester.close(PATIENCE)
        assert ingester.spool_status() == (0, 0, 0)
    finally:
        if isinstance(ingester, Asynchronous):
            ingester.stop()
        else:
            ingester.close(1.0)
