"""The dashboard in a real headless Chromium (support/chromium.py) against a sandbox process
(the plugin's `paygentic_sandbox`): sign in, see the events created through the API, the
chart's points are the stored quantities, another merchant's token sees none of them, and a
wrong token is refused."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from paygentic_sandbox.testing import Sandbox, SandboxServer
from playwright.sync_api import Browser, Page, expect
from support.chromium import chromium

__all__ = ["chromium"]  # the fixture, taken by name

START = datetime.datetime(2026, 2, 2, 9, 0, tzinfo=datetime.UTC)
HOSTILE = "<img src=x onerror=\"document.title='pwned'\">"


def record(sandbox: Sandbox, events: list[dict[str, Any]]) -> None:
    body = {"events": [{**event, "merchantId": sandbox.merchant_id} for event in events]}
    response = httpx.post(
        sandbox.url + "/v0/usage/batch",
        json=body,
        headers={"Authorization": f"Bearer {sandbox.token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text


def usage(key: str, customer: str, minutes: int, **quantities: float) -> dict[str, Any]:
    return {
        "idempotencyKey": key,
        "customerId": customer,
        "timestamp": (START + datetime.timedelta(minutes=minutes)).isoformat(),
        "properties": [{"billableMetricId": m, "quantity": q} for m, q in quantities.items()],
    }


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context()  # a fresh profile: no cookie
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def sign_in(page: Page, sandbox: Sandbox, token: str) -> None:
    page.goto(sandbox.dashboard_url)
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_signing_in_shows_the_events_created_through_the_api(
    page: Page, paygentic_sandbox: Sandbox
) -> None:
    record(
        paygentic_sandbox,
        [
            usage("b1", "cus_alpha", 0, bm_tokens=120),
            usage("b2", "cus_beta", 5, bm_tokens=30, bm_calls=1),
            usage("b3", "cus_alpha", 9, bm_calls=2),
        ],
    )
    sign_in(page, paygentic_sandbox, paygentic_sandbox.token)
    expect(page).to_have_url(paygentic_sandbox.url + "/_sandbox/events")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(3)
    # Newest first.
    expect(rows.nth(0)).to_contain_text("b3")
    expect(rows.nth(2)).to_contain_text("b1")
    expect(rows.nth(1)).to_contain_text("bm_tokens × 30")
    (cookie,) = page.context.cookies()
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/_sandbox")
    assert cookie["value"] != paygentic_sandbox.token

    page.get_by_label("Customer").fill("cus_beta")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("cus_beta")


def test_the_charts_points_are_the_stored_quantities(
    page: Page, paygentic_sandbox: Sandbox
) -> None:
    # Two hours: 10-minute buckets; two events share the first bucket of cus_alpha.
    record(
        paygentic_sandbox,
        [
            usage("u1", "cus_alpha", 0, bm_tokens=100),
            usage("u2", "cus_alpha", 3, bm_tokens=50.5),
            usage("u3", "cus_alpha", 61, bm_tokens=20),
            usage("u4", "cus_beta", 30, bm_tokens=7, bm_calls=3),
            usage("u5", "cus_beta", 119, bm_calls=1),
        ],
    )
    sign_in(page, paygentic_sandbox, paygentic_sandbox.token)
    page.get_by_role("link", name="Usage").click()
    expect(page).to_have_url(paygentic_sandbox.url + "/_sandbox/usage")
    # One chart per billable metric, on the same buckets.
    charts = page.locator("svg.usage-chart")
    expect(charts).to_have_count(2)
    bucket_us = int(charts.first.get_attribute("data-bucket-us") or "0")
    shown = {
        (p["metric"], p["customer"], p["bucket"]): Decimal(p["quantity"])
        for p in page.locator("circle.point").evaluate_all(
            "points => points.map(p => ({metric: p.dataset.metric, customer: p.dataset.customer,"
            " bucket: p.dataset.bucketStart, quantity: p.dataset.quantity}))"
        )
    }
    # The same sums from what the sandbox stored (read through the plugin, not the page).
    stored: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for event in paygentic_sandbox.events():
        at = datetime.datetime.fromisoformat(event["timestamp"])
        micros = int(at.timestamp()) * 1_000_000
        start = datetime.datetime.fromtimestamp((micros - micros % bucket_us) / 1e6, datetime.UTC)
        bucket = start.strftime("%Y-%m-%dT%H:%M:%SZ")
        for prop in event["properties"]:
            stored[(prop["billableMetricId"], event["customerId"], bucket)] += Decimal(
                str(prop["quantity"])
            )
    assert bucket_us == 600_000_000
    assert shown == stored
    assert shown[("bm_tokens", "cus_alpha", "2026-02-02T09:00:00Z")] == Decimal("150.5")
    # Drawn where they belong: a larger quantity is higher on its chart (a smaller y).
    heights = {
        point.get_attribute("data-quantity"): float(point.get_attribute("cy") or 0)
        for point in page.locator('circle.point[data-metric="bm_tokens"]').all()
    }
    assert heights["150.5"] < heights["20"] < heights["7"]


def test_another_merchants_token_sees_none_of_them(
    page: Page, paygentic_sandbox: Sandbox, paygentic_sandbox_server: SandboxServer
) -> None:
    record(paygentic_sandbox, [usage("mine", "cus_private", 0, bm_tokens=5)])
    other = paygentic_sandbox_server.new_merchant()
    sign_in(page, other, other.token)
    expect(page.get_by_text("No events yet.")).to_be_visible()
    assert "cus_private" not in page.content()
    page.get_by_role("link", name="Usage").click()
    expect(page.get_by_text("No usage yet.")).to_be_visible()
    assert page.locator("circle.point").count() == 0
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_text("No batch yet.")).to_be_visible()


def test_a_wrong_token_is_refused(page: Page, paygentic_sandbox: Sandbox) -> None:
    record(paygentic_sandbox, [usage("mine", "cus_private", 0, bm_tokens=5)])
    sign_in(page, paygentic_sandbox, paygentic_sandbox.token + "x")
    expect(page.get_by_role("alert")).to_have_text(
        "That token is not one of this sandbox's tokens."
    )
    assert page.context.cookies() == []
    page.goto(paygentic_sandbox.url + "/_sandbox/events")
    expect(page).to_have_url(paygentic_sandbox.url + "/_sandbox/")
    assert "cus_private" not in page.content()


def test_customer_data_is_shown_as_text_never_run(page: Page, paygentic_sandbox: Sandbox) -> None:
    record(paygentic_sandbox, [usage(HOSTILE, HOSTILE, 0, bm_tokens=5)])
    sign_in(page, paygentic_sandbox, paygentic_sandbox.token)
    expect(page.locator("tbody tr").first).to_contain_text(HOSTILE)
    for name in ("Usage", "Activity", "Events"):
        page.get_by_role("link", name=name).click()
        assert page.title() != "pwned"
        assert page.locator("main img").count() == 0
