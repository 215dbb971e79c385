"""The dashboard at /_sandbox/, in process (httpx's ASGITransport): signing in, the session
cookie, one merchant's data only, the filters, the chart's numbers, the activity records,
and escaping. tests/sandbox/test_dashboard_browser.py does the same in a real Chromium."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from paygentic_sandbox.activity import ActivityLog
from paygentic_sandbox.app import SandboxApp, create_app
from paygentic_sandbox.store import NewEvent, Store
from support.asgi_client import Client
from support.sandbox_fixture import MERCHANT_ID, OTHER_MERCHANT_ID, OTHER_TOKEN, TOKEN, TOKENS

START = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


_clients: list[Client] = []


@pytest.fixture(scope="module")
def shared_app() -> SandboxApp:
    # Building an app compiles the spec's validators (~0.3 s): once per module.
    return create_app(tokens=TOKENS)


@pytest.fixture
def app(shared_app: SandboxApp) -> Iterator[SandboxApp]:
    """The module's app with an empty store and nothing recorded, for each test."""
    shared_app.store = Store(":memory:")
    shared_app.activity = ActivityLog()
    shared_app.merchant_faults.clear()
    shared_app.dashboard_sessions.clear()
    yield shared_app
    while _clients:
        _clients.pop().close()
    shared_app.store.close()


def client(app: SandboxApp) -> Client:
    made = Client(app)
    _clients.append(made)
    return made


def event(
    key: str,
    customer: str = "cus_a",
    minutes: float = 0,
    merchant: str = MERCHANT_ID,
    **properties: Any,
) -> dict[str, Any]:
    props = [
        {"billableMetricId": m, "quantity": q} for m, q in (properties or {"bm_calls": 1}).items()
    ]
    return {
        "idempotencyKey": key,
        "customerId": customer,
        "merchantId": merchant,
        "timestamp": (START + datetime.timedelta(minutes=minutes)).isoformat(),
        "properties": props,
    }


def post(app: SandboxApp, body: dict[str, Any], token: str = TOKEN, path: str = "/v0/usage") -> Any:
    response = client(app).post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 201, 207), response.text
    return response.json()


def signed_in(app: SandboxApp, token: str = TOKEN) -> Client:
    browser = client(app)
    response = browser.post("/_sandbox/login", data={"token": token})
    assert response.status_code == 303, response.text
    return browser


def test_the_home_page_asks_for_a_token_and_shows_no_data(app: SandboxApp) -> None:
    post(app, event("k1", customer="cus_secret"))
    page = client(app).get("/_sandbox/")
    assert page.status_code == 200
    assert '<input id="token" name="token"' in page.text
    assert "cus_secret" not in page.text
    for path in ("/_sandbox/events", "/_sandbox/usage", "/_sandbox/activity"):
        response = client(app).get(path)
        assert (response.status_code, response.headers["location"]) == (303, "/_sandbox/")


def test_a_wrong_token_is_refused_with_no_cookie(app: SandboxApp) -> None:
    browser = client(app)
    response = browser.post("/_sandbox/login", data={"token": "not-a-token"})
    assert response.status_code == 401
    assert "That token is not one of this sandbox&#x27;s tokens." in response.text
    assert "set-cookie" not in response.headers
    assert "not-a-token" not in response.text  # never echoed
    assert browser.get("/_sandbox/events").status_code == 303


def test_signing_in_sets_an_httponly_samesite_strict_session_cookie(app: SandboxApp) -> None:
    response = client(app).post("/_sandbox/login", data={"token": TOKEN})
    assert (response.status_code, response.headers["location"]) == (303, "/_sandbox/events")
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path"} <= attributes
    assert "samesite=strict" in cookie.lower()
    assert "path=/_sandbox" in cookie.lower()
    assert TOKEN not in cookie  # a random session id, not the token


def test_signing_out_ends_the_session(app: SandboxApp) -> None:
    browser = signed_in(app)
    assert browser.get("/_sandbox/events").status_code == 200
    assert browser.post("/_sandbox/logout").status_code == 303
    assert browser.get("/_sandbox/events").status_code == 303
    assert app.dashboard_sessions == {}


def test_pages_are_linked_and_send_a_policy_that_allows_no_script(app: SandboxApp) -> None:
    browser = signed_in(app)
    for path in ("/_sandbox/events", "/_sandbox/usage", "/_sandbox/activity"):
        page = browser.get(path)
        assert page.status_code == 200
        assert '<a href="/_sandbox/events"' in page.text
        assert '<a href="/_sandbox/usage"' in page.text
        assert "script-src" not in page.headers["content-security-policy"]
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert "<script" not in page.text


def test_events_show_the_signed_in_merchants_only(app: SandboxApp) -> None:
    post(app, event("mine", customer="cus_mine"))
    post(app, event("theirs", customer="cus_theirs", merchant=OTHER_MERCHANT_ID), OTHER_TOKEN)
    mine = signed_in(app).get("/_sandbox/events").text
    theirs = signed_in(app, OTHER_TOKEN).get("/_sandbox/events").text
    assert "cus_mine" in mine and "cus_theirs" not in mine
    assert "cus_theirs" in theirs and "cus_mine" not in theirs


def _customers_in_order(page: str) -> list[str]:
    return re.findall(r"<td>(cus_[a-z0-9]+)</td>", page)


def test_events_are_newest_first_filtered_and_paginated(app: SandboxApp) -> None:
    batch = [event(f"k{i}", customer=f"cus_{i % 2}", minutes=i) for i in range(30)]
    batch.append(event("gpu", customer="cus_gpu", minutes=31, bm_gpu_hours=2))
    post(app, {"events": batch}, path="/v0/usage/batch")
    browser = signed_in(app)

    first = browser.get("/_sandbox/events").text
    assert "page 1 of 2 · 31 events" in first
    assert _customers_in_order(first)[:3] == ["cus_gpu", "cus_1", "cus_0"]
    second = browser.get("/_sandbox/events?page=2").text
    assert len(_customers_in_order(second)) == 31 - 25
    assert "k0</code>" in second and "k0</code>" not in first

    by_customer = browser.get("/_sandbox/events?customer=cus_1").text
    assert set(_customers_in_order(by_customer)) == {"cus_1"}
    assert "15 events" in by_customer
    by_metric = browser.get("/_sandbox/events?metric=bm_gpu_hours").text
    assert _customers_in_order(by_metric) == ["cus_gpu"]
    by_key = browser.get("/_sandbox/events?key=k7").text
    assert "k7</code>" in by_key and "1 events" in by_key
    window = "from=2026-03-01T12:10&to=2026-03-01T12:12:00Z"  # a browser's value and RFC 3339
    assert "3 events" in browser.get(f"/_sandbox/events?{window}").text
    bad = browser.get("/_sandbox/events?from=yesterday").text
    assert "is not an RFC 3339 date-time" in bad


def test_refunded_and_disputed_events_are_marked(app: SandboxApp) -> None:
    created = post(app, event("refund-me", customer="cus_refunded"))
    refund = client(app).patch(
        f"/v0/usage/{created['id']}",
        json={"refunded": True, "reason": "duplicate"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert refund.status_code == 200
    # The API has no operation that opens a dispute: one is stored directly.
    disputed = {
        "id": "usg_disputed1",
        "customerId": "cus_disputed",
        "timestamp": "2026-03-01T13:00:00Z",
        "idempotencyKey": "disputed",
        "properties": [{"billableMetricId": "bm_calls", "quantity": 1}],
        "dispute": {"id": "dis_1", "status": "pending"},
    }
    app.store.insert_many(
        [
            NewEvent(
                "usg_disputed1",
                MERCHANT_ID,
                "disputed",
                "cus_disputed",
                "sub_1",
                "org_c",
                1772370000000000,
                json.dumps(disputed),
            )
        ]
    )
    post(app, event("plain", customer="cus_plain"))
    page = signed_in(app).get("/_sandbox/events").text
    rows = {
        customer: row
        for row in page.split("<tr>")
        for customer in re.findall(r"<td>(cus_\w+)</td>", row)
    }
    assert 'class="badge refunded" title="duplicate">refunded' in rows["cus_refunded"]
    assert 'class="badge disputed" title="pending">disputed' in rows["cus_disputed"]
    assert "badge" not in rows["cus_plain"]


def _points(page: str) -> list[dict[str, str]]:
    return [
        dict(re.findall(r'data-([a-z-]+)="([^"]*)"', circle))
        for circle in re.findall(r'<circle class="point"[^>]*>', page)
    ]


def test_the_usage_chart_sums_each_series_per_bucket(app: SandboxApp) -> None:
    # Three hours of usage: 10-minute buckets (18 of them fit in MAX_BUCKETS).
    quantities = {0: 3, 4: 2, 65: 7, 130: 1.5, 179: 4}
    batch = [event(f"a{m}", minutes=m, bm_tokens=q) for m, q in quantities.items()]
    batch.append(event("b", customer="cus_b", minutes=5, bm_tokens=10, bm_calls=1))
    post(app, {"events": batch}, path="/v0/usage/batch")
    refunded = post(app, event("gone", minutes=1, bm_tokens=100))
    client(app).patch(
        f"/v0/usage/{refunded['id']}",
        json={"refunded": True},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    page = signed_in(app).get("/_sandbox/usage").text
    assert 'data-bucket-us="600000000"' in page
    points = {(p["metric"], p["customer"], p["bucket-start"]): p["quantity"] for p in _points(page)}
    assert points == {
        (
            "bm_tokens",
            "cus_a",
            "2026-03-01T12:00:00Z",
        ): "5",  # 3 + 2; the refunded 100 does not count
        ("bm_tokens", "cus_a", "2026-03-01T13:00:00Z"): "7",
        ("bm_tokens", "cus_a", "2026-03-01T14:10:00Z"): "1.5",
        ("bm_tokens", "cus_a", "2026-03-01T14:50:00Z"): "4",
        ("bm_tokens", "cus_b", "2026-03-01T12:00:00Z"): "10",
        ("bm_calls", "cus_b", "2026-03-01T12:00:00Z"): "1",
    }
    only_calls = _points(signed_in(app).get("/_sandbox/usage?metric=bm_calls").text)
    assert [(p["metric"], p["quantity"]) for p in only_calls] == [("bm_calls", "1")]


def test_activity_shows_batch_failures_replays_conflicts_and_faults(app: SandboxApp) -> None:
    good, bad = event("fine"), event("too-small", bm_calls=0)
    post(app, {"events": [good, bad]}, path="/v0/usage/batch")
    post(app, event("fine"))  # the same event again: a replay
    post(app, event("fine", customer="cus_other"))  # the key again, another customer: a conflict
    response = client(app).put(
        "/_sandbox/api/faults",
        json={"faults": "503=0.25"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200
    page = signed_in(app).get("/_sandbox/activity").text
    assert "[1] <code>too-small</code>: " in page
    assert "quantity" in page.split("[1] <code>too-small</code>: ")[1].split("</td>")[0]
    assert page.count('class="badge same">replay') == 1
    assert 'class="badge conflict">conflict</span> differs in customerId' in page
    assert "this merchant&#x27;s requests (set by a test)" in page and "503=0.25" in page
    other = signed_in(app, OTHER_TOKEN).get("/_sandbox/activity").text
    assert "too-small" not in other and "No fault injection is in force." in other


def test_customer_data_is_escaped_on_every_page(app: SandboxApp) -> None:
    hostile = event(XSS, customer=XSS)
    hostile["properties"] = [{"billableMetricId": XSS, "quantity": 2}]
    post(app, {"events": [hostile, {**hostile, "customerId": 5}]}, path="/v0/usage/batch")
    post(app, {**hostile, "customerId": XSS + "2"})  # a conflict, shown on the activity page
    browser = signed_in(app)
    for path in (
        "/_sandbox/events",
        "/_sandbox/usage",
        "/_sandbox/activity",
        "/_sandbox/events?customer=" + XSS,
        "/_sandbox/" + XSS,
    ):
        page = browser.get(path).text
        assert "<script" not in page and "<img" not in page, path
    events_page = browser.get("/_sandbox/events").text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in events_page
    assert "&lt;img src=x onerror=alert(1)&gt;" in events_page
