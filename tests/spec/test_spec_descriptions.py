"""openapi.yaml describes every operation, parameter, schema and schema property, in the place
openapi-python-client reads it from, so that the generated docstrings (and with them the API
reference and editor tooltips) say something.

Where the generator reads: a parameter's docstring line comes from its *schema's* description
(the parameter's own `description` is not used); a property that is a `$ref` gets the
referenced schema's description (a `description` beside the `$ref`, or around it in an
`allOf`, is dropped), so such a sibling is refused here as a description that goes nowhere."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"
METHODS = {"get", "put", "post", "patch", "delete"}


def target(spec: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, Mapping)
    return node


def described(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> bool:
    if "$ref" in schema:
        return "description" not in schema and described(spec, target(spec, schema["$ref"]))
    if "allOf" in schema and "description" in schema:
        return False  # dropped by the generator in favour of the allOf member's
    return bool(schema.get("description"))


def parameters(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for path, item in spec["paths"].items():
        for operation in [item, *(item[m] for m in METHODS & item.keys())]:
            where = operation.get("operationId", path)
            for parameter in operation.get("parameters", []):
                if "$ref" in parameter:
                    parameter = target(spec, parameter["$ref"])
                yield f"{where} parameter {parameter['name']}", parameter


def undescribed(spec: Mapping[str, Any]) -> Iterator[str]:
    for item in spec["paths"].values():
        for method in METHODS & item.keys():
            operation = item[method]
            if not operation.get("summary") or not operation.get("description"):
                yield f"{operation['operationId']}: summary or description"
    for where, parameter in parameters(spec):
        if not described(spec, parameter["schema"]):
            yield where
    for name, schema in spec["components"]["schemas"].items():
        if not schema.get("description"):
            yield f"schema {name}"
        for prop, definition in schema.get("properties", {}).items():
            if not described(spec, definition):
                yield f"schema {name}.{prop}"


def test_every_operation_parameter_schema_and_property_is_described() -> None:
    missing = list(undescribed(yaml.safe_load(SPEC.read_text())))
    assert missing == [], "\n".join(missing)


def test_a_description_beside_a_ref_counts_as_missing() -> None:
    spec = {"components": {"schemas": {"Id": {"type": "string", "description": "An id."}}}}
    assert described(spec, {"$ref": "#/components/schemas/Id"})
    assert not described(spec, {"$ref": "#/components/schemas/Id", "description": "Lost."})
    assert not described(spec, {"allOf": [{"$ref": "#/components/schemas/Id"}], "description": "x"})
