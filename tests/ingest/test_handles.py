"""EventHandle, the threaded ingester's light handle: waiting, callbacks, as_future()."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from typing import Any

import orjson
import pytest

from paygentic_client._runtime.jsonbody import decode_json
from paygentic_client.errors import EventRejectedError
from paygentic_client.ingest import EventHandle
from paygentic_client.ingest.core import AnswerBody
from paygentic_client.ingest.handles import Completion, HandleMaker, resolve_handles, wait_handles
from paygentic_client.models.usage_event import UsageEvent

PATIENCE = 30.0


def created(key: str) -> dict[str, Any]:
    return {
        "id": f"usg_{key}",
        "object": "usageEvent",
        "idempotencyKey": key,
        "customerId": "cus_h",
        "merchantId": "org_h",
        "subscriptionId": "sub_h",
        "properties": [{"billableMetricId": "bm_h", "quantity": 1, "price": None}],
        "timestamp": "2024-01-15T10:30:00Z",
        "createdAt": "2024-01-15T10:30:01Z",
        "billing": None,
    }


def rejected(key: str) -> EventRejectedError:
    return EventRejectedError("quantity must be positive", index=0, idempotency_key=key)


def test_a_result_waits_for_resolution_from_another_thread() -> None:
    completion = Completion()
    handles = [EventHandle(completion) for _ in range(3)]
    waiting = threading.Event()
    results: list[UsageEvent] = []

    def reader() -> None:
        waiting.set()
        results.append(handles[1].result(timeout=PATIENCE))

    thread = threading.Thread(target=reader)
    thread.start()
    assert waiting.wait(PATIENCE)
    # Whether or not the reader already waits, it must get the outcome (no lost wake-up).
    outcomes: list[dict[str, Any] | BaseException] = [created("a"), created("b"), rejected("c")]
    assert resolve_handles(zip(handles, outcomes, strict=True)) == (2, 1)
    thread.join(PATIENCE)
    assert [event.idempotency_key for event in results] == ["b"]
    assert results[0] is handles[1].result()
    assert wait_handles(handles, timeout=0)


def test_an_unresolved_handle_times_out_and_says_pending() -> None:
    handle = EventHandle()
    assert not handle.done()
    with pytest.raises(TimeoutError):
        handle.result(timeout=0.01)
    with pytest.raises(TimeoutError):
        handle.exception(timeout=0)
    assert not wait_handles([handle], timeout=0.01)
    assert repr(handle) == "<EventHandle pending>"


def test_a_failed_handle_raises_its_error_and_gives_it_from_exception() -> None:
    handle = EventHandle()
    error = rejected("k")
    resolve_handles([(handle, error)])
    assert handle.done() and handle.exception() is error
    with pytest.raises(EventRejectedError) as raised:
        handle.result()
    assert raised.value is error
    assert repr(handle) == "<EventHandle failed: EventRejectedError>"


def test_a_handle_is_resolved_once() -> None:
    handle = EventHandle()
    assert resolve_handles([(handle, rejected("k"))]) == (0, 1)
    assert resolve_handles([(handle, created("k"))]) == (0, 0)  # e.g. at a close deadline
    assert isinstance(handle.exception(), EventRejectedError)


def test_callbacks_are_called_once_with_the_handle_even_when_added_after(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handle = EventHandle()
    calls: list[tuple[str, EventHandle]] = []

    def broken(_: EventHandle) -> None:
        raise RuntimeError("a caller's bug")

    handle.add_done_callback(lambda done: calls.append(("before", done)))
    handle.add_done_callback(broken)  # logged; the others still run
    handle.add_done_callback(lambda done: calls.append(("also before", done)))
    with caplog.at_level(logging.ERROR, "paygentic_client.ingest"):
        resolve_handles([(handle, created("k"))])
    resolve_handles([(handle, created("k"))])
    handle.add_done_callback(lambda done: calls.append(("after", done)))
    assert calls == [("before", handle), ("also before", handle), ("after", handle)]
    assert "exception calling callback" in caplog.text and "a caller's bug" in caplog.text


def test_as_future_before_resolution_works_with_as_completed_and_wrap_future() -> None:
    handle = EventHandle()
    future = handle.as_future()
    assert future is handle.as_future() and not future.done()
    threading.Timer(0.01, resolve_handles, [[(handle, created("k"))]]).start()
    assert next(concurrent.futures.as_completed([future], timeout=PATIENCE)) is future
    assert future.result() is handle.result()

    async def wrapped() -> UsageEvent:
        return await asyncio.wrap_future(handle.as_future())

    assert asyncio.run(wrapped()) is handle.result()


def test_as_future_after_resolution_carries_the_outcome() -> None:
    good, bad = EventHandle(), EventHandle()
    error = rejected("b")
    resolve_handles([(good, created("a")), (bad, error)])
    done, not_done = concurrent.futures.wait([good.as_future(), bad.as_future()], timeout=0)
    assert len(done) == 2 and not not_done
    assert good.as_future().result().idempotency_key == "a"
    assert bad.as_future().exception() is error


def test_a_cancelled_as_future_does_not_stop_resolution(
    caplog: pytest.LogCaptureFixture,
) -> None:
    handle = EventHandle()
    assert handle.as_future().cancel()
    with caplog.at_level(logging.ERROR, "paygentic_client.ingest"):
        resolve_handles([(handle, created("k"))])
    assert handle.result().idempotency_key == "k"
    assert caplog.records == []  # copying into the cancelled future was skipped, not failed


def test_handles_of_several_completions_all_resolve() -> None:
    make = HandleMaker(group=2)
    handles = [make() for _ in range(5)]
    assert len({id(handle._completion) for handle in handles}) == 3
    assert resolve_handles((h, created(str(n))) for n, h in enumerate(handles)) == (5, 0)
    assert [h.result().idempotency_key for h in handles] == ["0", "1", "2", "3", "4"]


def test_handles_resolved_with_positions_build_their_events_from_the_batch_answer() -> None:
    successful = [created("a"), created("b")]
    content = orjson.dumps({"object": "batchUsageEvents", "successful": successful, "failed": []})
    answer = AnswerBody(content, decode_json(content)["successful"])
    error = rejected("c")
    decoded = answer._decoded
    assert decoded is not None
    # As match_outcomes gives them: the decoded dicts themselves, in the batch's order.
    positions = answer.positions([decoded[1], error, decoded[0], decoded[1]])
    assert positions == [1, error, 0, 1]
    handles = [EventHandle() for _ in positions]
    assert resolve_handles(zip(handles, positions, strict=True), answer) == (3, 1)
    keys = [h.result().idempotency_key for h in (handles[0], handles[2], handles[3])]
    assert keys == ["b", "a", "b"]
    assert handles[0].result() is handles[0].result()
    assert handles[1].exception() is error
