"""Checks on openapi.yaml itself: the contract every other part of the project trusts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.spec_support import (
    SPEC,
    optional_fields,
    resolve,
    success_schema_names,
    validator_for,
)

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

EXPECTED_OPERATIONS = {
    "createUsageEvent": ("post", "/v0/usage"),
    "listUsageEvents": ("get", "/v0/usage"),
    "getUsageEvent": ("get", "/v0/usage/{id}"),
    "refundUsageEvent": ("patch", "/v0/usage/{id}"),
    "batchCreateUsageEvents": ("post", "/v0/usage/batch"),
}


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def example_cases() -> Iterator[Any]:
    """Every (schema, example) pair of every request body, response and parameter."""
    for path, method, operation in operations():
        where = f"{method.upper()} {path}"
        bodies = [("request", resolve(operation.get("requestBody", {})))]
        bodies += [(status, resolve(r)) for status, r in operation["responses"].items()]
        for status, body in bodies:
            for media_type, media in body.get("content", {}).items():
                examples = {k: resolve(v)["value"] for k, v in media.get("examples", {}).items()}
                if "example" in media:
                    examples["example"] = media["example"]
                for name, value in examples.items():
                    yield pytest.param(
                        media["schema"], value, id=f"{where} {status} {media_type} {name}"
                    )
        for parameter in [
            *SPEC["paths"][path].get("parameters", []),
            *operation.get("parameters", []),
        ]:
            parameter = resolve(parameter)
            if "example" in parameter:
                yield pytest.param(
                    parameter["schema"], parameter["example"], id=f"{where} {parameter['name']}"
                )


@pytest.mark.parametrize(("schema", "example"), list(example_cases()))
def test_every_example_validates_against_its_schema(schema: dict[str, Any], example: Any) -> None:
    errors = [e.message for e in validator_for(schema).iter_errors(example)]
    assert errors == []


def test_request_and_response_bodies_all_carry_examples() -> None:
    for path, method, operation in operations():
        bodies = [resolve(operation["requestBody"])] if "requestBody" in operation else []
        bodies += [resolve(r) for r in operation["responses"].values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                assert media.get("examples") or "example" in media, f"{method} {path}"


def test_the_five_usage_operations_are_there_and_every_operation_id_is_unique() -> None:
    """The five of the API's facts stay; an operation added to the spec fails nothing here."""
    ids = [op["operationId"] for _, _, op in operations()]
    assert len(ids) == len(set(ids))
    found = {op["operationId"]: (method, path) for path, method, op in operations()}
    assert EXPECTED_OPERATIONS.items() <= found.items()
    assert all(op["tags"] == ["usageEvents"] for _, _, op in operations())


def test_every_operation_requires_bearer_auth_and_declares_401_and_429() -> None:
    assert SPEC["components"]["securitySchemes"]["bearerAuth"] == {
        **SPEC["components"]["securitySchemes"]["bearerAuth"],
        "type": "http",
        "scheme": "bearer",
    }
    for _, _, operation in operations():
        assert operation["security"] == [{"bearerAuth": []}]
        assert {"401", "429"} <= set(operation["responses"])
        retry_after = resolve(operation["responses"]["429"])["headers"]["Retry-After"]
        assert resolve(retry_after)["required"] is True


def test_production_server_is_the_only_server() -> None:
    assert [s["url"] for s in SPEC["servers"]] == ["https://api.paygentic.io"]


def test_a_validation_error_and_a_plain_error_are_told_apart() -> None:
    bad_request = resolve(SPEC["components"]["responses"]["BadRequest"])
    one_of = validator_for(bad_request["content"]["application/json"]["schema"])
    validation = {
        "message": "m",
        "error": "validation_error",
        "errors": [{"field": "f", "message": "x"}],
    }
    plain = {"message": "m", "error": "bad_request"}
    assert one_of.is_valid(validation) and one_of.is_valid(plain)
    error = validator_for({"$ref": "#/components/schemas/Error"})
    validation_error = validator_for({"$ref": "#/components/schemas/ValidationError"})
    assert not error.is_valid(validation)
    assert not validation_error.is_valid(plain)


@pytest.mark.parametrize(
    "read_only_field", ["id", "object", "createdAt", "billing", "refund", "dispute"]
)
def test_request_schemas_refuse_read_only_fields(read_only_field: str) -> None:
    for name in ("CreateUsageEventRequest", "RefundUsageEventRequest"):
        schema = SPEC["components"]["schemas"][name]
        assert read_only_field not in schema["properties"]
        assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("schema_name", "field"),
    [
        (schema_name, field)
        for schema_name in success_schema_names()
        for field in optional_fields(schema_name)
    ],
)
def test_optional_response_fields_accept_null(schema_name: str, field: str) -> None:
    property_schema = SPEC["components"]["schemas"][schema_name]["properties"][field]
    assert validator_for(property_schema).is_valid(None)


def test_refund_can_only_be_true() -> None:
    refund = validator_for({"$ref": "#/components/schemas/RefundUsageEventRequest"})
    assert refund.is_valid({"refunded": True})
    assert not refund.is_valid({"refunded": False})


def test_links_chain_create_get_and_refund() -> None:
    for operation_id, status in [("createUsageEvent", "201"), ("getUsageEvent", "200")]:
        method, path = EXPECTED_OPERATIONS[operation_id]
        links = SPEC["paths"][path][method]["responses"][status]["links"]
        targets = {
            resolve(link)["operationId"]: resolve(link)["parameters"] for link in links.values()
        }
        assert targets == {
            "getUsageEvent": {"id": "$response.body#/id"},
            "refundUsageEvent": {"id": "$response.body#/id"},
        }
