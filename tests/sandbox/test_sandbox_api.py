"""The sandbox's semantics, through HTTP against a running instance."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from paygentic_sandbox.config import MAX_BODY_BYTES
from paygentic_sandbox.process import SandboxProcess
from support.sandbox_fixture import AUTH, MERCHANT_ID, OTHER_AUTH, OTHER_MERCHANT_ID
from support.spec_conformance import assert_conforms
from support.spec_support import optional_fields

ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=AUTH, timeout=30) as http:
        yield http


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:16]}"


def event(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotencyKey": unique("key_"),
        "customerId": unique("cus_"),
        "merchantId": MERCHANT_ID,
        "timestamp": "2024-01-15T10:30:00Z",
        "properties": [{"billableMetricId": "bm_calls", "quantity": 3}],
    }
    body.update(changes)
    return body


def create(client: httpx.Client, body: Any) -> httpx.Response:
    return client.post("/v0/usage", json=body)


def test_the_packaged_spec_is_the_root_spec() -> None:
    packaged = ROOT / "sandbox" / "paygentic_sandbox" / "openapi.yaml"
    assert packaged.read_bytes() == (ROOT / "openapi.yaml").read_bytes()


# Create and idempotency -------------------------------------------------------------


def test_create_returns_the_new_event_without_empty_optionals(client: httpx.Client) -> None:
    body = event(metadata={"model": "m1"}, entitlementId="com_abc1")
    response = create(client, body)
    assert response.status_code == 201
    created = assert_conforms(response)
    assert created["id"].startswith("usg_")
    assert created["object"] == "usageEvent"
    assert created["subscriptionId"].startswith("sub_")
    assert created["consumerId"].startswith("org_")
    assert created["metadata"] == {"model": "m1"}
    assert created["entitlementId"] == "com_abc1"
    assert created["properties"] == [{"billableMetricId": "bm_calls", "quantity": 3}]
    # The optional fields with a value: those the request sent, and the consumer the server
    # sets; every other optional field of the spec is left out.
    shown = set(created) & set(optional_fields("UsageEvent"))
    assert shown == (set(body) | {"consumerId"}) & set(optional_fields("UsageEvent"))
    assert {"billing", "refund", "dispute"}.isdisjoint(created)
    assert "Idempotent-Replayed" not in response.headers


def test_a_repeated_key_returns_the_first_event_even_with_another_body(
    client: httpx.Client,
) -> None:
    body = event()
    first = create(client, body)
    again = create(client, body)
    changed = create(client, {**body, "properties": [{"billableMetricId": "x", "quantity": 9}]})
    for response in (again, changed):
        assert response.status_code == 201
        assert response.headers["Idempotent-Replayed"] == "true"
        assert assert_conforms(response) == first.json()


def test_idempotency_keys_belong_to_one_merchant(client: httpx.Client) -> None:
    key = unique("key_")
    mine = create(client, event(idempotencyKey=key))
    theirs = client.post(
        "/v0/usage",
        json=event(idempotencyKey=key, merchantId=OTHER_MERCHANT_ID),
        headers=OTHER_AUTH,
    )
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]


def test_subscription_and_consumer_are_stable_per_customer(client: httpx.Client) -> None:
    customer = unique("cus_")
    a = create(client, event(customerId=customer)).json()
    b = create(client, event(customerId=customer)).json()
    c = create(client, event()).json()
    assert (a["subscriptionId"], a["consumerId"]) == (b["subscriptionId"], b["consumerId"])
    assert a["subscriptionId"] != c["subscriptionId"]
    assert a["consumerId"] != c["consumerId"]


def test_timestamps_are_returned_in_utc(client: httpx.Client) -> None:
    created = create(client, event(timestamp="2024-01-15T12:30:00.250+02:00")).json()
    assert created["timestamp"] == "2024-01-15T10:30:00.25Z"
    assert created["createdAt"].endswith("Z")


def test_fifty_parallel_creates_with_one_key_make_one_event(
    sandbox: SandboxProcess, client: httpx.Client
) -> None:
    body = event()

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=sandbox.url, headers=AUTH, timeout=30) as own:
            return own.post("/v0/usage", json=body)

    with ThreadPoolExecutor(50) as pool:
        responses = list(pool.map(send, range(50)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in responses) == 1
    page = list_events(client, customerId=body["customerId"]).json()
    assert page["pagination"]["total"] == 1


# Billing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("properties", "price"),
    [
        (
            [
                {"billableMetricId": "in", "quantity": 1500, "price": "0.000003"},
                {"billableMetricId": "out", "quantity": 800, "price": "0.000015"},
            ],
            16_500_000,
        ),
        ([{"billableMetricId": "gpu", "quantity": 2.5, "price": "0.125"}], 312_500_000),
        ([{"billableMetricId": "ts", "quantity": 6787.65, "price": "0.01"}], 67_876_500_000),
        # Half-even rounding of half an atomic unit: 0.5 → 0, 1.5 → 2.
        ([{"billableMetricId": "t", "quantity": 5, "price": "0.0000000001"}], 0),
        ([{"billableMetricId": "t", "quantity": 15, "price": "0.0000000001"}], 2),
        ([{"billableMetricId": "t", "quantity": 1e300, "price": "2"}], 2 * 10**309),
    ],
)
def test_priced_events_are_billed_exactly(
    client: httpx.Client, properties: list[dict[str, Any]], price: int
) -> None:
    response = create(client, event(properties=properties))
    billing = assert_conforms(response)["billing"]
    assert billing["price"] == price
    assert billing["totalAmount"] == price
    assert billing["totalTax"] == 0
    assert billing["currency"] == "USD"
    assert "invoiceId" not in billing
    assert billing["billingEventId"].startswith("bev_")


@pytest.mark.parametrize(
    "properties",
    [
        [],
        [
            {"billableMetricId": "a", "quantity": 1, "price": "1"},
            {"billableMetricId": "b", "quantity": 1},
        ],
    ],
)
def test_events_not_fully_priced_are_not_billed(
    client: httpx.Client, properties: list[dict[str, Any]]
) -> None:
    assert "billing" not in assert_conforms(create(client, event(properties=properties)))


def test_a_fractional_quantity_is_kept(client: httpx.Client) -> None:
    created = create(client, event(properties=[{"billableMetricId": "g", "quantity": 2.5}])).json()
    assert created["properties"][0]["quantity"] == 2.5


# Batch --------------------------------------------------------------------------------


def batch(client: httpx.Client, events: Any) -> httpx.Response:
    return client.post("/v0/usage/batch", json={"events": events})


def test_a_good_batch_is_201_and_keeps_the_order(client: httpx.Client) -> None:
    events = [event() for _ in range(5)]
    response = batch(client, events)
    assert response.status_code == 201
    body = assert_conforms(response)
    assert [e["idempotencyKey"] for e in body["successful"]] == [
        e["idempotencyKey"] for e in events
    ]
    assert body["failed"] == []
    assert body["summary"] == {"total": 5, "successful": 5, "failed": 0}


def test_bad_events_go_to_failed_and_do_not_stop_the_others(client: httpx.Client) -> None:
    good = [event() for _ in range(3)]
    bad_quantity = event(properties=[{"billableMetricId": "m", "quantity": 0}])
    foreign = event(merchantId=OTHER_MERCHANT_ID)
    events = [good[0], bad_quantity, good[1], 42, foreign, {"idempotencyKey": 7}, good[2]]
    response = batch(client, events)
    assert response.status_code == 207
    body = assert_conforms(response)
    assert [e["idempotencyKey"] for e in body["successful"]] == [e["idempotencyKey"] for e in good]
    failed = {f["index"]: f for f in body["failed"]}
    assert sorted(failed) == [1, 3, 4, 5]
    assert failed[1]["idempotencyKey"] == bad_quantity["idempotencyKey"]
    assert failed[1]["error"].startswith("properties[0].quantity:")
    assert failed[3]["idempotencyKey"] == ""  # no readable key: production wants a string
    assert "merchantId" in failed[4]["error"]
    assert failed[5]["idempotencyKey"] == ""
    assert body["summary"] == {"total": 7, "successful": 3, "failed": 4}


def test_one_key_twice_in_a_batch_is_one_event(client: httpx.Client) -> None:
    first = event()
    body = assert_conforms(batch(client, [first, {**first, "customerId": "cus_other"}, event()]))
    ids = [e["id"] for e in body["successful"]]
    assert ids[0] == ids[1] != ids[2]
    assert body["successful"][1]["customerId"] == first["customerId"]
    again = assert_conforms(create(client, first))
    assert again["id"] == ids[0]


def test_a_batch_returns_stored_events_for_used_keys_among_new_ones(
    client: httpx.Client,
) -> None:
    stored = assert_conforms(create(client, event()))
    repeat = {**event(), "idempotencyKey": stored["idempotencyKey"]}
    new = event()
    body = assert_conforms(batch(client, [new, repeat, repeat, new]))
    ids = [e["id"] for e in body["successful"]]
    assert ids[1] == ids[2] == stored["id"]
    assert ids[0] == ids[3] != stored["id"]
    assert body["successful"][1] == stored
    assert body["summary"] == {"total": 4, "successful": 4, "failed": 0}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "body"),
        ({}, "events"),
        ({"events": []}, "events"),
        ({"events": "x"}, "events"),
        ({"events": [{}] * 1001}, "events"),
        ({"events": [{}], "extra": 1}, "extra"),
    ],
)
def test_a_malformed_batch_is_a_400_validation_error(
    client: httpx.Client, payload: Any, field: str
) -> None:
    response = client.post("/v0/usage/batch", json=payload)
    assert response.status_code == 400
    body = assert_conforms(response)
    assert body["error"] == "validation_error"
    assert field in [e["field"] for e in body["errors"]]


def test_validation_errors_point_at_the_exact_field(client: httpx.Client) -> None:
    body = event(properties=[{"billableMetricId": "a", "quantity": 1}, {"quantity": 0}])
    del body["customerId"]
    body["surprise"] = True
    response = create(client, body)
    assert response.status_code == 400
    errors = {e["field"]: e["code"] for e in assert_conforms(response)["errors"]}
    assert errors == {
        "customerId": "required",
        "surprise": "additionalProperties",
        "properties[1].billableMetricId": "required",
        "properties[1].quantity": "minimum",
    }


# Get, refund ---------------------------------------------------------------------------


def test_get_returns_the_event_and_hides_other_merchants_events(client: httpx.Client) -> None:
    created = create(client, event()).json()
    fetched = client.get(f"/v0/usage/{created['id']}")
    assert assert_conforms(fetched) == created
    hidden = client.get(f"/v0/usage/{created['id']}", headers=OTHER_AUTH)
    unknown = client.get("/v0/usage/usg_doesnotexist")
    for response in (hidden, unknown):
        assert response.status_code == 404
        assert assert_conforms(response)["error"] == "not_found"


@pytest.mark.parametrize("bad_id", ["nope", "usg_", "usg_a-b", "usg_%00", "usg_x%0A"])
def test_an_id_against_the_pattern_is_a_400(client: httpx.Client, bad_id: str) -> None:
    response = client.get(f"/v0/usage/{bad_id}")
    assert response.status_code == 400
    assert assert_conforms(response)["errors"][0]["field"] == "id"


def test_refund_once_then_422(client: httpx.Client) -> None:
    created = create(
        client, event(properties=[{"billableMetricId": "a", "quantity": 2, "price": "1"}])
    )
    url = f"/v0/usage/{created.json()['id']}"
    refunded = client.patch(url, json={"refunded": True, "reason": "failed generation"})
    assert refunded.status_code == 200
    body = assert_conforms(refunded)
    assert body["refund"]["reason"] == "failed generation"
    assert body["billing"] == created.json()["billing"]
    assert assert_conforms(client.get(url))["refund"] == body["refund"]
    again = client.patch(url, json={"refunded": True})
    assert again.status_code == 422
    assert assert_conforms(again)["message"].endswith("is already refunded.")


def test_refund_without_reason_has_no_reason(client: httpx.Client) -> None:
    created = create(client, event()).json()
    body = assert_conforms(client.patch(f"/v0/usage/{created['id']}", json={"refunded": True}))
    assert "reason" not in body["refund"]


@pytest.mark.parametrize("payload", [{"refunded": False}, {}, {"refunded": True, "x": 1}])
def test_a_bad_refund_body_is_a_400(client: httpx.Client, payload: Any) -> None:
    created = create(client, event()).json()
    response = client.patch(f"/v0/usage/{created['id']}", json=payload)
    assert response.status_code == 400
    assert assert_conforms(response)["error"] == "validation_error"
    assert "refund" not in client.get(f"/v0/usage/{created['id']}").json()


def test_refunding_an_unknown_or_foreign_event_is_a_404(client: httpx.Client) -> None:
    created = create(client, event()).json()
    for response in (
        client.patch("/v0/usage/usg_unknown", json={"refunded": True}),
        client.patch(f"/v0/usage/{created['id']}", json={"refunded": True}, headers=OTHER_AUTH),
    ):
        assert response.status_code == 404
        assert_conforms(response)


# List -----------------------------------------------------------------------------------


def list_events(client: httpx.Client, **params: Any) -> httpx.Response:
    params.setdefault("startTime", "2024-01-01T00:00:00Z")
    params.setdefault("endTime", "2024-12-31T23:59:59Z")
    return client.get("/v0/usage", params=params)


def test_list_bounds_are_inclusive_and_compared_in_utc(client: httpx.Client) -> None:
    customer = unique("cus_")
    times = ["2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z", "2024-03-01T12:00:00Z"]
    for t in times:
        create(client, event(customerId=customer, timestamp=t))
    page = list_events(
        client,
        customerId=customer,
        startTime="2024-03-01T12:00:00+01:00",  # 11:00 UTC
        endTime="2024-03-01T12:00:00Z",
    )
    body = assert_conforms(page)
    assert [e["timestamp"] for e in body["data"]] == times[1:]
    assert body["pagination"] == {"limit": 10, "offset": 0, "total": 2}


def test_paging_returns_every_event_once_in_a_stable_order(client: httpx.Client) -> None:
    customer = unique("cus_")
    # Several events share a timestamp: the order falls back to the id.
    events = [
        event(customerId=customer, timestamp=f"2024-05-0{i % 3 + 1}T00:00:00Z") for i in range(23)
    ]
    batch(client, events)
    seen: list[dict[str, Any]] = []
    for offset in range(0, 30, 7):
        body = assert_conforms(list_events(client, customerId=customer, limit=7, offset=offset))
        assert body["pagination"]["total"] == 23
        seen += body["data"]
    assert len(seen) == 23
    assert len({e["id"] for e in seen}) == 23
    assert seen == sorted(seen, key=lambda e: (e["timestamp"], e["id"]))


def test_list_filters_combine(client: httpx.Client) -> None:
    customer = unique("cus_")
    created = create(client, event(customerId=customer)).json()
    create(client, event())
    for name in ("customerId", "subscriptionId", "consumerId"):
        body = assert_conforms(list_events(client, **{name: created[name]}))
        assert [e["id"] for e in body["data"]] == [created["id"]]
    body = assert_conforms(list_events(client, customerId=customer, subscriptionId="sub_other"))
    assert body["data"] == []
    mine = assert_conforms(list_events(client, merchantId=MERCHANT_ID, limit=100))
    assert all(e["merchantId"] == MERCHANT_ID for e in mine["data"])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {
                "customerId": "cus_1",
                "startTime": "2024-02-01T00:00:00Z",
                "endTime": "2024-01-01T00:00:00Z",
            },
            "startTime must not be after endTime.",
        ),
        ({}, "Give at least one of customerId, merchantId, consumerId, subscriptionId."),
    ],
)
def test_list_rules_are_400_errors(
    client: httpx.Client, params: dict[str, str], message: str
) -> None:
    response = list_events(client, **params)
    assert response.status_code == 400
    assert assert_conforms(response)["message"] == message


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("customerId=c&endTime=2024-01-01T00:00:00Z", "startTime"),
        ("customerId=c&startTime=2024-01-01T00:00:00Z", "endTime"),
        ("customerId=c&startTime=yesterday&endTime=2024-01-01T00:00:00Z", "startTime"),
        (
            "customerId=c&startTime=2024-01-01T00:00:00Z&endTime=2024-01-01T00:00:00Z&limit=0",
            "limit",
        ),
        (
            "customerId=c&startTime=2024-01-01T00:00:00Z&endTime=2024-01-01T00:00:00Z&limit=101",
            "limit",
        ),
        (
            "customerId=c&startTime=2024-01-01T00:00:00Z&endTime=2024-01-01T00:00:00Z&limit=abc",
            "limit",
        ),
        (
            "customerId=c&startTime=2024-01-01T00:00:00Z&endTime=2024-01-01T00:00:00Z&limit=1.5",
            "limit",
        ),
        (
            "customerId=c&startTime=2024-01-01T00:00:00Z&endTime=2024-01-01T00:00:00Z&offset=-1",
            "offset",
        ),
        ("customerId=&startTime=2024-01-01T00:00:00Z&endTime=2024-01-01T00:00:00Z", "customerId"),
        (
            "customerId=a&customerId=b&startTime=2024-01-01T00:00:00Z&endTime=2024-01-02T00:00:00Z",
            "customerId",
        ),
    ],
)
def test_bad_query_parameters_are_validation_errors(
    client: httpx.Client, query: str, field: str
) -> None:
    response = client.get("/v0/usage?" + query)
    assert response.status_code == 400
    assert field in [e["field"] for e in assert_conforms(response)["errors"]]


def test_a_huge_offset_is_an_empty_page(client: httpx.Client) -> None:
    body = assert_conforms(list_events(client, customerId="c", offset=10**40))
    assert body["data"] == []


def test_listing_another_merchant_is_403(client: httpx.Client) -> None:
    response = list_events(client, merchantId=OTHER_MERCHANT_ID)
    assert response.status_code == 403
    assert assert_conforms(response)["error"] == "forbidden"


# Auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic abc", "Bearer"])
def test_a_missing_or_unknown_token_is_401(sandbox: SandboxProcess, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.post(sandbox.url + "/v0/usage", json=event(), headers=headers)
    assert response.status_code == 401
    assert assert_conforms(response)["error"] == "unauthorized"


def test_creating_for_another_merchant_is_403(client: httpx.Client) -> None:
    response = create(client, event(merchantId=OTHER_MERCHANT_ID))
    assert response.status_code == 403
    assert assert_conforms(response)["details"] == {"merchantId": OTHER_MERCHANT_ID}


# Bad input of every kind -------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"{",
        b"",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b"\xff\xfe",
        b'{"quantity": 1' + b"0" * 5000 + b"}",
    ],
)
def test_malformed_json_is_a_400_error(client: httpx.Client, content: bytes) -> None:
    response = client.post("/v0/usage", content=content, headers=JSON)
    assert response.status_code == 400
    assert assert_conforms(response)["message"] == "The request body is not valid JSON."


def test_a_lone_surrogate_is_a_400_error(client: httpx.Client) -> None:
    content = json.dumps(event(customerId="cus_\ud800")).encode("utf-8", "surrogatepass")
    content = content.replace(b"\xed\xa0\x80", b"\\ud800")
    response = client.post("/v0/usage", content=content, headers=JSON)
    assert response.status_code == 400
    assert_conforms(response)


def test_nul_bytes_and_unicode_survive(client: httpx.Client) -> None:
    body = event(customerId="cus_\x00é漢字🎉", metadata={"k\x00": "v\x00"})
    created = assert_conforms(create(client, body))
    assert created["customerId"] == body["customerId"]
    assert client.get(f"/v0/usage/{created['id']}").json()["metadata"] == {"k\x00": "v\x00"}


@pytest.mark.parametrize("quantity", ["1e400", "1.5e300", "1" + "0" * 999])
def test_huge_quantities_are_accepted(client: httpx.Client, quantity: str) -> None:
    content = json.dumps(event(properties=[{"billableMetricId": "q", "quantity": 1, "price": "1"}]))
    content = content.replace('"quantity": 1', '"quantity": ' + quantity)
    response = client.post("/v0/usage", content=content, headers=JSON)
    assert response.status_code == 201
    assert assert_conforms(response)["billing"]["price"] > 10**300


def test_an_absurd_quantity_is_a_400(client: httpx.Client) -> None:
    content = json.dumps(event()).replace('"quantity": 3', '"quantity": 1e999999999')
    response = client.post("/v0/usage", content=content, headers=JSON)
    assert response.status_code == 400
    assert assert_conforms(response)["errors"][0]["field"] == "properties[0].quantity"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml"])
def test_a_body_that_is_not_json_is_415(client: httpx.Client, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/v0/usage", content=json.dumps(event()), headers=headers)
    assert response.status_code == 415
    assert assert_conforms(response)["error"] == "unsupported_media_type"


def test_a_body_over_the_limit_is_413(client: httpx.Client) -> None:
    content = b'{"events": [' + b" " * MAX_BODY_BYTES + b"]}"
    response = client.post("/v0/usage/batch", content=content, headers=JSON)
    assert response.status_code == 413
    assert assert_conforms(response)["error"] == "payload_too_large"


def test_a_1000_event_batch_fits_the_limit(client: httpx.Client) -> None:
    events = [
        event(
            properties=[
                {"billableMetricId": f"bm_{i}", "quantity": 1.5, "price": "0.01"} for i in range(10)
            ],
            metadata={f"k{i}": "v" * 20 for i in range(10)},
        )
        for _ in range(1000)
    ]
    assert len(json.dumps({"events": events})) < MAX_BODY_BYTES / 5
    response = batch(client, events)
    assert response.status_code == 201
    assert response.json()["summary"]["successful"] == 1000


def test_an_unknown_path_is_a_404_error(client: httpx.Client) -> None:
    for path in ("/", "/v0", "/v1/usage", "/v0/usage/usg_1/x"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {
            "message": f"There is no resource at {path}.",
            "error": "not_found",
        }


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v0/usage", "GET, POST"),
        ("PUT", "/v0/usage", "GET, POST"),
        ("HEAD", "/v0/usage", "GET, POST"),
        ("GET", "/v0/usage/batch", "POST"),
        ("PATCH", "/v0/usage/batch", "POST"),
        ("POST", "/v0/usage/usg_1", "GET, PATCH"),
        ("DELETE", "/v0/usage/usg_1", "GET, PATCH"),
        ("OPTIONS", "/v0/usage/usg_1", "GET, PATCH"),
    ],
)
def test_a_wrong_method_is_405_with_allow(
    client: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
