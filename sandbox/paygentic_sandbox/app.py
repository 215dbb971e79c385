"""The ASGI application: routing, authentication, faults and the five operations."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from paygentic_sandbox import (
    control,
    events,
    generic_filters,
    jsontext,
    spec,
    timestamps,
    unimplemented,
)
from paygentic_sandbox.activity import ActivityLog
from paygentic_sandbox.config import DEMO_MERCHANT_ID, DEMO_TOKEN, MAX_BODY_BYTES
from paygentic_sandbox.drift import Drift
from paygentic_sandbox.errors import (
    ApiError,
    bad_request,
    error,
    forbidden_merchant,
    internal_error,
    nested_too_deeply,
    not_found,
    validation_failed,
)
from paygentic_sandbox.faults import Fault, FaultInjector, FaultPlan
from paygentic_sandbox.requests import json_body, query_instance, raise_if_invalid
from paygentic_sandbox.shapes import Responses
from paygentic_sandbox.spec import FieldError, NestingTooDeep, validators
from paygentic_sandbox.store import ListFilter, NewEvent, Store

logger = logging.getLogger("paygentic_sandbox")

# Responses echo what clients sent: at most this many validation problems per failed event.
MAX_ERRORS_PER_FAILED_EVENT = 5
_MAX_OFFSET = 2**62


@dataclass
class Call:
    """One authenticated request to an operation."""

    request: Request
    merchant_id: str
    event_id: str = ""


@dataclass
class Reply:
    """A response; `content` is JSON text, often spliced from stored documents."""

    status: int
    content: str
    headers: dict[str, str] = field(default_factory=dict)


_json = jsontext.dumps


Handler = Callable[["SandboxApp", Call], Awaitable[Reply]]


class ConnectionDropped(Exception):
    """Raised instead of dropping the connection when the server exposes no transport
    (in-process test clients): the client sees an exception either way."""


class SandboxApp:
    """The reference server as an ASGI 3 application."""

    def __init__(
        self,
        store: Store,
        tokens: Mapping[str, str],
        faults: FaultPlan | None = None,
        seed: int | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        null_optionals: bool = False,
        control_token: str | None = None,
        drift: int | None = None,
    ) -> None:
        """`null_optionals`: send `null` for optional fields that have no value, as
        production's published examples do, instead of leaving them out. `control_token`:
        the bearer token of the control API that adds merchants (control.py; off without).
        `drift`: answer as a newer API might, with this seed (drift.py)."""
        self.drift = Drift(drift) if drift is not None else None
        self.store = store
        self.tokens = dict(tokens)
        self.faults = FaultInjector(faults or FaultPlan(), seed)
        # /_sandbox/ (control.py): faults set for one merchant's requests, what requests did
        # (the dashboard's Activity page), the dashboard's sessions (cookie → merchant).
        self.control_token = control_token
        self.merchant_faults: dict[str, FaultInjector] = {}
        self.activity = ActivityLog()
        self.dashboard_sessions: dict[str, str] = {}
        self.max_body_bytes = max_body_bytes
        self.validators = validators()
        self.responses = Responses(null_optionals)
        # Refund request fields without a rule here that the Refund schema declares.
        self.refund_passthrough = (
            spec.declared_properties("RefundUsageEventRequest") - {"refunded", "reason"}
        ) & spec.declared_properties("Refund")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"].startswith(control.PREFIX):
            await control.handle(self, scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            handler, event_id = self._route(scope)
            reply, fault = await self._operation(handler, request, event_id)
        except ApiError as exc:
            reply, fault = self._error_reply(exc), Fault.NONE
        except NestingTooDeep:
            # One line, not a traceback: a client can send this as often as it likes.
            logger.warning("%s %s: request body nested too deeply", scope["method"], scope["path"])
            reply, fault = self._error_reply(nested_too_deeply()), Fault.NONE
        except Exception:
            logger.exception("unexpected error in %s %s", scope["method"], scope["path"])
            reply, fault = self._error_reply(internal_error()), Fault.NONE
        if fault is Fault.DROP_AFTER_COMMIT:
            await _drop_connection(send)
            return
        if self.drift is not None:
            reply = Reply(reply.status, self.drift.content(reply.content), reply.headers)
        await _send_json(reply, scope, receive, send)

    def _error_reply(self, exc: ApiError) -> Reply:
        return Reply(exc.status, _json(self.responses.error(exc.body, exc.validation)), exc.headers)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _route(self, scope: Scope) -> tuple[Handler, str]:
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or path.encode("utf-8")
        methods: dict[str, Handler]
        event_id = ""
        if path == "/v0/usage":
            template = path
            methods = {"GET": SandboxApp.list_events, "POST": SandboxApp.create}
        elif path == "/v0/usage/batch":
            template = path
            methods = {"POST": SandboxApp.batch_create}
        elif raw_path.startswith(b"/v0/usage/") and raw_path.count(b"/") == 3:
            template = "/v0/usage/{id}"
            event_id = unquote(raw_path[len(b"/v0/usage/") :].decode("latin-1"))
            methods = {"GET": SandboxApp.get, "PATCH": SandboxApp.refund}
        else:
            declared = unimplemented.unrouted_message(scope["method"], path)
            raise error(404, declared or f"There is no resource at {path[:200]}.", "not_found")
        handler = methods.get(scope["method"])
        if handler is None:
            allowed = ", ".join(methods)
            declared = unimplemented.not_implemented_message(scope["method"], template)
            raise error(
                405,
                declared or f"{scope['method'][:20]} is not allowed here; use {allowed}.",
                "method_not_allowed",
                headers={"Allow": allowed},
            )
        return handler, event_id

    def _authenticate(self, request: Request) -> str:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        merchant_id = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if merchant_id is None:
            raise error(
                401,
                "A valid bearer token is required.",
                "unauthorized",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return merchant_id

    async def _operation(
        self, handler: Handler, request: Request, event_id: str
    ) -> tuple[Reply, Fault]:
        merchant_id = self._authenticate(request)
        faults = self.merchant_faults.get(merchant_id, self.faults)
        fault = faults.draw()
        delay = faults.delay()
        if delay:
            await asyncio.sleep(delay)
        if fault is Fault.UNAVAILABLE:
            raise error(
                503,
                "The service is unavailable (injected fault).",
                "service_unavailable",
            )
        if fault is Fault.RATE_LIMITED:
            seconds = faults.plan.retry_after_seconds
            raise error(
                429,
                f"Too many requests; retry after {seconds} seconds.",
                "rate_limited",
                headers={"Retry-After": str(seconds)},
            )
        return await handler(self, Call(request, merchant_id, event_id)), fault

    # The five operations -------------------------------------------------------------

    async def create(self, call: Call) -> Reply:
        body = await json_body(call.request, self.max_body_bytes)
        if not self.validators.create.is_valid(body):
            raise validation_failed(self.validators.create.errors(body))
        if body["merchantId"] != call.merchant_id:
            raise forbidden_merchant(body["merchantId"])
        try:
            new = events.build(body, _now(), events.new_ids(1)[0])
        except events.EventRejected as exc:
            raise validation_failed(exc.errors) from None
        (stored,) = self.store.insert_many([new])
        self.activity.created(call.merchant_id, new, stored)
        headers = {"Idempotent-Replayed": "true"} if stored.replayed else {}
        return Reply(201, self.responses.stored_event(stored.document), headers)

    async def batch_create(self, call: Call) -> Reply:
        body = await json_body(call.request, self.max_body_bytes)
        envelope = self.validators.batch_envelope
        if not envelope.is_valid(body):
            raise validation_failed(envelope.errors(body))
        now = _now()
        accepted: list[NewEvent] = []
        failed = []
        ids = events.new_ids(len(body["events"]))
        all_valid = self.validators.batch_items.is_valid(body["events"])
        for index, item in enumerate(body["events"]):
            problem = self._batch_item_problem(item, call.merchant_id, all_valid)
            if problem is None:
                try:
                    accepted.append(events.build(item, now, ids[index]))
                    continue
                except events.EventRejected as exc:
                    problem = "; ".join(str(e) for e in exc.errors)
            failed.append({"index": index, "error": problem, "idempotencyKey": _key_of(item)})
        stored = self.store.insert_many(accepted)
        total = len(body["events"])
        self.activity.batch(call.merchant_id, accepted, stored, failed, total)
        summary = {"total": total, "successful": len(stored), "failed": len(failed)}
        event = self.responses.stored_event
        content = (
            '{"object":"batchUsageEvents","successful":['
            + ",".join(event(s.document) for s in stored)
            + f'],"failed":{_json(self.responses.failures(failed))},"summary":{_json(summary)}}}'
        )
        return Reply(207 if failed else 201, content)

    def _batch_item_problem(self, item: Any, merchant_id: str, schema_valid: bool) -> str | None:
        """Why an event of a batch fails (`schema_valid`: the schema is known to pass)."""
        validator = self.validators.batch_item
        if not schema_valid and not validator.is_valid(item):
            problems = validator.errors(item, root="event")[:MAX_ERRORS_PER_FAILED_EVENT]
            return "; ".join(str(p) for p in problems)
        if item["merchantId"] != merchant_id:
            return f"merchantId: this token cannot act for merchant {item['merchantId']}"
        return None

    async def get(self, call: Call) -> Reply:
        self._check_event_id(call.event_id)
        event = self.store.get(call.merchant_id, call.event_id)
        if event is None:
            raise not_found(call.event_id)
        return Reply(200, self.responses.stored_event(event))

    async def refund(self, call: Call) -> Reply:
        self._check_event_id(call.event_id)
        body = await json_body(call.request, self.max_body_bytes)
        if not self.validators.refund.is_valid(body):
            raise validation_failed(self.validators.refund.errors(body))
        # Stored like every event: a field without a value is left out (see shapes.py).
        refund = {"refundedAt": _now()}
        if "reason" in body:
            refund["reason"] = body["reason"]
        for name in self.refund_passthrough & body.keys():
            refund[name] = body[name]
        event, refunded_now = self.store.refund(call.merchant_id, call.event_id, refund)
        if event is None:
            raise not_found(call.event_id)
        if not refunded_now:
            raise error(
                422,
                f"Usage event {call.event_id} is already refunded.",
                "unprocessable_entity",
            )
        return Reply(200, self.responses.stored_event(event))

    async def list_events(self, call: Call) -> Reply:
        parameters = self.validators.list_parameters
        generic_filters.refuse_unimplemented(parameters, call.request.query_params)
        query, problems = query_instance(call.request, parameters)
        raise_if_invalid(problems or self.validators.list_query.errors(query))
        start_us = _instant(query, "startTime")
        end_us = _instant(query, "endTime")
        if start_us > end_us:
            raise bad_request("startTime must not be after endTime.")
        filters = ("customerId", "merchantId", "consumerId", "subscriptionId")
        if not any(name in query for name in filters):
            raise bad_request(
                "Give at least one of customerId, merchantId, consumerId, subscriptionId."
            )
        if query.get("merchantId", call.merchant_id) != call.merchant_id:
            raise forbidden_merchant(query["merchantId"])
        where = ListFilter(
            merchant_id=call.merchant_id,
            start_us=start_us,
            end_us=end_us,
            customer_id=query.get("customerId"),
            consumer_id=query.get("consumerId"),
            subscription_id=query.get("subscriptionId"),
            fields=generic_filters.requested(parameters, query),
        )
        limit = int(query.get("limit", _default(parameters, "limit")))
        offset = int(min(Decimal(query.get("offset", 0)), Decimal(_MAX_OFFSET)))
        data, total = self.store.page(where, limit, offset)
        pagination = {"limit": limit, "offset": offset, "total": total}
        shown = ",".join(map(self.responses.stored_event, data))
        content = f'{{"object":"list","data":[{shown}],"pagination":{_json(pagination)}}}'
        return Reply(200, content)

    def _check_event_id(self, event_id: str) -> None:
        validator = self.validators.event_id
        if not validator.is_valid(event_id):
            raise validation_failed(
                [FieldError("id", e.message, e.code) for e in validator.errors(event_id)]
            )


def _now() -> str:
    return timestamps.format_utc(timestamps.now_micros())


def _instant(query: dict[str, Any], name: str) -> int:
    try:
        return timestamps.parse(query[name])
    except timestamps.InvalidTimestamp as exc:
        raise validation_failed([FieldError(name, str(exc), "format")]) from None


def _default(parameters: Any, name: str) -> Any:
    for parameter in parameters:
        if parameter.name == name:
            return parameter.schema.get("default")
    raise KeyError(name)


async def _send_json(reply: Reply, scope: Scope, receive: Receive, send: Send) -> None:
    response = Response(
        reply.content.encode(), reply.status, reply.headers, media_type="application/json"
    )
    await response(scope, receive, send)


async def _drop_connection(send: Send) -> None:
    """Close the connection without a response: what a client sees when a server or a
    proxy dies after the work was done. Uvicorn's `send` is a bound method of the request
    cycle, which holds the socket's transport."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionDropped("connection dropped after commit (injected fault)")
    transport.abort()
    # Let uvicorn see the disconnection, so that it does not try to answer 500 itself.
    for _ in range(10):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0)


def tune_garbage_collector() -> None:
    """Collect less often: a 1000-event batch allocates some 100,000 objects, and with
    Python's default thresholds the collections would take a third of its time. Objects
    alive at start-up (the spec, the validators) are moved out of the collector's sight."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def create_app(
    db: str = ":memory:",
    tokens: Mapping[str, str] | None = None,
    faults: FaultPlan | None = None,
    seed: int | None = None,
    null_optionals: bool = False,
    spec_path: str | None = None,
    control_token: str | None = None,
    drift: int | None = None,
) -> SandboxApp:
    """A sandbox on the SQLite database `db`, accepting `tokens` (token → merchant id;
    the demo token when not given), following the spec at `spec_path` (default: the
    packaged openapi.yaml; for the whole process)."""
    spec.use_spec(spec_path)
    for field_name in events.passthrough().unreturned:
        logger.warning(
            "%s has no rule here and no field of its name in the response: accepted, not returned",
            field_name,
        )
    tokens = tokens or {DEMO_TOKEN: DEMO_MERCHANT_ID}
    return SandboxApp(
        Store(db),
        tokens,
        faults,
        seed,
        null_optionals=null_optionals,
        control_token=control_token,
        drift=drift,
    )


def _key_of(item: Any) -> str:
    """A batch failure's idempotencyKey: the event's, or "" when it has no readable one.
    Production's contract requires a string there: both official SDKs (TypeScript `Failed`,
    Python `idempotency_key: str`) refuse the whole answer without one."""
    key = item.get("idempotencyKey") if isinstance(item, dict) else None
    return key if isinstance(key, str) else ""
