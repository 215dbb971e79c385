"""Spans and the request-duration metric of the client's calls, through OpenTelemetry's API.

Imported by transport.py only once otel.enabled() said the API is installed and not switched
off. Per call, one INTERNAL span named after the operation (`createUsageEvent`); under it one
CLIENT span per HTTP attempt, named `POST /v0/usage` (method and URL template), with the HTTP
client semantic conventions' attributes; the attempt's W3C `traceparent` (through the global
propagator) goes in its request's headers; its duration goes in the `http.client.request.duration`
histogram.

What a span or a metric never carries: a header, a body, a token, a query value. `url.full`
keeps the query's keys and replaces each value with `REDACTED` (list calls filter by customer
id), and drops any `user:password@`. The path is kept: its only variable part is a usage
event's id.

Neither span is made current (no context is attached): no user code runs inside a call, and the
attempt spans name their parent explicitly, which also keeps asyncio tasks' contexts untouched.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from .otel import SCOPE, error_type
from .redact import url_without_secrets
from .version import VERSION

if TYPE_CHECKING:
    from .transport import Operation

# The bucket boundaries the HTTP semantic conventions advise for request durations (seconds).
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
DURATION_METRIC = "http.client.request.duration"

_tracer = trace.get_tracer(SCOPE, VERSION)
_duration = metrics.get_meter(SCOPE, VERSION).create_histogram(
    DURATION_METRIC,
    unit="s",
    description="Duration of HTTP client requests.",
    explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
)
_DEFAULT_PORTS = {"https": 443, "http": 80}

Attributes = dict[str, AttributeValue]


class OperationTrace:
    """The span of one operation call and what its attempts share.

    Attributes are the conventions' required and recommended ones, no opt-in one but
    `url.template` on spans: each costs the SDK a few microseconds per span or measurement.

    When the operation's span does not record (no SDK configured, or sampled out), its
    attempts get no span of their own: only their duration is measured, and the traceparent
    of the operation's span is sent if it has a valid one (a sampled-out trace goes on being
    sampled out downstream). That keeps the API-without-SDK case close to free.
    """

    __slots__ = ("_base", "_context", "_ended", "_metric_base", "_name", "_recording", "_span")

    def __init__(self, operation: Operation | None, request: httpx.Request) -> None:
        url = request.url
        method = request.method
        port = url.port or _DEFAULT_PORTS.get(url.scheme)
        self._metric_base: Attributes = {"http.request.method": method, "server.address": url.host}
        if port is not None:
            self._metric_base["server.port"] = port
        self._ended = False
        if operation is None:
            # A bare send (the ingesters'): attempt spans under whatever span is current.
            self._span: trace.Span | None = None
            self._context = None
            self._recording = True
            self._name = method
            self._base = self._span_attributes(url, None)
            return
        self._span = _tracer.start_span(operation.name, kind=SpanKind.INTERNAL)
        self._recording = self._span.is_recording()
        # No context at all (no SDK): nothing to parent or to send on.
        valid = self._recording or self._span.get_span_context().is_valid
        self._context = trace.set_span_in_context(self._span) if valid else None
        self._name = f"{method} {operation.url_template}"
        self._base = self._span_attributes(url, operation) if self._recording else {}

    def _span_attributes(self, url: httpx.URL, operation: Operation | None) -> Attributes:
        attributes = {**self._metric_base, "url.full": url_without_secrets(url)}
        if operation is not None:
            attributes["url.template"] = operation.url_template
        return attributes

    def attempt(self, request: httpx.Request, attempt: int) -> AttemptTrace:
        """Start the span of an attempt (the first is 1) and put its traceparent in the
        request's headers."""
        if not self._recording:
            if self._context is not None:
                propagate.inject(request.headers, context=self._context)
            return AttemptTrace(None, self._metric_base)
        attributes = dict(self._base)
        if attempt > 1:
            attributes["http.request.resend_count"] = attempt - 1
        span = _tracer.start_span(
            self._name, context=self._context, kind=SpanKind.CLIENT, attributes=attributes
        )
        propagate.inject(request.headers, context=trace.set_span_in_context(span))
        return AttemptTrace(span, self._metric_base)

    def answered(self, status_code: int) -> None:
        """The call ends with this response (the last attempt's)."""
        if self._span is None or self._ended:
            return
        self._ended = True
        if not self._recording:
            self._span.end()
            return
        if status_code >= 400:
            self._span.set_attributes(
                {"http.response.status_code": status_code, "error.type": str(status_code)}
            )
            self._span.set_status(Status(StatusCode.ERROR))
        else:
            self._span.set_attribute("http.response.status_code", status_code)
        self._span.end()

    def failed(self, error: BaseException) -> None:
        """The call ends without a response (error: the httpx exception, or what interrupted
        the call)."""
        if self._span is None or self._ended:
            return
        self._ended = True
        if self._recording:
            self._span.set_attribute("error.type", error_type(error))
            self._span.set_status(Status(StatusCode.ERROR))
        self._span.end()


class AttemptTrace:
    """One HTTP attempt's span (None when the operation's does not record) and duration."""

    __slots__ = ("_metric_base", "_span", "_start")

    def __init__(self, span: trace.Span | None, metric_base: Attributes) -> None:
        self._span = span
        self._metric_base = metric_base
        self._start = time.perf_counter()

    def answered(self, status_code: int) -> None:
        elapsed = time.perf_counter() - self._start
        span = self._span
        if status_code >= 400:
            outcome: Attributes = {
                "http.response.status_code": status_code,
                "error.type": str(status_code),
            }
            if span is not None:
                span.set_attributes(outcome)
                span.set_status(Status(StatusCode.ERROR))
        else:
            outcome = {"http.response.status_code": status_code}
            if span is not None:
                span.set_attribute("http.response.status_code", status_code)
        if span is not None:
            span.end()
        _duration.record(elapsed, {**self._metric_base, **outcome})

    def failed(self, error: BaseException) -> None:
        elapsed = time.perf_counter() - self._start
        kind = error_type(error)
        if self._span is not None:
            self._span.set_attribute("error.type", kind)
            self._span.set_status(Status(StatusCode.ERROR))
            self._span.end()
        _duration.record(elapsed, {**self._metric_base, "error.type": kind})
