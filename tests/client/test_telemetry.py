"""The client's OpenTelemetry spans and `http.client.request.duration`, read with the SDK's
in-memory exporter and reader (support/otel_capture.py), and the W3C traceparent each attempt
sends. What happens without the API installed, or with it and no SDK, is in
test_import_cost.py (a fresh interpreter each)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, StatusCode, TraceFlags
from paygentic_sandbox.app import create_app
from support.client_harness import BASE_URL, INSTANT_RETRIES, OPERATIONS, TOKEN, spec_operation
from support.otel_capture import OtelCapture
from support.sandbox_fixture import MERCHANT_ID, TOKENS
from support.sandbox_fixture import TOKEN as SANDBOX_TOKEN
from support.spec_support import SPEC

from paygentic_client import AuthenticatedClient, errors
from paygentic_client._runtime import otel as otel_switch
from paygentic_client.api.usage_events import create_usage_event, list_usage_events

EVENT = SPEC["components"]["examples"]["BilledUsageEvent"]["value"]
# Flags 01 (sampled) or 03 (sampled, random trace id: W3C Trace Context level 2).
TRACEPARENT = re.compile(r"^00-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-0[13]$")
TRACEPARENT_ANY_FLAGS = re.compile(
    r"^00-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})$"
)
Answer = Callable[[httpx.Request], httpx.Response]


def answers(*statuses: int) -> tuple[list[dict[str, str]], Answer]:
    """A handler answering the listed statuses in turn (201/200: the spec's event), and the
    headers of each request as it was sent (a retry sends the same Request object again)."""
    seen: list[dict[str, str]] = []
    left = list(statuses)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.headers))
        status = left.pop(0)
        if status in (200, 201):
            return httpx.Response(status, json=EVENT)
        return httpx.Response(status, json={"error": "unavailable", "message": "try later"})

    return seen, handle


def client_for(handle: Answer, **options: Any) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=BASE_URL,
        token=TOKEN,
        retry_policy=INSTANT_RETRIES,
        httpx_args={"transport": httpx.MockTransport(handle)},
        **options,
    )


def async_client_for(handle: Answer, **options: Any) -> AuthenticatedClient:
    async def ahandle(request: httpx.Request) -> httpx.Response:
        return handle(request)

    return AuthenticatedClient(
        base_url=BASE_URL,
        token=TOKEN,
        retry_policy=INSTANT_RETRIES,
        httpx_args={"transport": httpx.MockTransport(ahandle)},
        **options,
    )


def create(handle: Answer, face: str, **options: Any) -> Any:
    kwargs = OPERATIONS["createUsageEvent"].kwargs()
    if face == "sync":
        with client_for(handle, **options) as client:
            return create_usage_event.sync(client=client, **kwargs)

    async def run() -> Any:
        async with async_client_for(handle, **options) as client:
            return await create_usage_event.asyncio(client=client, **kwargs)

    return asyncio.run(run())


def every_attribute_text(otel: OtelCapture) -> str:
    return json.dumps([dict(span.attributes or {}) for span in otel.spans()])


@pytest.fixture(params=["sync", "async"])
def face(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_a_retried_create_is_one_operation_span_over_two_attempt_spans(
    otel: OtelCapture, face: str
) -> None:
    seen, handle = answers(503, 201)
    create(handle, face)

    (operation,) = [span for span in otel.spans() if span.kind is SpanKind.INTERNAL]
    attempts = sorted(
        (span for span in otel.spans() if span.kind is SpanKind.CLIENT),
        key=lambda span: span.start_time or 0,
    )
    assert operation.name == "createUsageEvent"
    assert operation.status.status_code is StatusCode.UNSET
    assert operation.attributes is not None
    assert operation.attributes["http.response.status_code"] == 201
    assert [span.name for span in attempts] == ["POST /v0/usage", "POST /v0/usage"]
    for span in attempts:
        assert span.parent is not None and span.parent.span_id == operation.context.span_id
        assert span.context.trace_id == operation.context.trace_id
    first, second = (dict(span.attributes or {}) for span in attempts)
    assert first == {
        "http.request.method": "POST",
        "server.address": "api.test.invalid",
        "server.port": 443,
        "url.full": "https://api.test.invalid/v0/usage",
        "url.template": "/v0/usage",
        "http.response.status_code": 503,
        "error.type": "503",
    }
    assert attempts[0].status.status_code is StatusCode.ERROR
    assert second["http.request.resend_count"] == 1
    assert second["http.response.status_code"] == 201 and "error.type" not in second
    # Each attempt sent its own span's context.
    sent = [TRACEPARENT.match(headers["traceparent"]) for headers in seen]
    assert [(m["trace"], m["span"]) for m in sent if m] == [
        (f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}") for s in attempts
    ]


def test_the_request_duration_metric_has_one_point_per_answer(otel: OtelCapture, face: str) -> None:
    _, handle = answers(503, 201)
    create(handle, face)

    points = otel.points("http.client.request.duration")
    by_status = {point.attributes["http.response.status_code"]: point for point in points}
    assert sorted(by_status) == [201, 503]
    assert all(point.count == 1 and point.sum >= 0 for point in points)
    assert dict(by_status[503].attributes) == {
        "http.request.method": "POST",
        "server.address": "api.test.invalid",
        "server.port": 443,
        "http.response.status_code": 503,
        "error.type": "503",
    }


def test_a_call_without_an_answer_ends_its_spans_with_the_error_type(otel: OtelCapture) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(errors.ApiConnectionError):
        create(refuse, "sync", max_retries=1)

    spans = otel.spans()
    assert [span.attributes["error.type"] for span in spans if span.attributes] == [
        "httpx.ConnectError",
        "httpx.ConnectError",
        "httpx.ConnectError",
    ]
    assert {span.status.status_code for span in spans} == {StatusCode.ERROR}
    (point,) = otel.points("http.client.request.duration")
    assert point.count == 2 and point.attributes["error.type"] == "httpx.ConnectError"


def test_a_list_calls_span_keeps_no_customer_id_and_no_token(otel: OtelCapture) -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = {"object": "list", "data": [], "pagination": {"limit": 10, "offset": 0, "total": 0}}
        return httpx.Response(200, json=page)

    with client_for(handle) as client:
        list_usage_events.sync(client=client, **OPERATIONS["listUsageEvents"].kwargs())

    assert "cus_abc123xyz" in str(seen[0].url)  # it was sent, so its absence below counts
    (attempt,) = [span for span in otel.spans() if span.kind is SpanKind.CLIENT]
    assert attempt.attributes is not None
    assert attempt.attributes["url.full"] == (
        "https://api.test.invalid/v0/usage"
        "?startTime=REDACTED&endTime=REDACTED&limit=REDACTED&offset=REDACTED&customerId=REDACTED"
    )
    text = every_attribute_text(otel)
    assert "cus_abc123xyz" not in text and TOKEN not in text


def test_a_base_urls_password_stays_out_of_url_full(otel: OtelCapture) -> None:
    _, handle = answers(201)
    kwargs = OPERATIONS["createUsageEvent"].kwargs()
    with AuthenticatedClient(
        base_url="https://me:hunter2@api.test.invalid",
        token=TOKEN,
        httpx_args={"transport": httpx.MockTransport(handle)},
    ) as client:
        create_usage_event.sync(client=client, **kwargs)

    (attempt,) = [span for span in otel.spans() if span.kind is SpanKind.CLIENT]
    assert attempt.attributes is not None
    assert attempt.attributes["url.full"] == "https://api.test.invalid/v0/usage"
    assert "hunter2" not in every_attribute_text(otel)


def test_each_base_url_has_its_own_attributes_and_a_resend_leaves_the_next_call_alone(
    otel: OtelCapture,
) -> None:
    # What a cache of the attributes per operation would get wrong (one was tried): a client
    # with another base URL must not get the first one's, and the resend count of a retried
    # call must not stay in what the next call's first attempt is given.
    _, first = answers(503, 201, 201)
    _, second = answers(201)
    kwargs = OPERATIONS["createUsageEvent"].kwargs()
    with client_for(first) as client:
        create_usage_event.sync(client=client, **kwargs)
        create_usage_event.sync(client=client, **kwargs)
    with AuthenticatedClient(
        base_url="http://other.test.invalid:8080",
        token=TOKEN,
        httpx_args={"transport": httpx.MockTransport(second)},
    ) as other:
        create_usage_event.sync(client=other, **kwargs)

    attempts = sorted(
        (span for span in otel.spans() if span.kind is SpanKind.CLIENT),
        key=lambda span: span.start_time or 0,
    )
    last = dict(attempts[-1].attributes or {})
    assert [dict(span.attributes or {}).get("http.request.resend_count") for span in attempts] == [
        None,
        1,
        None,
        None,
    ]
    assert (last["server.address"], last["server.port"]) == ("other.test.invalid", 8080)
    assert last["url.full"] == "http://other.test.invalid:8080/v0/usage"
    by_address: dict[str, int] = {}
    for point in otel.points("http.client.request.duration"):
        address = point.attributes["server.address"]
        by_address[address] = by_address.get(address, 0) + point.count
    assert by_address == {"api.test.invalid": 3, "other.test.invalid": 1}


def test_paygentic_otel_off_sends_no_span_and_no_traceparent(
    otel: OtelCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(otel_switch.SWITCH_VARIABLE, "off")
    seen, handle = answers(201)
    create(handle, "sync")

    assert otel.spans() == []
    assert otel.points("http.client.request.duration") == []
    assert "traceparent" not in seen[0]


def test_an_operations_span_is_named_by_its_operation_id() -> None:
    for operation_id, operation in OPERATIONS.items():
        path = next(
            path
            for path, item in SPEC["paths"].items()
            if any(op is spec_operation(operation_id) for op in item.values())
        )
        declared = operation.module.OPERATION
        assert (declared.name, declared.url_template) == (operation_id, path)


def test_the_sandbox_receives_the_attempts_traceparent(otel: OtelCapture) -> None:
    """The sandbox app (in this process, over ASGI) gets the traceparent of the attempt span."""
    received: list[str] = []
    app = create_app(tokens=TOKENS)

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            received.append(headers.get(b"traceparent", b"").decode())
        await app(scope, receive, send)

    async def run() -> None:
        async with AuthenticatedClient(
            base_url="http://sandbox.in-process",
            token=SANDBOX_TOKEN,
            httpx_args={"transport": httpx.ASGITransport(app=recording)},
        ) as client:
            body = OPERATIONS["createUsageEvent"].kwargs()["body"]
            body.merchant_id = MERCHANT_ID
            await create_usage_event.asyncio(client=client, body=body)

    asyncio.run(run())

    (attempt,) = [span for span in otel.spans() if span.kind is SpanKind.CLIENT]
    assert attempt.attributes is not None
    assert attempt.attributes["http.response.status_code"] == 201
    context = attempt.context
    (sent,) = [TRACEPARENT.match(value) for value in received]
    assert sent and (sent["trace"], sent["span"]) == (
        f"{context.trace_id:032x}",
        f"{context.span_id:016x}",
    )


def test_an_operations_span_is_a_child_of_the_callers_current_span(otel: OtelCapture) -> None:
    _, handle = answers(201)
    with trace.get_tracer("the application").start_as_current_span("handle request") as outer:
        create(handle, "sync")

    (operation,) = [span for span in otel.spans() if span.name == "createUsageEvent"]
    assert operation.parent is not None
    assert operation.parent.span_id == outer.get_span_context().span_id


def test_a_sampled_out_call_sends_its_trace_on_and_records_no_span(otel: OtelCapture) -> None:
    # An incoming request whose trace was not sampled: the SDK's default sampler follows it.
    parent = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.DEFAULT),
    )
    seen, handle = answers(503, 201)
    token = context.attach(trace.set_span_in_context(NonRecordingSpan(parent)))
    try:
        create(handle, "sync")
    finally:
        context.detach(token)

    assert otel.spans() == []
    sent = [TRACEPARENT_ANY_FLAGS.match(headers["traceparent"]) for headers in seen]
    assert [(m["trace"], m["flags"]) for m in sent if m] == [
        ("0af7651916cd43dd8448eb211c80319c", "00")
    ] * 2
    assert sum(point.count for point in otel.points("http.client.request.duration")) == 2
