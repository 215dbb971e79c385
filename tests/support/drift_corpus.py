"""Answers of a newer (or broken) API, derived from openapi.yaml's schemas, not listed by hand.

`production_body(schema)` is an answer with every field the schema defines (as production
sends them); `mutations(schema, body)` walks it and changes one thing at a time:
- `unknown_enum`: an enum field with a value the spec does not list;
- `extra_scalar`, `extra_object`: a field the schema does not define, at every object level;
- `optional_null`, `optional_absent`: an optional field null (where the schema allows null)
  and absent;
- `required_absent`, `required_wrong_type`: a required field absent, or of another JSON type.
Each mutation carries the JSON path where errors.ResponseValidationError must point
(`successful[0].dispute.status`) and whether a lenient client must read it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from support.spec_support import SPEC, resolve

SCHEMAS = SPEC["components"]["schemas"]
UNKNOWN_ENUM_VALUE = "escalated_in_v2"
EXTRA_KEY = "addedInV2"
# Kinds a lenient client reads, and whether a strict one refuses them.
LENIENT_READS = {
    "unknown_enum": True,
    "extra_scalar": True,
    "extra_object": True,
    "optional_null": True,
    "optional_absent": True,
    "required_absent": False,
    "required_wrong_type": False,
}
STRICT_REFUSES = {"unknown_enum", "extra_scalar", "extra_object"}


@dataclass(frozen=True)
class Mutation:
    kind: str
    path: str  # where ResponseValidationError points (for a kind that raises)
    body: Any

    @property
    def id(self) -> str:
        return f"{self.kind}@{self.path or '<root>'}"


def schema_of(node: Any) -> dict[str, Any]:
    """A schema with its $ref followed and a nullable anyOf reduced to the non-null member."""
    node = resolve(node)
    if "anyOf" in node:
        members = [resolve(m) for m in node["anyOf"] if resolve(m).get("type") != "null"]
        assert len(members) == 1, node
        return dict(members[0])
    return dict(node)


def allows_null(node: Any) -> bool:
    node = resolve(node)
    if "anyOf" in node:
        return any(resolve(m).get("type") == "null" for m in node["anyOf"])
    types = node.get("type")
    return isinstance(types, list) and "null" in types


def json_type(schema: dict[str, Any]) -> str:
    types = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(types, list):
        types = next(t for t in types if t != "null")
    return str(types)


def production_body(node: Any) -> Any:
    """A value of the schema with every optional field present, as production sends them."""
    schema = schema_of(node)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = json_type(schema)
    if kind == "object":
        if "properties" not in schema:
            return {"region": "eu-west-1"}  # a map (metadata, details)
        return {name: production_body(prop) for name, prop in schema["properties"].items()}
    if kind == "array":
        return [production_body(schema["items"])]
    if kind == "integer":
        return 1
    if kind == "number":
        return 2.5
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2024-03-01T10:00:00Z"
    examples = schema.get("examples")
    return examples[0] if examples else "abc"


def _other_type(schema: dict[str, Any]) -> Any:
    """A JSON value of another type than the schema's."""
    return {"string": 12345, "integer": "12", "number": "2.5", "boolean": "true"}.get(
        json_type(schema), "not an object or array"
    )


def _join(path: str, step: str | int) -> str:
    if isinstance(step, int):
        return f"{path}[{step}]"
    return f"{path}.{step}" if path else step


def mutations(node: Any, body: Any) -> Iterator[Mutation]:
    """Every one-change mutation of body (a production_body of node's schema)."""
    for path, steps, schema, _ in _locations(node, body, "", ()):
        if "enum" in schema:
            yield Mutation("unknown_enum", path, _replaced(body, steps, UNKNOWN_ENUM_VALUE))
        if json_type(schema) != "object" or "properties" not in schema:
            continue
        required = set(schema.get("required", ()))
        extra = _join(path, EXTRA_KEY)
        yield Mutation("extra_scalar", extra, _replaced(body, (*steps, EXTRA_KEY), 7))
        nested = {"level": 2, "items": [{"x": None}]}
        yield Mutation("extra_object", extra, _replaced(body, (*steps, EXTRA_KEY), nested))
        for name, prop in schema["properties"].items():
            at = _join(path, name)
            if name in required:
                yield Mutation("required_absent", at, _deleted(body, (*steps, name)))
                wrong = _other_type(schema_of(prop))
                yield Mutation("required_wrong_type", at, _replaced(body, (*steps, name), wrong))
            else:
                if allows_null(prop):
                    yield Mutation("optional_null", at, _replaced(body, (*steps, name), None))
                yield Mutation("optional_absent", at, _deleted(body, (*steps, name)))


def _locations(
    node: Any, value: Any, path: str, steps: tuple[str | int, ...]
) -> Iterator[tuple[str, tuple[str | int, ...], dict[str, Any], Any]]:
    schema = schema_of(node)
    yield path, steps, schema, value
    if isinstance(value, dict) and "properties" in schema:
        for name, prop in schema["properties"].items():
            if name in value and value[name] is not None:
                yield from _locations(prop, value[name], _join(path, name), (*steps, name))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from _locations(schema["items"], item, _join(path, index), (*steps, index))


def _replaced(body: Any, steps: tuple[str | int, ...], new: Any) -> Any:
    copied = copy.deepcopy(body)
    target = copied
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = new
    return copied


def _deleted(body: Any, steps: tuple[str | int, ...]) -> Any:
    copied = copy.deepcopy(body)
    target = copied
    for step in steps[:-1]:
        target = target[step]
    del target[steps[-1]]
    return copied


def value_at(root: Any, path: str) -> Any:
    """The attribute of a parsed model (or the key of a dict) at a JSON path."""
    import re

    current = root
    for name, index in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", path):
        if index:
            current = current[int(index)]
            continue
        if isinstance(current, dict):
            current = current[name]
            continue
        keys: dict[str, str] = getattr(type(current), "_json_keys", {})
        attribute = next((a for a, k in keys.items() if k == name), None)
        current = getattr(current, attribute) if attribute else current.additional_properties[name]
    return current
