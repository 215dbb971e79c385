"""The dashboard's routes. Signing in takes one of the sandbox's tokens (form field
`token`) and gives an HttpOnly, SameSite=Strict session cookie; every page then shows the
data of that token's merchant only. Without a session a page sends the browser to sign in.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from paygentic_sandbox import control, timestamps
from paygentic_sandbox.dashboard import chart, queries
from paygentic_sandbox.dashboard.html import HEADERS, cell, document, esc, link, table

if TYPE_CHECKING:
    from paygentic_sandbox.app import SandboxApp

HOME = "/_sandbox/"
EVENTS_PER_PAGE = 25
_MAX_FORM_BYTES = 4096
ATOMIC_UNITS_PER_DOLLAR = Decimal(10**9)

Page = Callable[["SandboxApp", Request, str], Awaitable[Response]]


async def handle(app: SandboxApp, request: Request) -> Response:
    path, method = request.url.path, request.method
    if path == "/_sandbox":
        return RedirectResponse(HOME, 303, headers=HEADERS)
    if path == HOME and method == "GET":
        return _sign_in_form() if _signed_in(app, request) is None else _to("/_sandbox/events")
    if path == "/_sandbox/login" and method == "POST":
        return await _sign_in(app, request)
    if path == "/_sandbox/logout" and method == "POST":
        return _sign_out(app, request)
    page = PAGES.get(path)
    if page is None:
        body = f"<h1>Not found</h1><p>There is no page {esc(path[:200])}.</p>"
        return _html(document("Not found", body + link(HOME, {}, "Sign in")), 404)
    if method != "GET":
        return _html(document("Not allowed", "<h1>Use GET</h1>"), 405, {"Allow": "GET"})
    merchant_id = _signed_in(app, request)
    if merchant_id is None:
        return _to(HOME)
    return await page(app, request, merchant_id)


def _html(content: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return HTMLResponse(content, status, {**HEADERS, **(headers or {})})


def _to(path: str) -> Response:
    return RedirectResponse(path, 303, headers=HEADERS)


# Sessions ---------------------------------------------------------------------------------


def _cookie_name(request: Request) -> str:
    # Browsers do not tell cookies apart by port: two sandboxes on one host need two names.
    server = request.scope.get("server")
    port = server[1] if server and server[1] else ""
    return f"paygentic_sandbox_session{port}"


def _signed_in(app: SandboxApp, request: Request) -> str | None:
    session = request.cookies.get(_cookie_name(request))
    return app.dashboard_sessions.get(session) if session else None


def _sign_in_form(message: str = "", status: int = 200) -> Response:
    notice = f'<p class="notice error" role="alert">{esc(message)}</p>' if message else ""
    body = (
        '<div class="signin"><h1>Sign in to the sandbox</h1>'
        "<p>Use one of the sandbox's bearer tokens: you will see the data of the merchant it "
        "acts for, and only that.</p>"
        f"{notice}"
        '<form method="post" action="/_sandbox/login">'
        '<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="off" required autofocus>'
        "<button>Sign in</button></form></div>"
    )
    return _html(document("Sign in", body), status)


async def _sign_in(app: SandboxApp, request: Request) -> Response:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > _MAX_FORM_BYTES:
            return _sign_in_form("That is not a token.", 413)
    token = parse_qs(raw.decode("utf-8", "replace")).get("token", [""])[0].strip()
    merchant_id = app.tokens.get(token)
    if merchant_id is None:
        return _sign_in_form("That token is not one of this sandbox's tokens.", 401)
    session = secrets.token_urlsafe(32)
    app.dashboard_sessions[session] = merchant_id
    response = _to("/_sandbox/events")
    response.set_cookie(
        _cookie_name(request), session, path="/_sandbox", httponly=True, samesite="strict"
    )
    return response


def _sign_out(app: SandboxApp, request: Request) -> Response:
    session = request.cookies.get(_cookie_name(request))
    if session:
        app.dashboard_sessions.pop(session, None)
    response = _to(HOME)
    response.delete_cookie(
        _cookie_name(request), path="/_sandbox", httponly=True, samesite="strict"
    )
    return response


# Filters ----------------------------------------------------------------------------------


def _instant(text: str) -> int:
    """An RFC 3339 date-time, or a browser's `datetime-local` value (read as UTC)."""
    text = text.strip()
    if len(text) == 16:  # 2026-01-15T10:30
        text += ":00"
    if len(text) == 19:
        text += "Z"
    return timestamps.parse(text.replace(" ", "T", 1))


def _filters(request: Request) -> tuple[queries.EventFilter, dict[str, str], list[str]]:
    """The filter, the query's values as given (to fill the form and links), problems."""
    query = request.query_params
    given = {
        name: query.get(name, "").strip()[:200]
        for name in ("customer", "metric", "key", "from", "to")
    }
    problems = []
    instants: dict[str, int | None] = {"from": None, "to": None}
    for name in instants:
        if given[name]:
            try:
                instants[name] = _instant(given[name])
            except timestamps.InvalidTimestamp as exc:
                problems.append(f"{name}: {exc}")
    where = queries.EventFilter(
        customer_id=given["customer"],
        metric=given["metric"],
        key=given["key"],
        start_us=instants["from"],
        end_us=instants["to"],
    )
    return where, given, problems


def _filter_form(action: str, given: dict[str, str], fields: tuple[str, ...]) -> str:
    labels = {
        "customer": "Customer",
        "metric": "Billable metric",
        "key": "Idempotency key",
        "from": "From (UTC)",
        "to": "To (UTC)",
    }
    inputs = "".join(
        f'<label>{labels[name]}<input name="{name}" value="{esc(given.get(name, ""))}"'
        f"{' placeholder=2026-01-15T10:30:00Z' if name in ('from', 'to') else ''}></label>"
        for name in fields
    )
    return (
        f'<form class="filters" method="get" action="{action}">{inputs}'
        f'<button>Filter</button> <a href="{action}">Clear</a></form>'
    )


def _problems(problems: list[str]) -> str:
    return "".join(f'<p class="notice error" role="alert">{esc(p)}</p>' for p in problems)


# Pages ------------------------------------------------------------------------------------


async def events_page(app: SandboxApp, request: Request, merchant_id: str) -> Response:
    where, given, problems = _filters(request)
    page_text = request.query_params.get("page", "1")
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 10**9 else 1
    rows, total = queries.events(
        app.store, merchant_id, where, EVENTS_PER_PAGE, (page - 1) * EVENTS_PER_PAGE
    )
    table_html = table(
        ["Time", "Event", "Customer", "Usage", "Idempotency key", "Amount", "Status"],
        (_event_cells(row) for row in rows),
        empty="No events match." if total or any(given.values()) else "No events yet.",
    )
    last_page = max(1, -(-total // EVENTS_PER_PAGE))
    links = []
    if page > 1:
        links.append(link("/_sandbox/events", {**given, "page": page - 1}, "Newer"))
    links.append(f"<span>page {page} of {last_page} · {total} events</span>")
    if page < last_page:
        links.append(link("/_sandbox/events", {**given, "page": page + 1}, "Older"))
    body = (
        "<h1>Events</h1>"
        + _filter_form("/_sandbox/events", given, ("customer", "metric", "key", "from", "to"))
        + _problems(problems)
        + table_html
        + f'<nav class="pages">{"".join(links)}</nav>'
    )
    return _html(document("Events", body, merchant_id=merchant_id, current="Events"))


def _event_cells(row: queries.EventRow) -> list[str]:
    event = row.event
    usage = "<br>".join(
        f"{esc(p['billableMetricId'])} × {esc(chart.quantity_text(Decimal(p['quantity'])))}"
        + (f" @ ${esc(p['price'])}" if p.get("price") is not None else "")
        for p in event["properties"]
    )
    badges = []
    if row.refunded:
        reason = (event.get("refund") or {}).get("reason") or ""
        badges.append(f'<span class="badge refunded" title="{esc(reason)}">refunded</span>')
    if row.disputed:
        status = (event.get("dispute") or {}).get("status") or ""
        badges.append(f'<span class="badge disputed" title="{esc(status)}">disputed</span>')
    return [
        cell(event["timestamp"]),
        f"<td><code>{esc(event['id'])}</code></td>",
        cell(event["customerId"]),
        f"<td>{usage}</td>",
        f"<td><code>{esc(event.get('idempotencyKey') or '')}</code></td>",
        cell(_amount(event), "number"),
        f"<td>{' '.join(badges)}</td>",
    ]


def _amount(event: dict[str, Any]) -> str:
    billing = event.get("billing")
    if not isinstance(billing, dict) or billing.get("totalAmount") is None:
        return "not billed"
    dollars = Decimal(billing["totalAmount"]) / ATOMIC_UNITS_PER_DOLLAR
    return f"${chart.quantity_text(dollars)} {billing.get('currency') or ''}".strip()


async def usage_page(app: SandboxApp, request: Request, merchant_id: str) -> Response:
    where, given, problems = _filters(request)
    summed = chart.summed(queries.usage(app.store, merchant_id, where))
    charts = "".join(
        f"<h2>{esc(metric)}</h2>"
        + chart.svg(per_metric)
        + (
            f'<p class="notice">{len(per_metric.series) - chart.MAX_SERIES_DRAWN} more '
            "customers are not drawn: filter by customer.</p>"
            if len(per_metric.series) > chart.MAX_SERIES_DRAWN
            else ""
        )
        for metric, per_metric in sorted(chart.by_metric(summed).items())
    )
    rows = (
        [
            cell(s.metric),
            cell(s.customer_id),
            cell(len(s.points), "number"),
            cell(chart.quantity_text(s.total), "number"),
        ]
        for s in sorted(summed.series, key=lambda s: (s.metric, -s.total, s.customer_id))
    )
    body = (
        "<h1>Usage over time</h1>"
        + _filter_form("/_sandbox/usage", given, ("customer", "metric", "from", "to"))
        + _problems(problems)
        + (
            "<p>Quantity per customer for each billable metric, summed per "
            f"{esc(summed.bucket_name)} (refunded events do not count).</p>"
            if summed.series
            else ""
        )
        + charts
        + "<h2>Totals</h2>"
        + table(
            ["Billable metric", "Customer", "Buckets", "Total quantity"],
            rows,
            empty="No usage yet.",
        )
    )
    return _html(document("Usage", body, merchant_id=merchant_id, current="Usage"))


async def activity_page(app: SandboxApp, request: Request, merchant_id: str) -> Response:
    faults = control.faults_in_force(app, merchant_id)
    where = (
        "this merchant's requests (set by a test)"
        if faults["scope"] == "merchant"
        else "every request (the server's --faults)"
    )
    fault_text = (
        f"<p>Injected into {esc(where)}: <code>{esc(faults['faults'])}</code></p>"
        if faults["faults"]
        else "<p>No fault injection is in force.</p>"
    )
    batches = table(
        ["Time", "Events", "Successful", "Replayed", "Failed entries"],
        (
            [
                cell(timestamps.format_utc(b.at_us)),
                cell(b.total, "number"),
                cell(b.successful, "number"),
                cell(b.replayed, "number"),
                "<td>"
                + "<br>".join(
                    f"[{f.index}] <code>{esc(f.idempotency_key)}</code>: {esc(f.error)}"
                    for f in b.failed
                )
                + (
                    f"<br>… and {b.failed_count - len(b.failed)} more"
                    if b.failed_count > len(b.failed)
                    else ""
                )
                + "</td>",
            ]
            for b in app.activity.batches(merchant_id)
        ),
        empty="No batch yet.",
    )
    replays = table(
        ["Time", "Operation", "Idempotency key", "Stored event", "Outcome"],
        (
            [
                cell(timestamps.format_utc(r.at_us)),
                cell(r.operation),
                "<td>"
                + link("/_sandbox/events", {"key": r.idempotency_key}, r.idempotency_key)
                + "</td>",
                f"<td><code>{esc(r.event_id)}</code></td>",
                (
                    f'<td><span class="badge conflict">conflict</span> differs in '
                    f"{esc(', '.join(r.differences))}; the stored event stands</td>"
                    if r.conflict
                    else '<td><span class="badge same">replay</span> the same event</td>'
                ),
            ]
            for r in app.activity.replays(merchant_id)
        ),
        empty="No idempotency replay yet.",
    )
    body = (
        "<h1>Activity</h1><h2>Fault injection</h2>"
        + fault_text
        + "<h2>Batch results</h2>"
        + batches
        + "<h2>Idempotency replays and conflicts</h2>"
        + replays
    )
    return _html(document("Activity", body, merchant_id=merchant_id, current="Activity"))


PAGES: dict[str, Page] = {
    "/_sandbox/events": events_page,
    "/_sandbox/usage": usage_page,
    "/_sandbox/activity": activity_page,
}
