"""The strict reading of the contract, as the official TypeScript SDK applies it: an optional
field is absent or has a value, never `null`, and an `Error`'s `code` is one of the closed
list production defines. Derived from openapi.yaml: every schema of the spec with `null`
taken out of the types of the properties it does not require.

The closed list is production's, not the spec's (openapi.yaml lets `code` be any
UPPER_SNAKE_CASE string, so that clients stay lenient): `Code` in the TypeScript SDK's
`src/models/error.ts`, `paygentic/sdk-node` tag v0.6.38, the last release with usage events.
The spec also lets a dispute's `merchantMessage` and `resolvedAt` be null, as that SDK does;
the strict reading refuses that too, which costs nothing: the sandbox makes no disputes.

A batch failure's `idempotencyKey` is required, a string: `Failed` in that SDK's
`src/models/batchusageeventresponse.ts`, and `idempotency_key: str` in the official Python SDK
(paygentic-sdk 0.1.34) both refuse the whole 207 answer without one. The spec keeps it
optional and nullable, so that clients generated from it accept either.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from support.spec_support import SPEC, absolute_refs, resolve

PRODUCTION_ERROR_CODES = ("TAX_NOT_ENABLED", "PAYMENT_SESSION_EXPIRED")
STRICT_URI = "urn:paygentic:openapi-strict"


def _without_null(schema: Any) -> Any:
    """A property's schema that no longer admits null (for a property that may be absent)."""
    if not isinstance(schema, dict):
        return schema
    schema = dict(schema)
    types = schema.get("type")
    if isinstance(types, list) and "null" in types:
        remaining = [t for t in types if t != "null"]
        schema["type"] = remaining[0] if len(remaining) == 1 else remaining
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            branches = [b for b in schema[keyword] if b != {"type": "null"}]
            schema[keyword] = [_without_null(b) for b in branches]
    return schema


def strict(node: Any) -> Any:
    """A copy of a piece of the spec in which every object schema's optional properties
    refuse null."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    copied = {key: strict(value) for key, value in node.items()}
    properties = copied.get("properties")
    if isinstance(properties, dict) and copied.get("type") in ("object", ["object", "null"]):
        required = set(copied.get("required", []))
        copied["properties"] = {
            name: sub if name in required else _without_null(sub)
            for name, sub in properties.items()
        }
    return copied


def strict_spec() -> dict[str, Any]:
    document: dict[str, Any] = strict(copy.deepcopy(SPEC))
    schemas = document["components"]["schemas"]
    schemas["Error"]["properties"]["code"]["enum"] = list(PRODUCTION_ERROR_CODES)
    failure = schemas["BatchUsageEventFailure"]
    failure["required"] = [*failure["required"], "idempotencyKey"]
    return document


STRICT_SPEC = strict_spec()


def _strict_refs(node: Any) -> Any:
    text_node = absolute_refs(node)
    return _rebase(text_node)


def _rebase(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: v.replace("urn:paygentic:openapi#", STRICT_URI + "#")
            if k == "$ref" and isinstance(v, str)
            else _rebase(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


STRICT_REGISTRY: Registry[Any] = Registry().with_resource(
    STRICT_URI,
    Resource.from_contents(_strict_refs(STRICT_SPEC), default_specification=DRAFT202012),
)


def strict_validator(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of the strict reading for a schema of the spec (inline or a $ref)."""
    return Draft202012Validator(
        _strict_refs(strict(schema)), registry=STRICT_REGISTRY, format_checker=FormatChecker()
    )


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    documented = resolve(responses[str(status)])
    schema: dict[str, Any] = documented["content"]["application/json"]["schema"]
    return schema


def strict_violations(method: str, path: str, status: int, body: Any) -> list[str]:
    """Where a response body of an operation breaks the strict reading ([] when it does not)."""
    validator = strict_validator(response_schema(method, path, status))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def assert_strict(response: httpx.Response, path: str) -> None:
    """`path` is the operation's path template, e.g. `/v0/usage/{id}`."""
    violations = strict_violations(
        response.request.method, path, response.status_code, response.json()
    )
    assert violations == [], violations


def schemathesis_check(ctx: Any, response: Any, case: Any) -> bool | None:
    """The strict reading as a schemathesis check (`additional_checks=`): for a documented
    JSON response of the operation, no violation."""
    operation = case.operation
    responses = SPEC["paths"][operation.path][operation.method.lower()]["responses"]
    if str(response.status_code) not in responses:
        return None  # an undocumented status is the default checks' to report
    documented = resolve(responses[str(response.status_code)])
    if "content" not in documented:
        return None
    violations = strict_violations(
        operation.method, operation.path, response.status_code, response.json()
    )
    assert violations == [], f"breaks the strict reading of the contract: {violations}"
    return True
