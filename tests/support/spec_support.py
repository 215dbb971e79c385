"""openapi.yaml as the tests read it: the parsed document, $ref resolution, and JSON Schema
validators for its schemas (formats such as date-time checked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
SPEC_URI = "urn:paygentic:openapi"


def resolve(node: Any) -> Any:
    """Follow a local $ref (shared responses, headers, examples) to its target."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def absolute_refs(node: Any) -> Any:
    """A copy of node whose local "#/..." references point into the registered spec, so that
    a schema taken out of the document still finds the components it refers to."""
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


def validator_for(schema: dict[str, Any]) -> Draft202012Validator:
    """A validator for a schema of the spec (inline, or a $ref into it)."""
    return Draft202012Validator(
        absolute_refs(schema), registry=REGISTRY, format_checker=FormatChecker()
    )


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def python_name(name: str) -> str:
    """The client's name for a spec name (the generator's snake_case): `customerId` ->
    `customer_id`, `createUsageEvent` -> `create_usage_event`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def spec_operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (method, path, operation) of every operation of the spec, in order;
    each operation's `parameters` include its path's."""
    found: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in SPEC["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                operation = dict(item[method])
                shared = [resolve(p) for p in item.get("parameters", [])]
                operation["parameters"] = shared + [
                    resolve(p) for p in operation.get("parameters", [])
                ]
                found[operation["operationId"]] = (method, path, operation)
    return found


def optional_fields(schema_name: str) -> list[str]:
    """The properties of a component schema that are not required, in the spec's order."""
    schema = SPEC["components"]["schemas"][schema_name]
    return [name for name in schema.get("properties", {}) if name not in schema.get("required", [])]


def success_schema_names() -> list[str]:
    """The component schemas that 2XX responses hold, directly or nested, in the spec's order."""
    found: set[str] = set()
    stack: list[Any] = []
    for _, _, operation in spec_operations().values():
        for status, response in operation["responses"].items():
            if str(status).startswith("2"):
                stack.append(resolve(response))
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            reference = node.get("$ref", "")
            if reference.startswith("#/components/schemas/"):
                name = reference.rsplit("/", 1)[-1]
                if name not in found:
                    found.add(name)
                    stack.append(SPEC["components"]["schemas"][name])
            else:
                stack.extend(value for key, value in node.items() if key != "examples")
    return [name for name in SPEC["components"]["schemas"] if name in found]
