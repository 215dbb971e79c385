"""Everything under /_sandbox/: the control API that tests drive, and the dashboard.

The control API (JSON; not part of the Paygentic API, never faulted):

    POST   /_sandbox/api/merchants  {"token"?, "merchantId"?}  -> 201 {"token", "merchantId"}
           a new token acting for a new merchant (or the given ones). Bearer: the server's
           --control-token; without one the endpoint is off (404).
    GET    /_sandbox/api/events[?customerId=ID]  -> 200 {"data": [UsageEvent...]}
           every event of the token's merchant, in the list's order (timestamp, then id).
    GET    /_sandbox/api/faults  -> 200 {"faults": SPEC, "scope": "merchant" or "server"}
    PUT    /_sandbox/api/faults  {"faults": SPEC, "seed"?: N}: inject SPEC (the --faults
           syntax) into the token's merchant's requests only, until
    DELETE /_sandbox/api/faults  which returns them to the server's --faults.
           Bearer: a merchant's token (the one the faults are for).

One server can so serve a whole test session: each test gets a merchant of its own, whose
events and faults no other test sees (the pytest plugin's `paygentic_sandbox` fixture).
The dashboard's pages are in dashboard/.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from paygentic_sandbox import jsontext
from paygentic_sandbox.errors import ApiError, bad_request, error
from paygentic_sandbox.faults import FaultInjector, FaultPlan, FaultSpecError
from paygentic_sandbox.requests import json_body
from paygentic_sandbox.store import ListFilter

if TYPE_CHECKING:
    from paygentic_sandbox.app import SandboxApp

PREFIX = "/_sandbox"
API = PREFIX + "/api/"
_ALL_TIME = (-(2**62), 2**62)  # microseconds: a listing filter that every event passes
_PAGE = 1000


async def handle(app: SandboxApp, scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    if scope["path"].startswith(API):
        try:
            response = await _api(app, request)
        except ApiError as exc:
            body = jsontext.dumps(app.responses.error(exc.body, exc.validation))
            response = Response(body, exc.status, exc.headers, media_type="application/json")
    else:
        # Imported on first use: a server that never shows a page never loads them.
        from paygentic_sandbox.dashboard import views

        response = await views.handle(app, request)
    await response(scope, receive, send)


async def _api(app: SandboxApp, request: Request) -> Response:
    name, method = request.url.path[len(API) :], request.method
    if name == "merchants" and method == "POST":
        return await _add_merchant(app, request)
    if name == "events" and method == "GET":
        return _events(app, _merchant(app, request), request.query_params.get("customerId"))
    if name == "faults" and method in ("GET", "PUT", "DELETE"):
        return await _faults(app, _merchant(app, request), request)
    raise error(
        404, f"There is no control endpoint {method} {request.url.path[:200]}.", "not_found"
    )


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _unauthorized() -> ApiError:
    return error(
        401,
        "A valid bearer token is required.",
        "unauthorized",
        headers={"WWW-Authenticate": "Bearer"},
    )


def _merchant(app: SandboxApp, request: Request) -> str:
    merchant_id = app.tokens.get(_bearer(request))
    if merchant_id is None:
        raise _unauthorized()
    return merchant_id


async def _add_merchant(app: SandboxApp, request: Request) -> Response:
    if app.control_token is None:
        raise error(
            404,
            "The control API is off: start the sandbox with --control-token TOKEN.",
            "not_found",
        )
    if not secrets.compare_digest(_bearer(request).encode(), app.control_token.encode()):
        raise _unauthorized()
    empty = request.headers.get("content-length", "0") == "0"
    body = {} if empty else await json_body(request, 4096)
    if not isinstance(body, dict):
        raise bad_request("The body must be a JSON object.")
    token = _text(body, "token") or "sbx_" + secrets.token_hex(16)
    merchant_id = _text(body, "merchantId") or "org_" + secrets.token_hex(8)
    known = app.tokens.get(token)
    if known is not None and known != merchant_id:
        raise error(409, "This token already acts for another merchant.", "conflict")
    app.tokens[token] = merchant_id
    content = jsontext.dumps({"token": token, "merchantId": merchant_id})
    return Response(content, 201 if known is None else 200, media_type="application/json")


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise bad_request(f"{name} must be a non-empty string.")
    return value


def _events(app: SandboxApp, merchant_id: str, customer_id: str | None) -> Response:
    where = ListFilter(merchant_id, *_ALL_TIME, customer_id=customer_id)
    documents: list[str] = []
    while True:
        page, total = app.store.page(where, _PAGE, len(documents))
        documents += page
        if not page or len(documents) >= total:
            break
    data = ",".join(map(app.responses.stored_event, documents))
    return Response('{"data":[' + data + "]}", 200, media_type="application/json")


async def _faults(app: SandboxApp, merchant_id: str, request: Request) -> Response:
    if request.method == "PUT":
        body = await json_body(request, 4096)
        if not isinstance(body, dict) or not isinstance(body.get("faults"), str):
            raise bad_request('The body must be {"faults": SPEC, "seed": N}.')
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise bad_request("seed must be an integer.")
        try:
            plan = FaultPlan.parse(body["faults"])
        except FaultSpecError as exc:
            raise bad_request(f"faults: {exc}") from None
        app.merchant_faults[merchant_id] = FaultInjector(plan, seed)
    elif request.method == "DELETE":
        app.merchant_faults.pop(merchant_id, None)
    return Response(
        jsontext.dumps(faults_in_force(app, merchant_id)), media_type="application/json"
    )


def faults_in_force(app: SandboxApp, merchant_id: str) -> dict[str, Any]:
    """The faults that one merchant's requests meet, and where they were set."""
    own = app.merchant_faults.get(merchant_id)
    if own is not None:
        return {"faults": own.plan.describe(), "scope": "merchant"}
    return {"faults": app.faults.plan.describe(), "scope": "server"}
