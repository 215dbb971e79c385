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
