"""The two response shapes of the sandbox: by default an optional field without a value is
absent and an Error has no `code` outside production's closed list (what the official
TypeScript SDK accepts); with `--null-optionals` such a field is `null`, as production's
published examples, and the spec's, show it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from paygentic_sandbox.config import MAX_BODY_BYTES
from paygentic_sandbox.process import SandboxProcess
from paygentic_sandbox.store import NewEvent, Store
from support.sandbox_fixture import AUTH, MERCHANT_ID, TOKEN, SandboxFactory
from support.spec_conformance import assert_conforms
from support.spec_support import SPEC, optional_fields, resolve
from support.strict_contract import assert_strict, strict_violations

# The merchant of the spec's examples, so that the examples' bodies can be sent as they are.
EXAMPLE_MERCHANT = "org_abc123xyz"
EXAMPLE_AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def null_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    db = tmp_path_factory.mktemp("null-sandbox") / "sandbox.db"
    with SandboxProcess(db=db, tokens={TOKEN: EXAMPLE_MERCHANT}, null_optionals=True) as server:
        yield server


def event(merchant_id: str = MERCHANT_ID, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotencyKey": f"key_{uuid.uuid4().hex}",
        "customerId": f"cus_{uuid.uuid4().hex[:16]}",
        "merchantId": merchant_id,
        "timestamp": "2024-01-15T10:30:00Z",
        "properties": [{"billableMetricId": "bm_calls", "quantity": 3}],
    }
    body.update(changes)
    return body


def nulls(value: Any, where: str = "$") -> list[str]:
    """Where value holds a null."""
    if value is None:
        return [where]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in nulls(v, f"{where}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in nulls(v, f"{where}[{i}]")]
    return []


def exchanges(url: str, auth: dict[str, str], merchant_id: str) -> list[httpx.Response]:
    """One response of each kind the sandbox makes: events without any optional value
    (unbilled, refunded without a reason), a batch with failures (one without a key), and
    an Error of every status it answers."""
    with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
        created = http.post("/v0/usage", json=event(merchant_id))
        event_url = f"/v0/usage/{created.json()['id']}"
        priced = [{"billableMetricId": "p", "quantity": 1, "price": "1"}]
        return [
            created,
            http.post("/v0/usage", json=event(merchant_id, properties=priced)),
            http.get(event_url),
            http.patch(event_url, json={"refunded": True}),
            http.patch(event_url, json={"refunded": True}),
            http.post("/v0/usage/batch", json={"events": [event(merchant_id), 42, {}]}),
            http.get(
                "/v0/usage",
                params={
                    "customerId": created.json()["customerId"],
                    "startTime": "2024-01-01T00:00:00Z",
                    "endTime": "2024-12-31T00:00:00Z",
                },
            ),
            http.get("/v0/usage", params={"startTime": "x", "endTime": "y"}),
            http.get("/v0/usage/usg_unknown"),
            http.post("/v0/usage", content=b"{", headers=JSON),
            http.post("/v0/usage", content=b"{}", headers={"Content-Type": "text/plain"}),
            http.post("/v0/usage", json=event("org_someone_else")),
            http.post("/v0/usage", json=event(merchant_id), headers={"Authorization": "x"}),
        ]


def template(path: str) -> str:
    return "/v0/usage/{id}" if path.count("/") == 3 and not path.endswith("batch") else path


def test_by_default_no_response_holds_a_null_or_a_code(sandbox: SandboxProcess) -> None:
    for response in exchanges(sandbox.url, AUTH, MERCHANT_ID):
        body = assert_conforms(response)
        assert nulls(body) == [], (response.request.url, body)
        if response.status_code >= 400 and "errors" not in body:
            assert "code" not in body and "details" not in body or body.get("details")
        assert_strict(response, template(response.request.url.path))


def test_the_strict_reading_wants_a_string_key_in_every_batch_failure() -> None:
    def answer(failure: dict[str, Any]) -> dict[str, Any]:
        summary = {"total": 1, "successful": 0, "failed": 1}
        return {
            "object": "batchUsageEvents",
            "successful": [],
            "failed": [failure],
            "summary": summary,
        }

    assert strict_violations(
        "POST", "/v0/usage/batch", 207, answer({"index": 0, "error": "x"})
    ) == ["['failed', 0]: 'idempotencyKey' is a required property"]
    keyless = {"index": 0, "error": "x", "idempotencyKey": None}
    assert strict_violations("POST", "/v0/usage/batch", 207, answer(keyless)) == [
        "['failed', 0, 'idempotencyKey']: None is not of type 'string'"
    ]
    keyed = {"index": 0, "error": "x", "idempotencyKey": ""}
    assert strict_violations("POST", "/v0/usage/batch", 207, answer(keyed)) == []


def test_null_optionals_sends_null_for_every_optional_field_without_a_value(
    null_sandbox: SandboxProcess,
) -> None:
    responses = exchanges(null_sandbox.url, EXAMPLE_AUTH, EXAMPLE_MERCHANT)
    for response in responses:
        assert_conforms(response, strict=False)
    created = responses[0].json()
    # Every optional field of the spec's UsageEvent but the two this create has values for.
    for name in set(optional_fields("UsageEvent")) - {"idempotencyKey", "consumerId"}:
        assert created[name] is None, name
    assert created["properties"][0]["price"] is None
    assert responses[1].json()["billing"]["invoiceId"] is None
    assert responses[3].json()["refund"]["reason"] is None
    failed = responses[5].json()["failed"]
    assert [f["idempotencyKey"] for f in failed] == ["", ""]  # required by production: a string
    not_found = responses[8].json()
    assert (not_found["code"], not_found["details"]) == (None, None)


def test_both_shapes_read_the_same_database(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    null_server = sandbox_factory(null_optionals=True)
    created = httpx.post(null_server.url + "/v0/usage", json=event(), headers=AUTH).json()
    null_server.stop()
    plain = sandbox_factory()
    fetched = httpx.get(f"{plain.url}/v0/usage/{created['id']}", headers=AUTH).json()
    assert fetched == {k: v for k, v in created.items() if v is not None} | {
        "properties": [{"billableMetricId": "bm_calls", "quantity": 3}]
    }


def test_an_event_stored_with_nulls_by_an_older_version_is_shown_without_them(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    # What versions before the two shapes stored: every optional field, null when empty.
    document = (
        '{"id":"usg_old1","object":"usageEvent","idempotencyKey":"k","customerId":"c",'
        f'"merchantId":"{MERCHANT_ID}","consumerId":"org_1","subscriptionId":"sub_1",'
        '"entitlementId":null,"description":null,"timestamp":"2024-01-15T10:30:00Z",'
        '"createdAt":"2024-01-15T10:30:01Z","properties":[{"billableMetricId":"b",'
        '"quantity":1,"price":null}],"metadata":null,"billing":null,"dispute":null,'
        '"refund":null}'
    )
    store = Store(str(tmp_path / "sandbox.db"))
    store.insert_many([NewEvent("usg_old1", MERCHANT_ID, "k", "c", "sub_1", "org_1", 0, document)])
    store.close()
    server = sandbox_factory()
    response = httpx.get(server.url + "/v0/usage/usg_old1", headers=AUTH)
    assert nulls(assert_conforms(response)) == []
    assert response.json()["properties"] == [{"billableMetricId": "b", "quantity": 1}]


# The spec's examples -------------------------------------------------------------------


def example(response: str, name: str) -> Any:
    return resolve(SPEC["components"]["responses"][response])["content"]["application/json"][
        "examples"
    ][name]["value"]


def operation_example(path: str, method: str, status: str, name: str) -> Any:
    documented = SPEC["paths"][path][method]["responses"][status]
    return resolve(documented["content"]["application/json"]["examples"][name])["value"]


def test_the_error_examples_are_what_the_null_optionals_sandbox_answers(
    null_sandbox: SandboxProcess,
) -> None:
    url = null_sandbox.url
    quantity_zero = event(EXAMPLE_MERCHANT, properties=[{"billableMetricId": "m", "quantity": 0}])
    created = httpx.post(url + "/v0/usage", json=event(EXAMPLE_MERCHANT), headers=EXAMPLE_AUTH)
    event_url = f"{url}/v0/usage/{created.json()['id']}"
    httpx.patch(event_url, json={"refunded": True}, headers=EXAMPLE_AUTH)
    cases: list[tuple[Any, httpx.Response]] = [
        (
            example("BadRequest", "validation"),
            httpx.post(url + "/v0/usage", json=quantity_zero, headers=EXAMPLE_AUTH),
        ),
        (
            example("BadRequest", "malformed"),
            httpx.post(url + "/v0/usage", content=b"{", headers={**EXAMPLE_AUTH, **JSON}),
        ),
        (example("Unauthorized", "missingToken"), httpx.get(url + "/v0/usage/usg_1")),
        (
            example("Forbidden", "otherMerchant"),
            httpx.post(url + "/v0/usage", json=event("org_789def456"), headers=EXAMPLE_AUTH),
        ),
        (
            example("NotFound", "unknownId"),
            httpx.get(url + "/v0/usage/usg_0000000000", headers=EXAMPLE_AUTH),
        ),
        (
            example("PayloadTooLarge", "tooLarge"),
            httpx.post(
                url + "/v0/usage",
                content=b" " * (MAX_BODY_BYTES + 1),
                headers={**EXAMPLE_AUTH, **JSON},
            ),
        ),
        (
            example("UnsupportedMediaType", "notJson"),
            httpx.post(url + "/v0/usage", content=b"{}", headers=EXAMPLE_AUTH),
        ),
    ]
    for expected, response in cases:
        assert response.json() == expected
    refused = httpx.patch(event_url, json={"refunded": True}, headers=EXAMPLE_AUTH).json()
    expected = operation_example("/v0/usage/{id}", "patch", "422", "alreadyRefunded")
    assert refused == {
        **expected,
        "message": expected["message"].replace("usg_9f8e7d6c5b4a", created.json()["id"]),
    }


def test_the_rate_limit_example_is_what_the_sandbox_answers(
    sandbox_factory: SandboxFactory,
) -> None:
    server = sandbox_factory(
        tokens={TOKEN: EXAMPLE_MERCHANT}, faults="429=1,retry-after=2", null_optionals=True
    )
    response = httpx.get(server.url + "/v0/usage/usg_1", headers=EXAMPLE_AUTH)
    assert response.json() == example("TooManyRequests", "rateLimited")


def same_keys(actual: Any, expected: Any, where: str = "$") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        assert sorted(actual) == sorted(expected), where
        for key, value in expected.items():
            same_keys(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list) and expected:
        assert isinstance(actual, list), where
        same_keys(actual[0], expected[0], f"{where}[0]")


@pytest.mark.parametrize(
    ("request_example", "response_example"),
    [("llmTokens", "billed"), ("gpuHoursUnpriced", "unbilled")],
)
def test_the_event_examples_have_the_fields_the_null_optionals_sandbox_sends(
    null_sandbox: SandboxProcess, request_example: str, response_example: str
) -> None:
    operation = SPEC["paths"]["/v0/usage"]["post"]
    body = dict(
        operation["requestBody"]["content"]["application/json"]["examples"][request_example][
            "value"
        ]
    )
    body["idempotencyKey"] = f"key_{uuid.uuid4().hex}"
    response = httpx.post(null_sandbox.url + "/v0/usage", json=body, headers=EXAMPLE_AUTH)
    same_keys(response.json(), operation_example("/v0/usage", "post", "201", response_example))
