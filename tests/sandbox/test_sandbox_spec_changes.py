"""The "spec changed" workflow: a sandbox following a changed copy of openapi.yaml (`--spec`)
stores and returns the declared optional request fields it has no rule for, wherever the
response schema declares them, and refuses a declared query parameter it does not implement
instead of ignoring it, unless it names a top-level field of the event: then it is an equality
filter (generic_filters.py). The real spec is never changed: each test writes a copy."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from paygentic_sandbox.process import SandboxProcess
from support.sandbox_fixture import AUTH, MERCHANT_ID, TOKENS
from support.spec_support import SPEC_PATH

LIST_WINDOW = {"startTime": "2024-01-01T00:00:00Z", "endTime": "2024-12-31T00:00:00Z"}


def changed_spec() -> dict[str, Any]:
    """openapi.yaml with what a new release might add: optional fields of the event, of its
    properties and of a refund (each also declared in the response), a request field the
    response has no place for, and a list filter."""
    document: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    schemas = document["components"]["schemas"]
    schemas["CreateUsageEventRequest"]["properties"]["region"] = {"type": "string"}
    schemas["CreateUsageEventRequest"]["properties"]["traceNote"] = {"type": "string"}
    schemas["UsageEvent"]["properties"]["region"] = {"type": ["string", "null"]}
    # A number: the server reads fractions as Decimal, and must write them back as numbers.
    schemas["CreateUsageEventRequest"]["properties"]["weight"] = {"type": "number"}
    schemas["UsageEvent"]["properties"]["weight"] = {"type": ["number", "null"]}
    schemas["CreateUsageEventRequestProperty"]["properties"]["unit"] = {"type": "string"}
    schemas["UsageEventProperty"]["properties"]["unit"] = {"type": ["string", "null"]}
    schemas["RefundUsageEventRequest"]["properties"]["notes"] = {"type": "string"}
    schemas["Refund"]["properties"]["notes"] = {"type": ["string", "null"]}
    document["paths"]["/v0/usage"]["get"]["parameters"] += [
        {"name": "region", "in": "query", "required": False, "schema": {"type": "string"}},
        # Not a field of the event (it is one of each property): no rule the server can guess.
        {"name": "billableMetricId", "in": "query", "schema": {"type": "string"}},
    ]
    document["paths"]["/v0/usage/{id}"]["delete"] = {
        "operationId": "deleteUsageEvent",
        "responses": {"204": {"description": "Deleted."}},
    }
    document["paths"]["/v0/usage/{id}/disputes"] = {
        "get": {
            "operationId": "listDisputes",
            "responses": {"200": {"description": "The disputes of the event."}},
        }
    }
    return document


@pytest.fixture(scope="module")
def spec_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("changed-spec") / "openapi.yaml"
    path.write_text(yaml.safe_dump(changed_spec(), sort_keys=False))
    return path


@pytest.fixture(scope="module")
def changed(spec_copy: Path) -> Iterator[SandboxProcess]:
    directory = spec_copy.parent
    with SandboxProcess(
        db=directory / "sandbox.db", tokens=TOKENS, spec=spec_copy, log=directory / "log"
    ) as server:
        yield server


@pytest.fixture
def client(changed: SandboxProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=changed.url, headers=AUTH, timeout=30) as http:
        yield http


def event(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "idempotencyKey": f"key_{uuid.uuid4().hex}",
        "customerId": f"cus_{uuid.uuid4().hex[:16]}",
        "merchantId": MERCHANT_ID,
        "timestamp": "2024-01-15T10:30:00Z",
        "properties": [{"billableMetricId": "bm_gpu", "quantity": 2, "unit": "hour"}],
        "region": "eu-west-1",
        "weight": 0.25,
    }
    body.update(changes)
    return body


def test_new_optional_fields_are_stored_and_returned_by_every_operation(
    client: httpx.Client,
) -> None:
    body = event()
    created = client.post("/v0/usage", json=body)
    assert created.status_code == 201, created.text
    batched = client.post(
        "/v0/usage/batch", json={"events": [event(customerId=body["customerId"])]}
    )
    assert batched.status_code == 201, batched.text
    fetched = client.get(f"/v0/usage/{created.json()['id']}").json()
    listed = client.get("/v0/usage", params={"customerId": body["customerId"], **LIST_WINDOW})
    shown = [created.json(), batched.json()["successful"][0], fetched, *listed.json()["data"]]
    assert len(shown) == 5  # the list holds both events
    for answer in shown:
        assert answer["region"] == "eu-west-1"
        assert answer["weight"] == 0.25
        assert answer["properties"] == [
            {"billableMetricId": "bm_gpu", "quantity": 2, "unit": "hour"}
        ]


def test_a_new_refund_field_is_returned(client: httpx.Client) -> None:
    created = client.post("/v0/usage", json=event()).json()
    refunded = client.patch(f"/v0/usage/{created['id']}", json={"refunded": True, "notes": "n1"})
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["refund"]["notes"] == "n1"


def test_without_the_new_fields_nothing_changes(client: httpx.Client) -> None:
    body = event(properties=[{"billableMetricId": "bm_gpu", "quantity": 2}])
    del body["region"], body["weight"]
    created = client.post("/v0/usage", json=body).json()
    assert "region" not in created and "weight" not in created
    assert created["properties"] == [{"billableMetricId": "bm_gpu", "quantity": 2}]


def test_a_field_the_response_has_no_place_for_is_named_in_the_log(
    changed: SandboxProcess, client: httpx.Client
) -> None:
    assert client.post("/v0/usage", json=event(traceNote="t")).status_code == 201
    assert changed.log is not None
    log = Path(changed.log).read_text()
    assert "CreateUsageEventRequest.traceNote" in log
    assert "region" not in log and "unit" not in log


def test_a_declared_query_parameter_without_a_rule_is_a_400_naming_it(
    client: httpx.Client,
) -> None:
    response = client.get(
        "/v0/usage", params={"customerId": "c", "billableMetricId": "bm", **LIST_WINDOW}
    )
    assert response.status_code == 400
    assert "query parameter billableMetricId" in response.json()["message"]
    assert "not a top-level field of the usage event" in response.json()["message"]
    # Not given, it changes nothing.
    assert client.get("/v0/usage", params={"customerId": "c", **LIST_WINDOW}).status_code == 200


def test_a_declared_query_parameter_naming_a_field_of_the_event_filters_by_equality(
    client: httpx.Client,
) -> None:
    customer = f"cus_{uuid.uuid4().hex[:16]}"
    for region in ("eu-west-1", "us-east-1", "eu-west-1"):
        created = client.post("/v0/usage", json=event(customerId=customer, region=region))
        assert created.status_code == 201, created.text
    without_region = event(customerId=customer)
    del without_region["region"]
    assert client.post("/v0/usage", json=without_region).status_code == 201

    def listed(**params: str) -> list[Any]:
        response = client.get("/v0/usage", params={"customerId": customer, **LIST_WINDOW, **params})
        assert response.status_code == 200, response.text
        assert response.json()["pagination"]["total"] == len(response.json()["data"])
        return [item.get("region") for item in response.json()["data"]]

    assert listed(region="eu-west-1") == ["eu-west-1", "eu-west-1"]
    assert listed(region="us-east-1") == ["us-east-1"]
    assert listed(region="ap-south-1") == []
    assert sorted(listed(), key=str) == sorted(
        ["eu-west-1", "us-east-1", "eu-west-1", None], key=str
    )
    # Page by page, the filter holds on the continuation too.
    first = client.get(
        "/v0/usage",
        params={"customerId": customer, "region": "eu-west-1", "limit": "1", **LIST_WINDOW},
    ).json()
    second = client.get(
        "/v0/usage",
        params={
            "customerId": customer,
            "region": "eu-west-1",
            "limit": "1",
            "offset": "1",
            **LIST_WINDOW,
        },
    ).json()
    assert first["pagination"]["total"] == second["pagination"]["total"] == 2
    assert first["data"][0]["id"] != second["data"][0]["id"]
    assert second["data"][0]["region"] == "eu-west-1"


def test_a_declared_operation_without_a_handler_is_a_405_naming_it(client: httpx.Client) -> None:
    response = client.delete("/v0/usage/usg_abc")
    assert response.status_code == 405
    assert response.json()["message"] == (
        "The operation deleteUsageEvent (DELETE /v0/usage/{id}) is declared by the API's spec "
        "but this sandbox does not implement it."
    )
    # A method the spec does not declare is refused as before.
    assert client.put("/v0/usage/usg_abc").json()["message"].startswith("PUT is not allowed")


def test_a_declared_path_without_a_route_is_a_404_naming_its_operation(
    client: httpx.Client,
) -> None:
    response = client.get("/v0/usage/usg_abc/disputes")
    assert response.status_code == 404
    assert response.json()["message"] == (
        "The operation listDisputes (GET /v0/usage/{id}/disputes) is declared by the API's "
        "spec but this sandbox does not implement it."
    )
    # Another method there, or a path the spec does not have: as before.
    assert client.post("/v0/usage/usg_abc/disputes").json()["message"].startswith("There is no")
    assert client.get("/v0/usage/usg_abc/other").json()["message"].startswith("There is no")


def test_with_null_optionals_a_new_field_without_a_value_is_null(
    spec_copy: Path, tmp_path: Path
) -> None:
    with SandboxProcess(
        db=tmp_path / "sandbox.db", tokens=TOKENS, spec=spec_copy, null_optionals=True
    ) as server:
        body = event(properties=[{"billableMetricId": "bm_gpu", "quantity": 2}])
        del body["region"], body["weight"]
        created = httpx.post(server.url + "/v0/usage", json=body, headers=AUTH).json()
    assert created["region"] is None and created["weight"] is None
    assert created["properties"][0]["unit"] is None
