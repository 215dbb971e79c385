"""Bad input at the sandbox's edges: nesting of any depth, instants outside the four-digit
years, quantities at the digit limit. Each is a 4xx with the documented error body, never a
500 or a traceback."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from paygentic_sandbox.money import MAX_QUANTITY_DIGITS
from paygentic_sandbox.process import SandboxProcess
from paygentic_sandbox.spec import MAX_NESTING_DEPTH
from support.sandbox_fixture import AUTH, MERCHANT_ID, TOKENS
from support.spec_conformance import assert_conforms

JSON = {**AUTH, "Content-Type": "application/json"}
# 255 is where the schema validator gave up, 1000 where the JSON parser does.
DEPTHS = [MAX_NESTING_DEPTH + 1, 255, 1000, 100_000]


def event(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotencyKey": f"key_{uuid.uuid4().hex}",
        "customerId": f"cus_{uuid.uuid4().hex[:16]}",
        "merchantId": MERCHANT_ID,
        "timestamp": "2024-01-15T10:30:00Z",
        "properties": [{"billableMetricId": "bm_calls", "quantity": 3}],
    }
    body.update(changes)
    return body


def with_raw(body: dict[str, Any], path: list[str | int], raw: str) -> str:
    """body as JSON text with the value at `path` replaced by the JSON text `raw`."""
    marker = "__raw_value__"
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = marker
    return json.dumps(body).replace(f'"{marker}"', raw)


def nested(depth: int, kind: str) -> str:
    if kind == "object":
        return '{"a":' * depth + '"x"' + "}" * depth
    return "[" * depth + '"x"' + "]" * depth


def deep_bodies(depth: int) -> list[tuple[str, str]]:
    """(path, body) for each shape: create with nested metadata, batch with an event holding
    nested objects or nested arrays."""
    return [
        ("/v0/usage", with_raw(event(metadata={}), ["metadata", "m"], nested(depth, "object"))),
        (
            "/v0/usage/batch",
            with_raw({"events": [event()]}, ["events", 0, "extra"], nested(depth, "object")),
        ),
        (
            "/v0/usage/batch",
            with_raw({"events": [event()]}, ["events", 0, "properties"], nested(depth, "array")),
        ),
    ]


@pytest.fixture(scope="module")
def logged_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox of this module's own, whose log the tests read."""
    directory = tmp_path_factory.mktemp("logged-sandbox")
    with SandboxProcess(
        db=directory / "sandbox.db", tokens=TOKENS, log=directory / "sandbox.log"
    ) as server:
        yield server


def log_of(server: SandboxProcess) -> Path:
    assert server.log is not None
    return Path(server.log)


@pytest.mark.parametrize("depth", DEPTHS)
def test_any_nesting_depth_is_a_400_with_one_log_line(
    logged_sandbox: SandboxProcess, depth: int
) -> None:
    log = log_of(logged_sandbox)
    for path, content in deep_bodies(depth):
        before = log.read_text()
        response = httpx.post(logged_sandbox.url + path, content=content, headers=JSON)
        assert response.status_code == 400, response.text[:300]
        assert assert_conforms(response)["message"]
        # The warning is written before the response is sent, so it is in the file now.
        written = log.read_text()[len(before) :]
        assert written.count("\n") == 1, written[:2000]
        assert "nested too deeply" in written


def test_a_lone_surrogate_deep_inside_a_body_is_a_400(logged_sandbox: SandboxProcess) -> None:
    deep = "[" * 900 + '"\\ud800"' + "]" * 900
    content = with_raw({"events": [event()]}, ["events", 0, "extra"], deep)
    response = httpx.post(logged_sandbox.url + "/v0/usage/batch", content=content, headers=JSON)
    assert response.status_code == 400
    assert "surrogate" in assert_conforms(response)["message"]


def test_moderate_nesting_is_still_a_field_error(logged_sandbox: SandboxProcess) -> None:
    content = with_raw(
        event(metadata={}), ["metadata", "m"], nested(MAX_NESTING_DEPTH - 2, "object")
    )
    response = httpx.post(logged_sandbox.url + "/v0/usage", content=content, headers=JSON)
    assert response.status_code == 400
    assert [e["field"] for e in assert_conforms(response)["errors"]] == ["metadata.m"]


# Instants -----------------------------------------------------------------------------

OUTSIDE = [
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:59:59.999999+01:00",
    "9999-12-31T23:59:59-01:00",
    "9999-12-31T23:59:60Z",
]
# (as sent, as answered): the extreme instants that are inside, from either side of UTC.
INSIDE = [
    ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ("0001-01-01T01:00:00+01:00", "0001-01-01T00:00:00Z"),
    ("0000-12-31T23:00:00-01:00", "0001-01-01T00:00:00Z"),
    ("9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"),
    ("9999-12-31T22:59:59-01:00", "9999-12-31T23:59:59Z"),
]


@pytest.fixture
def client(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=AUTH, timeout=30) as http:
        yield http


@pytest.mark.parametrize("timestamp", OUTSIDE)
def test_an_instant_outside_the_four_digit_years_in_utc_is_a_400(
    client: httpx.Client, timestamp: str
) -> None:
    created = client.post("/v0/usage", json=event(timestamp=timestamp))
    assert created.status_code == 400
    assert [e["field"] for e in assert_conforms(created)["errors"]] == ["timestamp"]
    batched = client.post("/v0/usage/batch", json={"events": [event(timestamp=timestamp)]})
    assert batched.status_code == 207
    assert assert_conforms(batched)["failed"][0]["error"].startswith("timestamp:")
    listed = client.get(
        "/v0/usage",
        params={"customerId": "c", "startTime": timestamp, "endTime": "2024-01-01T00:00:00Z"},
    )
    assert listed.status_code == 400
    assert [e["field"] for e in assert_conforms(listed)["errors"]] == ["startTime"]


@pytest.mark.parametrize(("sent", "answered"), INSIDE)
def test_the_extreme_instants_inside_are_answered_in_utc(
    client: httpx.Client, sent: str, answered: str
) -> None:
    created = assert_conforms(client.post("/v0/usage", json=event(timestamp=sent)))
    assert created["timestamp"] == answered
    fetched = assert_conforms(client.get(f"/v0/usage/{created['id']}"))
    assert fetched["timestamp"] == answered
    # What the issue saw fail: a client's datetime must hold every answered instant.
    assert datetime.datetime.fromisoformat(answered).tzinfo == datetime.UTC


# Quantities -----------------------------------------------------------------------------


def digits(count: int) -> str:
    return "9" * count


@pytest.mark.parametrize(
    ("quantity", "accepted"),
    [
        (digits(MAX_QUANTITY_DIGITS), True),
        ("1" + "0" * (MAX_QUANTITY_DIGITS - 1), True),
        (digits(MAX_QUANTITY_DIGITS + 1), False),
        ("1" + "0" * MAX_QUANTITY_DIGITS, False),
        (digits(1204), False),
        (f"1e{MAX_QUANTITY_DIGITS - 1}", True),
        (f"1e{MAX_QUANTITY_DIGITS}", False),
        (f"1.{digits(MAX_QUANTITY_DIGITS - 1)}", True),
        (f"1.{digits(MAX_QUANTITY_DIGITS)}", False),
        (f"1.{digits(MAX_QUANTITY_DIGITS - 1)}{'0' * 50}", True),  # trailing zeros: no digits
        (f"{digits(MAX_QUANTITY_DIGITS)}.0", True),
    ],
)
def test_the_quantity_digit_limit_is_exact(
    client: httpx.Client, quantity: str, accepted: bool
) -> None:
    priced = [{"billableMetricId": "q", "quantity": 1, "price": "1"}]
    content = with_raw(event(properties=priced), ["properties", 0, "quantity"], quantity)
    response = client.post(
        "/v0/usage", content=content, headers={"Content-Type": "application/json"}
    )
    body = assert_conforms(response)
    if accepted:
        assert response.status_code == 201
        assert body["billing"]["price"] >= 10**9
    else:
        assert response.status_code == 400
        assert body["errors"][0]["field"] == "properties[0].quantity"
        assert str(MAX_QUANTITY_DIGITS) in body["errors"][0]["message"]
