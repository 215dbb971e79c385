"""Checks on openapi.yaml itself: the contract every other part of the project trusts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
SPEC_URI = "urn:paygentic:openapi"


def absolute_refs(node: Any) -> Any:
    """A copy of node whose local "#/..." references point into the registered spec."""
    if isinstance(node, dict):
        return {
            k: SPEC_URI + v if k == "$ref" and v.startswith("#") else absolute_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [absolute_refs(v) for v in node]
    return node


REGISTRY: Registry[Any] = Registry().with_resource(
    SPEC_URI, Resource.from_contents(absolute_refs(SPEC), default_specification=DRAFT202012)
)
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}

EXPECTED_OPERATIONS = {
    "createUsageEvent": ("post", "/v0/usage"),
    "listUsageEvents": ("get", "/v0/usage"),
    "getUsageEvent": ("get", "/v0/usage/{id}"),
    "refundUsageEvent": ("patch", "/v0/usage/{id}"),
    "batchCreateUsageEvents": ("post", "/v0/usage/batch"),
}


def resolve(node: Any) -> Any:
    """Follow a local $ref (as used for shared responses and examples) to its target."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method, operation


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(
        absolute_refs(schema), registry=REGISTRY, format_checker=FormatChecker()
    )


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


def test_operations_are_exactly_the_five_usage_operations() -> None:
    found = {op["operationId"]: (method, path) for path, method, op in operations()}
    assert found == EXPECTED_OPERATIONS
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
        ("UsageEvent", "billing"),
        ("UsageEvent", "refund"),
        ("UsageEvent", "dispute"),
        ("UsageEvent", "entitlementId"),
        ("UsageEvent", "consumerId"),
        ("UsageEvent", "description"),
        ("UsageEvent", "idempotencyKey"),
        ("UsageEvent", "metadata"),
        ("UsageEventProperty", "price"),
        ("Dispute", "merchantMessage"),
        ("Dispute", "resolvedAt"),
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
