"""The delivery engine's edges, driven by hand on a fake clock as in test_engine.py: what
submit() answers, the backlog, events and answers other processes left, the stall while
several batches are in flight, the lease renewed while a batch is retried, a store or a body
that fails, an observer that watches for stalls, and the end of a close. Written for the
mutants of engine.py that the first tests let live (scripts/mutate, tests/MUTATION.md); each
asserts what a driver or a user sees: what is sent and when, which handles resolve with what,
the counters, the log lines."""

from __future__ import annotations

import logging
from typing import Any, cast

import httpx
import pytest
from support.engine_rig import (
    FLUSH,
    Recorder,
    Rig,
    Store,
    created,
    drive_store,
    refused,
    sent_keys,
    usage,
)
from support.fake_clock import FakeClock

from paygentic_client._runtime.ingest_telemetry import BatchDelivery
from paygentic_client.errors import IdempotencyConflictError, IngesterClosedError, SpoolError
from paygentic_client.ingest.core import AnswerBody, encode_billed
from paygentic_client.ingest.engine import (
    CLOSED,
    CLOSING_POLL,
    FLUSHING,
    NO_DELIVERY,
    OPEN,
    Engine,
    Resolve,
    Send,
    Settings,
    StoreCall,
    Wait,
)
from paygentic_client.ingest.stores import MemoryStore, Row

ENVELOPE = len(b'{"events":[]}')
EVENT_BYTES = len(encode_billed(usage(1))[1])


def left_by_another_process(store: MemoryStore, n: int) -> Row:
    """An event in a shared store that this process never submitted (no handle here)."""
    return MemoryStore.append(store, *encode_billed(usage(n)))


def taken_by_another_process(store: MemoryStore) -> list[Row]:
    """Another process claims everything waiting (the test store's calls are not recorded)."""
    return list(MemoryStore.claim(store, 1000, 10**6).rows)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# -- submitting, and the byte budget -----------------------------------------------------------


def test_submit_says_whether_it_woke_the_senders() -> None:
    rig = Rig(max_batch_size=3)
    woke = [rig.engine.submit(*encode_billed(usage(n)), f"handle_{n}") for n in range(1, 6)]
    # The first event (a sender starts its flush_interval), then the one that made a full
    # batch; not those after it (a wake per event cost asyncio a loop turn per event).
    assert woke == [True, False, True, False, False]
    assert rig.wakes == 2


def test_after_a_claim_the_next_full_batch_wakes_the_senders_again() -> None:
    rig = Rig(max_batch_size=2)
    rig.submit(1, 2, 3)
    flow = rig.engine.sender()
    assert sent_keys(next(flow)) == ["eng_1", "eng_2"]  # one left unclaimed
    woken = rig.wakes
    rig.submit(4)
    assert rig.wakes == woken + 1  # a full batch again
    rig.submit(5)
    assert rig.wakes == woken + 1


def test_only_the_event_that_crosses_the_byte_budget_wakes_the_senders() -> None:
    rig = Rig(max_batch_bytes=ENVELOPE + 2 * EVENT_BYTES)  # two events miss by one byte
    woke = [rig.engine.submit(*encode_billed(usage(n)), f"handle_{n}") for n in range(1, 5)]
    assert woke == [True, True, False, False]
    assert rig.wakes == 2


def test_an_event_the_driver_already_appended_is_taken_once_even_while_closing() -> None:
    rig = Rig()
    key, payload, billed = encode_billed(usage(1))
    row = rig.store.append(key, payload, billed)  # asyncio appends before it submits
    rig.engine.close()
    assert rig.engine.submit(key, payload, billed, "handle_1", row)
    flow = rig.engine.sender()
    assert sent_keys(next(flow)) == ["eng_1"]
    resolve = flow.send(created(1))
    assert isinstance(resolve, Resolve) and resolve.pairs == [("handle_1", 0)]


def test_submit_after_the_close_says_the_ingester_is_closed() -> None:
    rig = Rig()
    rig.engine.close()
    with pytest.raises(IngesterClosedError) as caught:
        rig.submit(1)
    assert str(caught.value) == "the ingester is closed"


def test_a_second_event_one_byte_over_the_budget_wakes_the_senders() -> None:
    rig = Rig(max_batch_bytes=ENVELOPE + 2 * EVENT_BYTES)  # two events miss by one byte
    rig.submit(1)
    assert rig.wakes == 1
    rig.submit(2)
    assert rig.wakes == 2
    flow = rig.engine.sender()
    assert sent_keys(next(flow)) == ["eng_1"]  # at once, and only what fits


def test_after_a_claim_took_everything_two_events_that_fit_exactly_wait() -> None:
    rig = Rig(max_batch_bytes=ENVELOPE + 2 * EVENT_BYTES + 1)
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    flow.send(created(1))
    assert flow.send((1, 0)) == Wait(None)
    woken = rig.wakes
    rig.submit(2, 3)
    assert rig.wakes == woken + 1  # by the first of them only
    assert flow.send(None) == Wait(100.0 + FLUSH)


def test_the_backlog_pending_handles_and_busy_follow_a_batch() -> None:
    rig = Rig()
    assert rig.engine.backlog() == (0, None)
    rig.submit(1)
    rig.clock.now = 100.5
    rig.submit(2)
    assert rig.engine.backlog() == (2, 100.0)  # the oldest was accepted at 100
    assert rig.engine.pending() == ["handle_1", "handle_2"]
    assert not rig.engine.busy()
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    assert rig.engine.busy()  # a batch is with the senders
    flow.send(created(1, 2))
    assert flow.send((2, 0)) == Wait(None)
    assert not rig.engine.busy()
    assert rig.engine.backlog() == (0, None)
    assert rig.engine.pending() == []
    stats = rig.engine.stats()
    assert (stats.submitted, stats.delivered, stats.in_queue) == (2, 2, 0)


def test_a_driver_sees_whether_the_engine_accepts_and_has_room_after_the_close() -> None:
    rig = Rig(max_queue=1)
    assert rig.engine.accepting()
    rig.submit(1)
    assert not rig.engine.has_room()
    rig.engine.flush()
    assert rig.engine.accepting()  # flushing
    rig.engine.close()
    assert not rig.engine.accepting()
    finish = rig.engine.finish(senders_stopped=True)
    next(finish)
    with pytest.raises(StopIteration):
        finish.send((0, 1))
    assert rig.engine.has_room()  # a producer waiting for room is let go: nothing waits
    assert not rig.engine.accepting()


def test_an_engine_without_an_observer_delivers() -> None:
    clock = FakeClock()
    store = MemoryStore()
    client = Rig().client
    settings = Settings(max_batch_size=10, max_batch_bytes=4096, flush_interval=1.0, max_queue=10)
    engine: Engine[str] = Engine(store, client, settings, clock=clock, wake=lambda: None)
    engine.submit(*encode_billed(usage(1)), "handle_1")
    engine.flush()
    flow = engine.sender()
    send = next(flow)
    assert isinstance(send, Send) and send.delivery is NO_DELIVERY
    resolve = flow.send(created(1))
    assert isinstance(resolve, Resolve) and resolve.pairs == [("handle_1", 0)]


# -- when a batch is claimed -------------------------------------------------------------------


def test_a_flush_that_claims_a_full_batch_claims_the_rest_at_once() -> None:
    rig = Rig(max_batch_size=2)
    rig.submit(1, 2, 3)
    rig.engine.flush()
    flow = rig.engine.sender()
    assert sent_keys(next(flow)) == ["eng_1", "eng_2"]
    assert rig.engine.state is FLUSHING  # a full batch: more may wait
    flow.send(created(1, 2))
    assert sent_keys(flow.send((2, 0))) == ["eng_3"]  # the partial rest, without waiting
    assert rig.engine.state is OPEN


def test_what_a_claim_leaves_waits_a_flush_interval_from_the_claim_by_its_own_bytes() -> None:
    rig = Rig(max_batch_bytes=ENVELOPE + 2 * EVENT_BYTES + 1)  # two events fit, exactly
    rig.submit(1, 2, 3, 4)
    rig.clock.now = 100.5
    flow = rig.engine.sender()
    assert sent_keys(next(flow)) == ["eng_1", "eng_2"]  # over the byte budget: at once
    flow.send(created(1, 2))
    # The two left fit in one body exactly: they wait, from the claim, not from submit.
    assert flow.send((2, 0)) == Wait(100.5 + FLUSH)
    rig.clock.now = 100.5 + FLUSH
    assert sent_keys(flow.send(None)) == ["eng_3", "eng_4"]


def test_events_of_another_process_in_a_claim_leave_this_process_count_waiting() -> None:
    store = Store()
    rig = Rig(store, max_batch_size=2)
    left_by_another_process(store, 9)
    rig.submit(1, 2, 3)
    flow = rig.engine.sender()
    assert sent_keys(flow.send(drive_store(next(flow)))) == ["eng_9", "eng_1"]
    flow.send(drive_store(flow.send(created(9, 1))))
    claim = flow.send((1, 0))  # two of this process's still wait: a full batch, at once
    assert sent_keys(flow.send(drive_store(claim))) == ["eng_2", "eng_3"]


def test_closing_without_a_shared_store_a_sender_with_nothing_to_claim_waits_to_be_woken() -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.close()
    first, second = rig.engine.sender(), rig.engine.sender()
    assert sent_keys(next(first)) == ["eng_1"]
    assert next(second) == Wait(None)  # nothing to claim, nobody else's events to look for
    first.send(created(1))
    woken = rig.wakes
    with pytest.raises(StopIteration):  # its batch was the last: it ends ...
        first.send((1, 0))
    assert rig.wakes == woken + 1  # ... and wakes the other, which ends too
    with pytest.raises(StopIteration):
        second.send(None)


# -- what other processes left in a shared store -----------------------------------------------


def test_events_another_process_left_are_sent_at_the_poll_and_counted_recovered() -> None:
    store = Store()
    rig = Rig(store)
    left_by_another_process(store, 7)
    rig.submit(1)
    flow = rig.engine.sender()
    assert next(flow) == Wait(100.0 + FLUSH)
    rig.clock.now = 100.0 + FLUSH
    assert sent_keys(flow.send(drive_store(flow.send(None)))) == ["eng_7", "eng_1"]
    resolve = flow.send(drive_store(flow.send(created(7, 1))))
    assert isinstance(resolve, Resolve) and resolve.pairs == [("handle_1", 1)]
    assert store.mine == [[False, True]]  # the other process's event is answered for it
    flow.send((1, 0))
    stats = rig.engine.stats()
    assert (stats.submitted, stats.delivered, stats.recovered, stats.in_queue) == (1, 1, 1, 0)


def test_recovered_events_add_up_over_batches() -> None:
    store = Store()
    rig = Rig(store, max_batch_size=1)
    left_by_another_process(store, 7)
    left_by_another_process(store, 8)
    flow = rig.engine.sender()
    for n in (7, 8):
        rig.clock.now += FLUSH
        assert sent_keys(flow.send(drive_store(flow.send(None)))) == [f"eng_{n}"]
        resolve = flow.send(drive_store(flow.send(created(n))))
        assert isinstance(resolve, Resolve) and resolve.pairs == []
        flow.send((0, 0))
    assert rig.engine.stats().recovered == 2


def test_while_closing_a_sender_looks_for_the_answers_to_its_events_every_closing_poll() -> None:
    store = Store()
    rig = Rig(store)
    rig.submit(1, 2)
    first, second = taken_by_another_process(store)
    rig.engine.close()
    flow = rig.engine.sender()
    answers = flow.send(drive_store(next(flow)))  # claimed nothing: another process holds them
    assert flow.send(drive_store(answers)) == Wait(100.0 + CLOSING_POLL)
    rejected = RuntimeError("refused by the API")
    store.answers = [(first, {"id": "usg_1"}), (second, rejected), ("not mine", {"id": "x"})]
    rig.clock.now = 100.0 + CLOSING_POLL
    answers = flow.send(drive_store(flow.send(None)))
    resolve = flow.send(drive_store(answers))
    assert isinstance(resolve, Resolve)
    assert resolve.pairs == [("handle_1", {"id": "usg_1"}), ("handle_2", rejected)]
    with pytest.raises(StopIteration):  # nothing of this process is left
        flow.send((1, 1))
    stats = rig.engine.stats()
    assert (stats.delivered, stats.failed, stats.recovered, stats.in_queue) == (1, 1, 0, 0)
    assert rig.engine.pending() == []
    assert store.calls == ["claim", "answers", "claim", "answers"]


def test_answers_other_processes_left_over_several_looks_add_up() -> None:
    store = Store()
    rig = Rig(store)
    rig.submit(1, 2, 3, 4)
    rows = taken_by_another_process(store)
    rig.engine.close()
    flow = rig.engine.sender()
    answers = flow.send(drive_store(next(flow)))
    rejected = RuntimeError("refused by the API")
    store.answers = [(rows[0], {"id": "usg_1"}), (rows[1], rejected)]
    resolve = flow.send(drive_store(answers))
    assert isinstance(resolve, Resolve) and len(resolve.pairs) == 2
    wait = flow.send((1, 1))
    assert isinstance(wait, Wait) and wait.until is not None
    rig.clock.now = wait.until
    answers = flow.send(drive_store(flow.send(None)))
    store.answers = [(rows[2], {"id": "usg_3"}), (rows[3], rejected)]
    resolve = flow.send(drive_store(answers))
    assert isinstance(resolve, Resolve) and len(resolve.pairs) == 2
    with pytest.raises(StopIteration):
        flow.send((1, 1))
    stats = rig.engine.stats()
    assert (stats.delivered, stats.failed, stats.in_queue) == (2, 2, 0)


def test_the_close_looks_at_once_for_answers_to_events_another_process_holds() -> None:
    store = Store()
    rig = Rig(store)
    rig.submit(1)
    taken_by_another_process(store)
    flow = rig.engine.sender()
    assert next(flow) == Wait(100.0 + FLUSH)
    rig.clock.now = 100.0 + FLUSH
    answers = flow.send(drive_store(flow.send(None)))  # claimed nothing: held elsewhere
    assert flow.send(drive_store(answers)) == Wait(100.0 + 2 * FLUSH)  # the next poll
    rig.engine.close()
    claim = flow.send(None)  # woken by the close: it looks now, not at the next poll
    assert isinstance(claim, StoreCall)
    drive_store(claim)
    assert store.calls == ["claim", "answers", "claim"]


def test_answers_that_cannot_be_read_are_logged_and_looked_for_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    rig = Rig(store)
    flow = rig.engine.sender()
    next(flow)
    rig.engine.store_changed()
    answers = flow.send(drive_store(flow.send(None)))
    store.failing.add("answers")
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        assert flow.send(drive_store(answers)) == Wait(100.0 + FLUSH)  # the next poll
    assert warnings(caplog) == [
        "could not read the answers other processes left: "
        "spool test: could not answers: the disk is full"
    ]


# -- answers -----------------------------------------------------------------------------------


def test_a_201_resolves_the_handles_with_their_place_in_the_answer_it_keeps() -> None:
    rig = Rig()
    rig.submit(1, 2)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    resolve = flow.send(created(1, 2))
    assert isinstance(resolve, Resolve)
    assert resolve.pairs == [("handle_1", 0), ("handle_2", 1)]
    assert isinstance(resolve.answer, AnswerBody)
    assert resolve.answer.created(1) == {"idempotencyKey": "eng_2", "id": "usg_2"}


def test_a_207_resolves_each_handle_with_its_own_outcome() -> None:
    rig = Rig()
    rig.submit(1, 2)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    body = {
        "object": "batchUsageEvents",
        "successful": [{"idempotencyKey": "eng_2", "id": "usg_2"}],
        "failed": [{"index": 0, "idempotencyKey": "eng_1", "error": "unknown customer"}],
    }
    resolve = flow.send(httpx.Response(207, json=body))
    assert isinstance(resolve, Resolve)
    [(first, error), (second, position)] = resolve.pairs
    assert (first, second, position) == ("handle_1", "handle_2", 0)
    assert isinstance(error, Exception) and "unknown customer" in str(error)
    flow.send((1, 1))
    stats = rig.engine.stats()
    assert (stats.delivered, stats.failed, stats.in_queue, stats.retried_batches) == (1, 1, 0, 0)
    assert rig.observer.seen[-1] == ("ended", 2, 1, 1, [0.0, 0.0])


def test_an_answer_stored_for_another_request_under_the_key_fails_its_handle() -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    someone_elses = {
        "idempotencyKey": "eng_1",
        "id": "usg_1",
        "customerId": "cus_someone_else",
        "merchantId": "org_engine",
        "timestamp": "2024-05-01T00:00:00Z",
        "properties": [{"billableMetricId": "bm_e", "quantity": 1}],
    }
    body = {"object": "batchUsageEvents", "successful": [someone_elses], "failed": []}
    resolve = flow.send(httpx.Response(201, json=body))
    assert isinstance(resolve, Resolve)
    [(handle, error)] = resolve.pairs
    assert handle == "handle_1" and isinstance(error, IdempotencyConflictError)
    assert error.idempotency_key == "eng_1"


def test_a_retry_after_from_the_api_sets_the_wait() -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    slow_down = httpx.Response(
        429, headers={"Retry-After": "3"}, json={"message": "slow down", "error": "rate_limited"}
    )
    assert flow.send(slow_down) == Wait(103.0)  # not the policy's first backoff, 0.5 s


def test_a_refusal_that_echoes_the_token_is_reported_without_it() -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    echo = httpx.Response(401, json={"message": "bad token tok_engine1234", "error": "auth"})
    flow.send(echo)
    cause = rig.engine.stats().stall_cause
    assert cause is not None and cause.startswith("HTTP 401")
    assert "tok_engine1234" not in cause


def test_the_last_cause_is_no_answer_yet_until_a_send_fails() -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    assert rig.engine.last_cause() == "no answer yet"
    flow.send(refused(503))
    assert rig.engine.last_cause() == "HTTP 503"


class Tracing(Recorder):
    """An observer whose batches are traced: each attempt gets a delivery of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.deliveries: list[BatchDelivery] = []
        self.ended: list[BatchDelivery] = []

    def attempt_started(self, size: int) -> BatchDelivery:
        delivery = BatchDelivery()
        self.deliveries.append(delivery)
        return delivery

    def attempt_ended(self, delivery: BatchDelivery, *args: Any) -> None:
        self.ended.append(delivery)


def test_each_attempt_is_sent_within_the_delivery_the_observer_gave_it() -> None:
    tracing = Tracing()
    rig = Rig(observer=tracing)
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    first = next(flow)
    assert isinstance(first, Send) and first.delivery is tracing.deliveries[0]
    flow.send(refused(503))
    rig.clock.now = 100.5
    again = flow.send(None)
    assert isinstance(again, Send) and again.delivery is tracing.deliveries[1]
    flow.send(created(1))
    assert tracing.ended == tracing.deliveries


# -- failures, and what the close then says ----------------------------------------------------


def test_a_body_that_cannot_be_built_is_logged_once_and_tried_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig()
    not_json_bytes = cast(Any, "not bytes")  # a bug upstream of the engine
    rig.engine.submit("eng_bad", not_json_bytes, None, "handle_bad")
    rig.engine.flush()
    flow = rig.engine.sender()
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        assert next(flow) == Wait(100.5)  # the policy's first backoff
        assert [r.levelno for r in caplog.records] == [logging.ERROR, logging.WARNING]
        rig.clock.now = 100.5
        assert flow.send(None) == Wait(101.5)  # and its second: nothing is ever sent
    [logged] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged.getMessage() == "delivering a batch failed unexpectedly"
    assert logged.exc_info is not None
    cause = "unexpected error: sequence item 0: expected a bytes-like object, str found"
    assert rig.engine.stats().stall_cause == cause
    assert rig.engine.stats().retried_batches == 2
    assert rig.observer.seen[-2:] == [("trouble", cause), ("trouble", cause)]
    assert rig.engine.pending() == ["handle_bad"]  # the event is kept


def test_the_cause_of_a_body_that_cannot_be_built_is_kept_for_the_close() -> None:
    rig = Rig()
    rig.engine.submit("eng_bad", cast(Any, "not bytes"), None, "handle_bad")
    rig.engine.close()
    flow = rig.engine.sender()
    assert next(flow) == Wait(100.5)
    rig.engine.abandon()
    with pytest.raises(StopIteration):
        flow.send(None)
    finish = rig.engine.finish(senders_stopped=True)
    resolve = next(finish)
    assert isinstance(resolve, Resolve)
    [(_, error)] = resolve.pairs
    assert isinstance(error.__cause__, TypeError)


def test_a_failing_store_tells_the_observer_and_backs_off_longer_each_time() -> None:
    store = Store()
    rig = Rig(store)
    rig.submit(1)
    rig.engine.flush()
    store.failing.add("claim")
    flow = rig.engine.sender()
    waits = []
    claim = next(flow)
    for _ in range(4):
        wait = flow.send(drive_store(claim))
        assert isinstance(wait, Wait) and wait.until is not None
        waits.append(wait.until - rig.clock.now)
        rig.clock.now = wait.until
        claim = flow.send(None)
    assert waits == [0.5, 1.0, 2.0, 4.0]
    cause = "could not claim events: spool test: could not claim: the disk is full"
    assert rig.observer.seen[-4:] == [("trouble", cause)] * 4
    assert rig.engine.stats().stalled_for == 7.5


def test_a_store_that_keeps_failing_is_the_cause_of_what_the_close_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    store.failing.add("claim")
    rig = Rig(store)
    rig.submit(1)
    rig.engine.close()
    flow = rig.engine.sender()
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        assert flow.send(drive_store(next(flow))) == Wait(100.5)
    assert warnings(caplog) == [
        "could not claim events: spool test: could not claim: the disk is full; "
        "trying again in 0.50 s"
    ]
    rig.engine.abandon()
    with pytest.raises(StopIteration):
        flow.send(None)
    finish = rig.engine.finish(senders_stopped=False)
    resolve = finish.send(drive_store(next(finish)))
    assert isinstance(resolve, Resolve)
    [(_, error)] = resolve.pairs
    assert isinstance(error, IngesterClosedError)
    assert isinstance(error.__cause__, SpoolError)
    assert "could not claim events" in str(error)


def test_failures_are_warned_about_at_most_every_ten_seconds_of_the_engines_clock(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    warned_at = []
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        while rig.clock.now < 112:
            caplog.clear()
            wait = flow.send(refused(503))
            if warnings(caplog):
                warned_at.append(rig.clock.now)
            assert isinstance(wait, Wait) and wait.until is not None
            rig.clock.now = wait.until
            flow.send(None)
    # Failed at 100, 100.5, 101.5, 103.5, 107.5, 111.5: warned at the first and 10 s on.
    assert warned_at == [100.0, 111.5]


# -- the stall, and the counts when a flow ends early ------------------------------------------


def test_delivery_stays_stalled_while_any_batch_waits_to_be_sent_again() -> None:
    store = Store()
    rig = Rig(store, max_batch_size=1)
    rig.submit(1, 2)
    retried, other = rig.engine.sender(), rig.engine.sender()
    first = retried.send(drive_store(next(retried)))
    assert retried.send(refused(503)) == Wait(100.5)  # stalled since 100
    rig.clock.now = 100.25
    assert sent_keys(other.send(drive_store(next(other)))) == ["eng_2"]  # the store works
    resolve = other.send(drive_store(other.send(created(2))))  # and eng_2 is answered
    assert isinstance(resolve, Resolve)
    other.send((1, 0))
    assert rig.engine.stats().stalled_for == 0.25  # yet eng_1 still waits to be sent again
    rig.clock.now = 100.5
    assert retried.send(None) == first
    resolve = retried.send(drive_store(retried.send(created(1))))
    assert isinstance(resolve, Resolve)
    retried.send((1, 0))
    stats = rig.engine.stats()
    assert (stats.stalled_for, stats.stall_cause, stats.delivered) == (None, None, 2)


def test_a_batch_sent_in_halves_after_a_retry_leaves_delivery_unstalled() -> None:
    rig = Rig()
    rig.submit(1, 2)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    flow.send(refused(503))
    rig.clock.now = 100.5
    flow.send(None)
    assert sent_keys(flow.send(refused(413))) == ["eng_1"]
    flow.send(created(1))
    assert sent_keys(flow.send((1, 0))) == ["eng_2"]
    flow.send(created(2))
    assert flow.send((1, 0)) == Wait(None)
    stats = rig.engine.stats()
    assert (stats.delivered, stats.stalled_for, stats.stall_cause) == (2, None, None)


def test_a_sender_dropped_while_it_retries_gives_back_its_counts() -> None:
    rig = Rig(max_batch_size=1)
    rig.submit(1, 2)
    dropped, other = rig.engine.sender(), rig.engine.sender()
    assert sent_keys(next(dropped)) == ["eng_1"]
    dropped.send(refused(503))  # stalled, and eng_1 waits to be sent again
    assert sent_keys(next(other)) == ["eng_2"]
    dropped.close()  # its driver's task was cancelled
    assert rig.engine.busy()  # eng_2 is still with a sender
    other.send(created(2))
    other.send((1, 0))
    assert not rig.engine.busy()
    stats = rig.engine.stats()  # nothing waits to be sent again: not stalled
    assert (stats.stalled_for, stats.stall_cause, stats.delivered) == (None, None, 1)


# -- the lease of a batch that is retried ------------------------------------------------------


def test_a_claim_is_renewed_every_third_of_the_lease_while_its_batch_is_retried() -> None:
    store = Store(lease=30.0)
    rig = Rig(store)
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    first = flow.send(drive_store(next(flow)))  # claimed at 100
    renewed_at = []
    while rig.clock.now < 124:
        wait = flow.send(refused(503))
        assert isinstance(wait, Wait) and wait.until is not None
        rig.clock.now = wait.until
        action = flow.send(None)
        if isinstance(action, StoreCall):
            renewed_at.append(rig.clock.now)
            action = flow.send(drive_store(action))
        assert action == first
    # Sent again at 100.5, 101.5, 103.5, 107.5, 111.5, 115.5, 119.5, 123.5 (backoff 0.5 s
    # doubling to 4 s): renewed once more than 10 s had passed since the claim or renewal.
    assert renewed_at == [111.5, 123.5]
    assert store.calls == ["claim", "renew", "renew"]


def test_a_claim_is_not_renewed_at_exactly_a_third_of_its_lease() -> None:
    store = Store()  # a 3 s lease: renewed once more than 1 s has passed
    rig = Rig(store)
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    first = flow.send(drive_store(next(flow)))
    in_one_second = httpx.Response(
        429, headers={"Retry-After": "1"}, json={"message": "slow down", "error": "rate_limited"}
    )
    assert flow.send(in_one_second) == Wait(101.0)
    rig.clock.now = 101.0
    assert flow.send(None) == first  # not renewed
    assert flow.send(in_one_second) == Wait(102.0)
    rig.clock.now = 102.0
    renew = flow.send(None)
    assert isinstance(renew, StoreCall)
    assert flow.send(drive_store(renew)) == first
    assert store.renewed == [["eng_1"]]


def test_a_renewal_that_fails_is_logged_and_the_batch_sent_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    store.failing.add("renew")
    rig = Rig(store)
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    first = flow.send(drive_store(next(flow)))
    flow.send(refused(503))
    rig.clock.now = 100.5
    assert flow.send(None) == first
    flow.send(refused(503))
    rig.clock.now = 101.5
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        assert flow.send(drive_store(flow.send(None))) == first
    assert "could not renew a claim: spool test: could not renew: the disk is full" in (
        warnings(caplog)
    )


def test_a_claim_that_cannot_be_given_back_at_the_deadline_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    store.failing.add("release")
    rig = Rig(store)
    rig.submit(1)
    rig.engine.close()
    flow = rig.engine.sender()
    flow.send(drive_store(next(flow)))
    flow.send(refused(503))
    rig.engine.abandon()
    release = flow.send(None)
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"), pytest.raises(StopIteration):
        flow.send(drive_store(release))
    assert warnings(caplog)[-1] == (
        "could not give back a claim: spool test: could not release: the disk is full"
    )


def test_the_batch_given_back_at_the_deadline_is_the_one_in_hand() -> None:
    store = Store()
    rig = Rig(store)
    rig.submit(1, 2)
    rig.engine.close()
    flow = rig.engine.sender()
    flow.send(drive_store(next(flow)))
    flow.send(refused(503))
    rig.engine.abandon()
    with pytest.raises(StopIteration):
        flow.send(drive_store(flow.send(None)))
    assert store.released == [["eng_1", "eng_2"]]


# -- an observer that watches for stalls -------------------------------------------------------


class StallWatcher(Recorder):
    """Asks to be asked again `after` seconds later (None: no need)."""

    watches_stalls = True

    def __init__(self, after: float | None) -> None:
        super().__init__()
        self.after = after
        self.asked: list[tuple[float, float | None]] = []

    def stall_due(self, now: float, oldest: float | None) -> float | None:
        self.asked.append((now, oldest))
        return None if self.after is None else now + self.after


def test_a_sender_wakes_for_the_observers_stall_check_before_its_own_wait() -> None:
    watcher = StallWatcher(after=0.25)
    rig = Rig(observer=watcher)
    flow = rig.engine.sender()
    assert next(flow) == Wait(100.25)  # idle, yet the stall check is due
    rig.submit(1)
    assert flow.send(None) == Wait(100.25)
    rig.clock.now = 100.5
    assert flow.send(None) == Wait(100.75)
    watcher.after = 5.0
    assert flow.send(None) == Wait(100.0 + FLUSH)  # the event is due before the check
    assert watcher.asked == [(100.0, None), (100.0, 100.0), (100.5, 100.0), (100.5, 100.0)]


def test_a_stall_check_that_is_not_needed_leaves_the_wait_as_it_was() -> None:
    rig = Rig(observer=StallWatcher(after=None))
    flow = rig.engine.sender()
    assert next(flow) == Wait(None)
    rig.submit(1)
    assert flow.send(None) == Wait(100.0 + FLUSH)


def test_a_retry_wait_ends_early_for_the_stall_check() -> None:
    watcher = StallWatcher(after=0.25)
    rig = Rig(observer=watcher)
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    first = next(flow)
    assert isinstance(first, Send)
    assert flow.send(refused(503)) == Wait(100.25)  # before the backoff's 100.5
    rig.clock.now = 100.25
    assert flow.send(None) == Wait(100.5)
    assert watcher.asked[-2:] == [(100.0, 100.0), (100.25, 100.0)]


# -- the end of a close ------------------------------------------------------------------------


def test_finish_leaves_the_store_open_while_a_sender_still_uses_it() -> None:
    store = Store()
    rig = Rig(store)
    rig.engine.close()
    finish = rig.engine.finish(senders_stopped=False)
    with pytest.raises(StopIteration):
        finish.send(drive_store(next(finish)))
    assert store.calls == ["answers"]
    assert rig.engine.state is CLOSED


def test_a_store_that_cannot_close_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store()
    store.failing.add("close")
    rig = Rig(store)
    rig.engine.close()
    finish = rig.engine.finish(senders_stopped=True)
    close = finish.send(drive_store(next(finish)))
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"), pytest.raises(StopIteration):
        finish.send(drive_store(close))
    assert warnings(caplog) == [
        "could not close the store: spool test: could not close: the disk is full"
    ]


def test_what_the_close_fails_adds_to_what_the_api_rejected_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.flush()
    flow = rig.engine.sender()
    next(flow)
    flow.send(refused(400))
    flow.send((0, 1))
    rig.submit(2)
    rig.engine.close()
    rig.engine.abandon()
    finish = rig.engine.finish(senders_stopped=True)
    with caplog.at_level(logging.INFO, "paygentic_client.ingest"):
        resolve = next(finish)
    assert isinstance(resolve, Resolve) and [h for h, _ in resolve.pairs] == ["handle_2"]
    with pytest.raises(StopIteration):
        finish.send((0, 1))
    assert rig.engine.stats().failed == 2
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert line == (
        "1 usage events were not delivered (the close deadline passed before the API "
        "answered; last cause: no answer yet); idempotency keys: eng_2"
    )


def test_an_answer_after_the_close_failed_its_handle_counts_nothing_more() -> None:
    rig = Rig()
    rig.submit(1)
    rig.engine.close()
    flow = rig.engine.sender()
    assert sent_keys(next(flow)) == ["eng_1"]
    finish = rig.engine.finish(senders_stopped=False)  # the deadline passed meanwhile
    failed = next(finish)
    assert isinstance(failed, Resolve) and [h for h, _ in failed.pairs] == ["handle_1"]
    with pytest.raises(StopIteration):
        finish.send((0, 1))
    late = flow.send(created(1))
    assert isinstance(late, Resolve) and late.pairs == []
    with pytest.raises(StopIteration):
        flow.send((0, 0))
    stats = rig.engine.stats()
    assert (stats.delivered, stats.failed, stats.recovered, stats.in_queue) == (0, 1, 0, 0)
    assert rig.engine.state is CLOSED


# -- calls a store answers without I/O (a spool's journal) ------------------------------------


class QuickStore(Store):
    """A Store that also claims and settles without I/O when `quick` (as a spool's journal
    does for its own events), and says it cannot when not."""

    def __init__(self) -> None:
        super().__init__()
        self.quick = True

    def claim_now(self, max_count: int, max_bytes: int) -> Any:
        self.calls.append("claim_now")
        return MemoryStore.claim(self, max_count, max_bytes) if self.quick else None

    def settle_now(self, batch: Any, outcomes: Any) -> bool:
        self.calls.append("settle_now")
        return self.quick


def test_what_a_store_can_claim_and_settle_without_io_the_engine_does_itself() -> None:
    store = QuickStore()
    rig = Rig(store)
    rig.submit(1, 2)
    rig.engine.flush()
    flow = rig.engine.sender()
    send = next(flow)  # no StoreCall: claimed by the engine itself
    assert sent_keys(send) == ["eng_1", "eng_2"]
    resolve = flow.send(created(1, 2))  # settled by the engine itself too
    assert isinstance(resolve, Resolve) and len(resolve.pairs) == 2
    assert store.calls == ["claim_now", "settle_now"]


def test_when_the_store_cannot_without_io_the_driver_makes_the_calls() -> None:
    store = QuickStore()
    store.quick = False
    rig = Rig(store)
    rig.submit(1, 2)
    rig.engine.flush()
    flow = rig.engine.sender()
    send = flow.send(drive_store(next(flow)))
    assert sent_keys(send) == ["eng_1", "eng_2"]
    resolve = flow.send(drive_store(flow.send(created(1, 2))))
    assert isinstance(resolve, Resolve) and len(resolve.pairs) == 2
    assert store.calls == ["claim_now", "claim", "settle_now", "settle"]
