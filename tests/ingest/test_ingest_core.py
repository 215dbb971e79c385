"""The ingesters' sans-I/O core (paygentic_client/ingest/core.py) called directly: encoding,
batch bodies and their byte budget, what a response or an exception means for a batch, the
rate-limited failure log, the settings' bounds and the counters. Written against the mutants
that survived the ingester tests (tests/MUTATION.md); matching outcomes is in
test_batch_outcomes.py."""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import time
from typing import Any

import httpx
import pytest

from paygentic_client import AuthenticatedClient
from paygentic_client._runtime.replay import sent_fields
from paygentic_client.errors import (
    ApiConnectionError,
    ApiError,
    EventRejectedError,
    IdempotencyConflictError,
)
from paygentic_client.ingest import core
from paygentic_client.ingest.aio import AsyncEventFuture
from paygentic_client.ingest.core import (
    Batch,
    Counters,
    FailAll,
    FailureLog,
    Resolved,
    Retry,
    Split,
    batch_body,
    check_settings,
    encode_event,
    fits,
    send_kwargs,
    undelivered_message,
    verdict_of_exception,
    verdict_of_response,
)
from paygentic_client.ingest.handles import EventHandle, resolve_handles
from paygentic_client.models import (
    CreateUsageEventRequest,
    CreateUsageEventRequestProperty,
    UsageEvent,
)

TOKEN = "tok_CoreSecret5Hq8Zr"
STAMP = datetime.datetime(2024, 1, 15, 10, 30, tzinfo=datetime.UTC)


def request(key: str = "k1", quantity: float = 2) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key=key,
        customer_id="cus_core",
        merchant_id="org_core",
        timestamp=STAMP,
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_c", quantity=quantity)],
    )


def created(key: str, *, customer: str = "cus_core", quantity: float = 2) -> dict[str, Any]:
    return {
        "id": f"usg_{key}",
        "object": "usageEvent",
        "idempotencyKey": key,
        "customerId": customer,
        "merchantId": "org_core",
        "subscriptionId": "sub_core",
        "properties": [{"billableMetricId": "bm_c", "quantity": quantity, "price": None}],
        "timestamp": "2024-01-15T10:30:00Z",
        "createdAt": "2024-01-15T10:30:01Z",
        "billing": None,
    }


def answer_body(successful: list[dict[str, Any]], failed: list[dict[str, Any]]) -> bytes:
    return json.dumps(
        {
            "object": "batchUsageEvents",
            "successful": successful,
            "failed": failed,
            "summary": {"total": 1, "successful": len(successful), "failed": len(failed)},
        }
    ).encode()


def batch(*keys: str) -> Batch[None]:
    return Batch.of((key, b"{}", None, None) for key in keys)


@pytest.fixture
def client() -> AuthenticatedClient:
    return AuthenticatedClient(base_url="https://api.test.invalid", token=TOKEN)


# -- encoding and batch bodies ----------------------------------------------------------------


def test_an_event_is_encoded_once_as_its_key_and_json() -> None:
    key, payload = encode_event(request("evt_1"))
    assert key == "evt_1"
    assert json.loads(payload) == request("evt_1").to_dict()


def test_what_cannot_be_sent_is_refused_at_encoding() -> None:
    with pytest.raises(TypeError, match="expected a CreateUsageEventRequest, got dict"):
        encode_event({"idempotencyKey": "k"})  # type: ignore[arg-type]
    with pytest.raises(ValueError) as caught:
        encode_event(request(""))
    assert str(caught.value) == "the event has no idempotencyKey (see derive_idempotency_key)"


def test_a_batch_body_joins_the_events_json() -> None:
    items = Batch.of([("a", b'{"a":1}', None, None), ("b", b'{"b":2}', None, None)])
    body = batch_body(items)
    assert body == b'{"events":[{"a":1},{"b":2}]}'
    assert json.loads(body) == {"events": [{"a": 1}, {"b": 2}]}
    assert batch_body(Batch()) == b'{"events":[]}'


def test_a_batch_keeps_its_events_in_parallel_lists() -> None:
    first, second = EventHandle(), EventHandle()
    fields = ("cus_1", "org_1", STAMP, "bm_1", False, 3)
    items = Batch.of([("a", b'{"a":1}', first, fields), ("b", b"{}", second, None)])
    assert (items.keys, items.payloads, items.rows, items.identities) == (
        ["a", "b"],
        [b'{"a":1}', b"{}"],
        [first, second],
        [fields, None],
    )
    assert (len(items), items.nbytes) == (2, 9)


def test_fits_counts_the_envelope_and_a_separator_per_event() -> None:
    envelope = len(b'{"events":[]}')
    # two events of 10 bytes and a third: 13 + 20 + 2 separators + 10
    assert fits(2, 20, 10, max_size=3, max_bytes=envelope + 32)
    assert not fits(2, 20, 10, max_size=3, max_bytes=envelope + 31)
    assert not fits(3, 20, 10, max_size=3, max_bytes=10**6)  # the count is full
    assert fits(0, 0, 1024 - envelope, max_size=1, max_bytes=1024)


def test_send_kwargs_post_the_body_as_json_to_the_batch_path() -> None:
    kwargs = send_kwargs(b'{"events":[]}')
    assert kwargs["method"] == "POST"
    assert kwargs["url"] == core.BATCH_PATH == "/v0/usage/batch"
    assert kwargs["content"] == b'{"events":[]}'
    assert kwargs["headers"] == {"Content-Type": "application/json"}


# -- what a response means ---------------------------------------------------------------------


def test_retryable_statuses_are_retried_with_their_retry_after(
    client: AuthenticatedClient,
) -> None:
    for status in (408, 429, 500, 502, 503, 504):
        response = httpx.Response(status, headers={"Retry-After": "7"}, json={})
        assert verdict_of_response(response, batch("a"), client) == Retry(f"HTTP {status}", "7")
    assert verdict_of_response(httpx.Response(503), batch("a"), client) == Retry("HTTP 503")


@pytest.mark.parametrize("status", [201, 207])
def test_a_batch_answer_resolves_each_event(status: int, client: AuthenticatedClient) -> None:
    content = answer_body([created("a")], [{"index": 1, "error": "bad"}])
    verdict = verdict_of_response(httpx.Response(status, content=content), batch("a", "b"), client)
    assert isinstance(verdict, Resolved)
    first, second = verdict.outcomes
    assert first == created("a")
    assert isinstance(second, Exception) and "bad" in str(second)
    # The handles keep the answer's bytes and a position, not a dict per event.
    assert isinstance(verdict.answer, core.AnswerBody)
    assert verdict.answer.positions(verdict.outcomes) == [0, second]
    assert verdict.answer.created(0) == created("a")


@pytest.mark.parametrize("status", [200, 201, 202, 207, 299])
def test_a_success_without_a_batch_answer_is_sent_again(
    status: int, client: AuthenticatedClient
) -> None:
    response = httpx.Response(status, content=b"<html>a proxy</html>")
    assert verdict_of_response(response, batch("a"), client) == Retry(
        f"HTTP {status} with an unreadable body"
    )


def test_a_batch_answer_with_another_success_status_is_not_trusted(
    client: AuthenticatedClient,
) -> None:
    response = httpx.Response(200, content=answer_body([created("a")], []))
    assert verdict_of_response(response, batch("a"), client) == Retry(
        "HTTP 200 with an unreadable body"
    )


def refusal(status: int) -> httpx.Response:
    body = {"message": f"refused with the token {TOKEN}", "error": "refused"}
    return httpx.Response(status, json=body)


@pytest.mark.parametrize("status", [400, 422])
def test_a_whole_batch_400_or_422_rejects_it_without_the_token(
    status: int, client: AuthenticatedClient
) -> None:
    verdict = verdict_of_response(refusal(status), batch("a"), client)
    assert isinstance(verdict, FailAll)
    assert isinstance(verdict.error, ApiError) and verdict.error.status_code == status
    assert TOKEN not in str(verdict.error)


@pytest.mark.parametrize(
    "status", [199, 300, 301, 307, 401, 403, 404, 405, 409, 425, 499, 501, 507, 520, 524, 600]
)
def test_an_answer_not_about_the_events_keeps_them_for_a_retry(
    status: int, client: AuthenticatedClient
) -> None:
    response = refusal(status)
    response.headers["Retry-After"] = "7"
    verdict = verdict_of_response(response, batch("a"), client)
    assert isinstance(verdict, Retry) and not verdict.unexpected
    assert isinstance(verdict.error, ApiError) and verdict.error.status_code == status
    assert verdict.reason == str(verdict.error) and verdict.reason.startswith(f"HTTP {status}")
    assert verdict.retry_after == "7"
    assert TOKEN not in verdict.reason and TOKEN not in str(verdict.error)


def test_a_413_splits_the_batch(client: AuthenticatedClient) -> None:
    verdict = verdict_of_response(refusal(413), batch("a", "b"), client)
    assert isinstance(verdict, Split)
    assert isinstance(verdict.error, ApiError) and verdict.error.status_code == 413
    first, second = batch("a", "b", "c").halves()
    assert (first.keys, second.keys) == (["a"], ["b", "c"])
    alone = core.too_large(batch("a"), verdict.error)
    (rejected,) = alone.outcomes
    assert isinstance(rejected, EventRejectedError) and rejected.idempotency_key == "a"
    assert rejected.reason.startswith("the API refused the event as too large: ")


def test_a_created_event_stored_for_another_request_is_a_conflict(
    client: AuthenticatedClient,
) -> None:
    sent = Batch.of(
        [
            ("a", b"{}", None, sent_fields(created("a"))),
            ("b", b"{}", None, sent_fields(created("b"))),
            ("c", b"{}", None, None),  # no identity kept: nothing to compare
        ]
    )
    content = answer_body(
        [created("a"), created("b", customer="cus_other"), created("c", quantity=9)], []
    )
    verdict = verdict_of_response(httpx.Response(201, content=content), sent, client)
    assert isinstance(verdict, Resolved)
    same, other, unchecked = verdict.outcomes
    assert same == created("a") and unchecked == created("c", quantity=9)
    assert isinstance(other, IdempotencyConflictError)
    assert other.idempotency_key == "b" and "cus_other" in str(other)
    assert str(other).startswith("idempotency key 'b' was used before for another event")


# -- what an exception means --------------------------------------------------------------------


def connection_error(cause: Exception) -> ApiConnectionError:
    error = ApiConnectionError("no answer: connection refused")
    error.__cause__ = cause
    return error


def test_no_answer_is_retried_with_the_error_kept() -> None:
    error = connection_error(httpx.ConnectError("refused"))
    verdict = verdict_of_exception(error)
    assert verdict == Retry("no answer: connection refused", error=error)


def test_anything_else_raised_is_kept_for_a_retry_as_unexpected() -> None:
    not_network = connection_error(ValueError("a bad URL"))
    assert verdict_of_exception(not_network) == Retry(
        "no answer: connection refused", error=not_network, unexpected=True
    )
    bug = httpx.ConnectError("refused, but not wrapped")
    assert verdict_of_exception(bug) == Retry(
        "refused, but not wrapped", error=bug, unexpected=True
    )
    assert verdict_of_exception(RuntimeError()).reason == "RuntimeError"


# -- handles that build their UsageEvent on demand ---------------------------------------------


def test_a_handle_builds_its_usage_event_once_and_keeps_it() -> None:
    handle = EventHandle()
    resolve_handles([(handle, created("a"))])
    built = handle.result(timeout=0)
    assert isinstance(built, UsageEvent) and built.idempotency_key == "a"
    assert handle.result(timeout=0) is built


def test_an_unbuilt_usage_event_says_so_in_an_asyncio_handle_repr() -> None:
    async def resolved_repr() -> str:
        handle = AsyncEventFuture(loop=asyncio.get_running_loop())
        handle.set_created(created("a"))
        return repr(handle)

    assert "result=<UsageEvent, " in asyncio.run(resolved_repr())  # (asyncio shortens it)


# -- the failure log -----------------------------------------------------------------------------


def test_failures_warn_once_per_interval_and_count_the_ones_in_between(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [100.0]
    log = FailureLog(logging.getLogger("test.failures"), every=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, "test.failures"):
        log.failed(3, Retry("HTTP 503"), 0.5)
        now[0] = 105.0
        log.failed(3, Retry("HTTP 502"), 1.25)
        now[0] = 109.99
        log.failed(3, Retry("HTTP 502"), 1.0)
        now[0] = 110.0
        log.failed(4, Retry("HTTP 429"), 2.0)
        now[0] = 120.0
        log.failed(4, Retry("HTTP 429"), 2.0)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "batch of 3 events failed (HTTP 503); sending it again in 0.50 s"),
        (logging.INFO, "batch of 3 events failed (HTTP 502); sending it again in 1.25 s"),
        (logging.INFO, "batch of 3 events failed (HTTP 502); sending it again in 1.00 s"),
        (
            logging.WARNING,
            "batch of 4 events failed (HTTP 429); sending it again in 2.00 s"
            " (2 more failed sends since the last warning)",
        ),
        (logging.WARNING, "batch of 4 events failed (HTTP 429); sending it again in 2.00 s"),
    ]


def test_the_failure_log_keeps_the_last_cause() -> None:
    log = FailureLog(logging.getLogger("test.failures"))
    assert (log.last_reason, log.last_error) == (None, None)
    error = ValueError("refused")
    log.failed(1, Retry("connection refused", error=error), 0.1)
    assert (log.last_reason, log.last_error) == ("connection refused", error)
    log.failed(1, Retry("HTTP 503"), 0.1)
    assert log.last_reason == "HTTP 503"
    assert isinstance(log.last_error, RuntimeError) and str(log.last_error) == "HTTP 503"


def test_the_default_warning_interval_is_ten_seconds(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])  # the default clock
    log = FailureLog(logging.getLogger("test.failures"))
    with caplog.at_level(logging.INFO, "test.failures"):
        for now[0] in (50.0, 59.9, 60.0):
            log.failed(1, Retry("HTTP 503"), 0.1)
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.INFO, logging.WARNING]


def test_undelivered_message_counts_and_lists_every_key_of_a_few() -> None:
    assert undelivered_message(["k1", "k2"], "closed") == (
        "2 usage events were not delivered (closed); idempotency keys: k1, k2"
    )


def test_undelivered_message_of_many_names_five_keys_and_where_the_rest_are() -> None:
    keys = [f"key_{n:06d}" for n in range(100_000)]
    message = undelivered_message(keys, "closed")
    assert message == (
        "100000 usage events were not delivered (closed); idempotency keys: key_000000, "
        "key_000001, key_000002, key_000003, key_000004 and 99995 more (each event's handle "
        "holds this error)"
    )


# -- settings and counters -------------------------------------------------------------------


def settings(**changes: float) -> tuple[int, int, float, int, int]:
    values: dict[str, float] = {
        "max_batch_size": 10,
        "max_batch_bytes": 1024,
        "flush_interval": 0.001,
        "max_queue": 1,
        "max_in_flight": 1,
    }
    values.update(changes)
    return (
        int(values["max_batch_size"]),
        int(values["max_batch_bytes"]),
        values["flush_interval"],
        int(values["max_queue"]),
        int(values["max_in_flight"]),
    )


def test_settings_at_their_bounds_are_accepted() -> None:
    check_settings(*settings())
    check_settings(*settings(max_batch_size=1))
    check_settings(*settings(max_batch_size=1000))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_batch_size": 0}, "max_batch_size must be between 1 and 1000"),
        ({"max_batch_size": 1001}, "max_batch_size must be between 1 and 1000"),
        ({"max_batch_bytes": 1023}, "max_batch_bytes must be at least 1024"),
        ({"flush_interval": 0}, "flush_interval must be positive"),
        ({"max_queue": 0}, "max_queue and max_in_flight must be at least 1"),
        ({"max_in_flight": 0}, "max_queue and max_in_flight must be at least 1"),
    ],
)
def test_settings_out_of_bounds_are_refused(changes: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_settings(*settings(**changes))
    assert str(caught.value) == message


def test_counters_snapshot_what_is_still_in_the_queue() -> None:
    counters = Counters(submitted=10, delivered=4, failed=3, retried_batches=2, recovered=5)
    stats = counters.snapshot()
    assert (stats.submitted, stats.delivered, stats.failed) == (10, 4, 3)
    assert (stats.retried_batches, stats.in_queue, stats.recovered) == (2, 3, 5)
