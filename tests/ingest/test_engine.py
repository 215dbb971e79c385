"""The delivery engine (paygentic_client/ingest/engine.py) driven by hand: no thread, no
socket, no sleep. A test steps a sender's flow, answers each action it yields (a response, an
exception, a store's result) and moves a fake clock; what the engine asks for next, and what
its stats() say, is the behaviour. The drivers only perform these actions
(tests/ingest/test_delivery.py runs the same semantics through all four ingesters)."""

from __future__ import annotations

import logging

import pytest
from support.engine_rig import (
    FLUSH,
    Rig,
    Store,
    created,
    drive_store,
    refused,
    sent_keys,
    usage,
)

from paygentic_client.errors import (
    ApiError,
    EventRejectedError,
    IngesterClosedError,
)
from paygentic_client.ingest.core import encode_billed
from paygentic_client.ingest.engine import (
    ABANDONED,
    CLOSED,
    CLOSING,
    FLUSHING,
    OPEN,
    TRANSITIONS,
    Flow,
    Lifecycle,
    Resolve,
    StoreCall,
    Wait,
)

# -- the lifecycle -----------------------------------------------------------------------------


def test_the_lifecycle_is_one_table_of_transitions() -> None:
    assert TRANSITIONS == {
        (OPEN, "flush"): FLUSHING,
        (FLUSHING, "drained"): OPEN,
        (OPEN, "close"): CLOSING,
        (FLUSHING, "close"): CLOSING,
        (CLOSING, "deadline"): ABANDONED,
        (OPEN, "finish"): CLOSED,
        (FLUSHING, "finish"): CLOSED,
        (CLOSING, "finish"): CLOSED,
        (ABANDONED, "finish"): CLOSED,
    }
    assert [state.value for state in Lifecycle] == [
        "open",
        "flushing",
        "closing",
        "abandoned",
        "closed",
    ]


def test_what_the_table_lacks_changes_nothing() -> None:
    rig = Rig()
    rig.engine.abandon()  # no deadline before a close
    assert rig.engine.state is OPEN
    rig.engine.close()
    rig.engine.flush()  # a flush while closing stays closing
    assert rig.engine.state is CLOSING
    rig.engine.close()
    assert rig.engine.state is CLOSING
    rig.engine.abandon()
    assert rig.engine.state is ABANDONED
    with pytest.raises(IngesterClosedError, match="the ingester is closed") as caught:
        rig.submit(1)
    assert caught.value.idempotency_key == "eng_1"


# -- when a batch is claimed -----------------------------------------------------------------


def test_a_lone_event_is_sent_once_it_waited_flush_interval() -> None:
    rig = Rig()
    flow = rig.engine.sender()
    assert next(flow) == Wait(None)  # nothing to do: until woken
    rig.submit(1)
    assert rig.wakes == 1  # the first event: a sender starts its flush_interval
    assert flow.send(None) == Wait(100.0 + FLUSH)
    rig.clock.now = 100.0 + FLUSH - 0.001
    assert flow.send(None) == Wait(100.0 + FLUSH)
    rig.clock.now = 100.0 + FLUSH
    assert sent_keys(flow.send(None)) == ["eng_1"]


def test_a_full_batch_wakes_the_senders_and_is_claimed_at_once() -> None:
    rig = Rig(max_batch_size=3)
    flow = rig.engine.sender()
    next(flow)
    rig.submit(1, 2)
    assert rig.wakes == 1
    rig.submit(3)
    assert rig.wakes == 2
    assert sent_keys(flow.send(None)) == ["eng_1", "eng_2", "eng_3"]
    assert rig.engine.busy()


def test_a_batch_is_claimed_when_the_next_event_would_not_fit_its_bytes() -> None:
    size = len(encode_billed(usage(1))[1])
    body_of_two = len(b'{"events":[]}') + 2 * size + 1
    rig = Rig(max_batch_bytes=body_of_two)
    flow = rig.engine.sender()
    next(flow)
    rig.submit(1, 2)
    assert rig.wakes == 1  # two fit exactly
    rig.submit(3)
    assert rig.wakes == 2
    assert sent_keys(flow.send(None)) == ["eng_1", "eng_2"]


def test_a_flush_claims_a_partial_batch_at_once_then_the_engine_is_open_again() -> None:
    rig = Rig()
    flow = rig.engine.sender()
    next(flow)
    rig.submit(1, 2)
    assert rig.engine.flush() == ["handle_1", "handle_2"]
    assert rig.engine.state is FLUSHING
    assert sent_keys(flow.send(None)) == ["eng_1", "eng_2"]
    assert rig.engine.state is OPEN


def test_max_queue_counts_what_waits_in_memory() -> None:
    rig = Rig(max_queue=2)
    rig.submit(1)
    assert rig.engine.has_room()
    rig.submit(2)
    assert not rig.engine.has_room()
    flow = rig.engine.sender()
    rig.engine.flush()
    next(flow)  # claimed: room again
    assert rig.engine.has_room()
    assert Rig(Store(), max_queue=1).engine.has_room()  # a spool is not bounded by it


# -- answers -----------------------------------------------------------------------------------


def test_an_answer_not_about_the_events_waits_as_the_policy_says_and_sends_the_same_bytes() -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    first = next(flow)
    assert flow.send(refused(401)) == Wait(100.5)  # the first retry's backoff: 0.5 s
    stats = rig.engine.stats()
    assert stats.stall_cause is not None and stats.stall_cause.startswith("HTTP 401")
    assert (stats.stalled_for, stats.retried_batches, stats.failed) == (0.0, 1, 0)
    rig.clock.now = 100.25
    assert rig.engine.stats().stalled_for == 0.25
    assert flow.send(None) == Wait(100.5)  # woken early: waits on
    rig.clock.now = 100.5
    assert flow.send(None) == first  # the same bytes
    assert flow.send(refused(503)) == Wait(101.5)  # the second retry's: 1 s
    rig.clock.now = 101.5
    assert flow.send(None) == first
    resolve = flow.send(created(1))
    assert isinstance(resolve, Resolve) and resolve.pairs == [("handle_1", 0)]
    assert flow.send((1, 0)) == Wait(None)
    stats = rig.engine.stats()
    assert (stats.delivered, stats.retried_batches, stats.in_queue) == (1, 2, 0)
    assert (stats.stalled_for, stats.stall_cause) == (None, None)
    assert rig.observer.seen == [
        ("submitted", 1),
        ("started", 1),
        ("retried", 1, stats_reason(401)),
        ("started", 1),
        ("retried", 1, "HTTP 503"),
        ("started", 1),
        ("ended", 1, 1, 0, [1.5]),  # accepted at 100.0, answered at 101.5
    ]


def stats_reason(status: int) -> str:
    return f"HTTP {status} {'Unauthorized'} (refused): refused {status}"


@pytest.mark.parametrize("status", [400, 422])
def test_a_whole_batch_400_or_422_fails_every_handle_with_the_error(status: int) -> None:
    rig = Rig()
    rig.submit(1, 2)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    resolve = flow.send(refused(status))
    assert isinstance(resolve, Resolve)
    assert [handle for handle, _ in resolve.pairs] == ["handle_1", "handle_2"]
    errors = [error for _, error in resolve.pairs]
    assert all(isinstance(error, ApiError) and error.status_code == status for error in errors)
    flow.send((0, 2))
    assert (rig.engine.stats().failed, rig.engine.stats().retried_batches) == (2, 0)
    assert rig.observer.seen[-1] == ("ended", 2, 0, 2, [0.0, 0.0])


def test_a_413_sends_the_halves_and_rejects_a_single_event() -> None:
    rig = Rig()
    rig.submit(1, 2, 3)
    rig.engine.flush()
    flow = rig.engine.sender()
    assert sent_keys(next(flow)) == ["eng_1", "eng_2", "eng_3"]
    assert sent_keys(flow.send(refused(413))) == ["eng_1"]
    resolve = flow.send(refused(413))
    assert isinstance(resolve, Resolve)
    [(handle, error)] = resolve.pairs
    assert handle == "handle_1" and isinstance(error, EventRejectedError)
    assert error.reason.startswith("the API refused the event as too large: HTTP 413")
    assert sent_keys(flow.send((0, 1))) == ["eng_2", "eng_3"]
    resolve = flow.send(created(2, 3))
    assert isinstance(resolve, Resolve) and [h for h, _ in resolve.pairs] == [
        "handle_2",
        "handle_3",
    ]
    flow.send((2, 0))
    assert (rig.engine.stats().delivered, rig.engine.stats().failed) == (2, 1)


def test_an_unexpected_error_is_logged_once_at_error_and_the_batch_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    first = next(flow)
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        assert flow.send(RuntimeError("a broken transport")) == Wait(100.5)
        rig.clock.now = 100.5
        assert flow.send(None) == first
        flow.send(RuntimeError("a broken transport"))
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["a batch could not be sent: a broken transport"]
    assert rig.engine.stats().stall_cause == "a broken transport"


# -- a store the driver calls, that may fail ---------------------------------------------------


def test_a_failing_store_backs_off_says_why_and_resumes() -> None:
    store = Store()
    rig = Rig(store)
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    store.failing.add("claim")
    assert flow.send(drive_store(next(flow))) == Wait(100.5)
    cause = rig.engine.stats().stall_cause
    assert cause == "could not claim events: spool test: could not claim: the disk is full"
    rig.clock.now = 100.5
    assert flow.send(drive_store(flow.send(None))) == Wait(101.5)  # the second backoff
    store.failing.clear()
    rig.clock.now = 101.5
    assert sent_keys(flow.send(drive_store(flow.send(None)))) == ["eng_1"]
    assert rig.engine.stats().stall_cause is None  # the store works again
    settle = flow.send(created(1))
    store.failing.add("settle")
    assert flow.send(drive_store(settle)) == Wait(102.0)  # backoff(1) again: 0.5 s
    assert rig.engine.stats().stall_cause == (
        "could not record the API's answer: spool test: could not settle: the disk is full"
    )
    store.failing.clear()
    rig.clock.now = 102.0
    resolve = flow.send(drive_store(flow.send(None)))
    assert isinstance(resolve, Resolve)
    flow.send((1, 0))
    assert store.calls == ["claim", "claim", "claim", "settle", "settle"]
    assert rig.engine.stats().delivered == 1


def test_a_batch_retried_for_a_third_of_the_lease_has_its_claim_renewed() -> None:
    store = Store()
    rig = Rig(store)
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    first = flow.send(drive_store(next(flow)))  # claimed at 100
    assert flow.send(refused(503)) == Wait(100.5)
    rig.clock.now = 100.5
    assert flow.send(None) == first  # half a second: no renewal yet
    assert flow.send(refused(503)) == Wait(101.5)
    rig.clock.now = 101.5
    renew = flow.send(None)  # 1.5 s: more than a third of the 3 s lease
    assert isinstance(renew, StoreCall)
    assert flow.send(drive_store(renew)) == first
    assert store.calls == ["claim", "renew"]


def test_the_close_deadline_gives_back_a_batch_and_fails_what_is_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    rig = Rig(store)
    rig.submit(1, 2)
    rig.engine.close()
    flow = rig.engine.sender()
    assert sent_keys(flow.send(drive_store(next(flow)))) == ["eng_1", "eng_2"]
    assert isinstance(flow.send(refused(503)), Wait)
    rig.engine.abandon()
    release = flow.send(None)
    assert isinstance(release, StoreCall)
    with pytest.raises(StopIteration):
        flow.send(drive_store(release))
    assert store.calls[-1] == "release"
    finish: Flow[None] = rig.engine.finish(senders_stopped=True)
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        resolve = finish.send(drive_store(next(finish)))  # the last answers: none
    assert isinstance(resolve, Resolve)
    errors = [error for _, error in resolve.pairs]
    assert [error.idempotency_key for error in errors] == ["eng_1", "eng_2"]
    assert (
        str(errors[0])
        == "the ingester was closed before it was acknowledged (last cause: HTTP 503)"
    )
    assert isinstance(errors[0].__cause__, RuntimeError)
    [line] = [r for r in caplog.records if "were not delivered" in r.getMessage()]
    assert line.levelno == logging.ERROR and "eng_1, eng_2" in line.getMessage()
    close = finish.send((0, 2))
    with pytest.raises(StopIteration):
        finish.send(drive_store(close))
    assert store.calls[-2:] == ["answers", "close"]
    assert rig.engine.state is CLOSED
    stats = rig.engine.stats()
    assert (stats.failed, stats.in_queue) == (2, 0)


def test_a_sender_ends_when_closing_leaves_nothing_of_this_process() -> None:
    rig = Rig()
    flow = rig.engine.sender()
    next(flow)
    rig.engine.close()
    with pytest.raises(StopIteration):
        flow.send(None)


def test_a_store_change_claims_at_once_and_one_during_a_claim_claims_again() -> None:
    store = Store()  # shared: it looks for other processes' events every flush_interval
    rig = Rig(store)
    start = rig.clock.now
    flow = rig.engine.sender()
    assert next(flow) == Wait(start + FLUSH)  # idle: the next poll
    rig.engine.store_changed()  # a NOTIFY: another process committed events
    claim = flow.send(None)
    assert isinstance(claim, StoreCall)
    answers = flow.send(drive_store(claim))  # nothing there: it looks for answers
    assert flow.send(drive_store(answers)) == Wait(start + FLUSH)  # and polls as before
    rig.clock.now = start + FLUSH
    claim = flow.send(None)  # the poll
    assert isinstance(claim, StoreCall)
    rig.engine.store_changed()  # told while the claim is on its way: it may miss them
    answers = flow.send(drive_store(claim))
    again = flow.send(drive_store(answers))
    assert isinstance(again, StoreCall)  # so it claims again, at once
    drive_store(again)
    assert store.calls == ["claim", "answers", "claim", "answers", "claim"]
