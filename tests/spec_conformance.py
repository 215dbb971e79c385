"""Check an HTTP response against openapi.yaml: a documented status, and a JSON body that
validates against that status's schema (formats such as date-time included)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_URI = "urn:paygentic:openapi"
SPEC: dict[str, Any] = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "openapi.yaml").read_text()
)
REGISTRY: Registry[Any] = Registry().with_resource(
    SPEC_URI, Resource.from_contents(SPEC, default_specification=DRAFT202012)
)
OPERATIONS = {
    ("POST", "/v0/usage"): "createUsageEvent",
    ("GET", "/v0/usage"): "listUsageEvents",
    ("GET", "/v0/usage/{id}"): "getUsageEvent",
    ("PATCH", "/v0/usage/{id}"): "refundUsageEvent",
    ("POST", "/v0/usage/batch"): "batchCreateUsageEvents",
}


def _resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _template(path: str) -> str:
    if path.startswith("/v0/usage/") and path != "/v0/usage/batch":
        return "/v0/usage/{id}"
    return path


def assert_conforms(response: httpx.Response) -> Any:
    """The response's JSON, after checking it against the operation's documented response."""
    method, path = response.request.method, _template(response.request.url.path)
    assert (method, path) in OPERATIONS, f"{method} {path} is not an operation"
    responses = SPEC["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in responses, f"{response.status_code} undocumented"
    documented = _resolve(responses[str(response.status_code)])
    assert response.headers["content-type"] == "application/json"
    schema = documented["content"]["application/json"]["schema"]
    body = response.json()
    validator = Draft202012Validator(
        {"$ref": SPEC_URI + schema["$ref"]} if "$ref" in schema else _absolute(schema),
        registry=REGISTRY,
        format_checker=FormatChecker(),
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert errors == [], errors
    for name, header in documented.get("headers", {}).items():
        if _resolve(header).get("required"):
            assert name in response.headers
    return body


def _absolute(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: SPEC_URI + v if k == "$ref" and v.startswith("#") else _absolute(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_absolute(v) for v in node]
    return node
