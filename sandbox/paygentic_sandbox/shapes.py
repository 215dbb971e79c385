"""How responses show optional fields that have no value: absent (the default), or `null`.

Production's published schema declares those fields optional but not nullable, and the
official TypeScript SDK, generated from it, refuses `null` where it accepts an absent field;
production's published examples, though, send `null`. So the sandbox leaves such a field out,
and with `--null-optionals` sends `null`, as the examples do.

Which fields these are is read from the response schemas of the spec: the properties an
object schema declares but does not require, and whose schema allows `null` (so that both
shapes conform to openapi.yaml). The server builds its values with None for "no value";
`Shape.omit` and `Shape.fill` turn them into either shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from paygentic_sandbox import jsontext, spec


@dataclass
class Shape:
    """The optional fields of one schema, and the shapes of the values nested in it (by
    property name, and `items` for an array)."""

    optional: frozenset[str] = frozenset()
    children: dict[str, Shape] = field(default_factory=dict)
    items: Shape | None = None

    def omit(self, value: Any) -> Any:
        """value without its optional fields that are None (in place; returned)."""
        if isinstance(value, dict):
            for name in [n for n in self.optional if value.get(n, 0) is None]:
                del value[name]
            for name, child in self.children.items():
                nested = value.get(name)
                if nested is not None:
                    child.omit(nested)
        elif isinstance(value, list) and self.items is not None:
            for item in value:
                self.items.omit(item)
        return value

    def fill(self, value: Any) -> Any:
        """value with None for each of its optional fields that is absent (in place)."""
        if isinstance(value, dict):
            for name in self.optional:
                value.setdefault(name, None)
            for name, child in self.children.items():
                nested = value.get(name)
                if nested is not None:
                    child.fill(nested)
        elif isinstance(value, list) and self.items is not None:
            for item in value:
                self.items.fill(item)
        return value


def _allows_null(schema: Any) -> bool:
    schema = spec.resolve(schema)
    if not isinstance(schema, dict):
        return False
    types = schema.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    branches: list[Any] = schema.get("anyOf") or schema.get("oneOf") or []
    return any(_allows_null(branch) for branch in branches)


def _branches(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The schema itself, or the alternatives of its anyOf/oneOf/allOf, resolved."""
    nested = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if nested is None:
        return [schema]
    return [branch for item in nested for branch in _branches(spec.resolve(item))]


def shape_of(schema: Any, depth: int = 0) -> Shape:
    """The Shape of a schema of the spec (a schema that refers to itself stops at a depth
    no response reaches)."""
    result = Shape()
    if depth > 16:
        return result
    for branch in _branches(spec.resolve(schema)):
        properties = branch.get("properties", {})
        required = set(branch.get("required", []))
        optional = {
            name for name, sub in properties.items() if name not in required and _allows_null(sub)
        }
        result.optional |= optional
        for name, sub in properties.items():
            child = shape_of(sub, depth + 1)
            if child.optional or child.children or child.items is not None:
                result.children[name] = child
        if "items" in branch:
            items = shape_of(branch["items"], depth + 1)
            if items.optional or items.children or items.items is not None:
                result.items = items
    return result


def component(name: str) -> Shape:
    return shape_of({"$ref": f"#/components/schemas/{name}"})


@spec.derived
def event_shape() -> Shape:
    return component("UsageEvent")


class Responses:
    """The shape of every response of one server: optional fields absent, or null."""

    def __init__(self, null_optionals: bool = False) -> None:
        self.null_optionals = null_optionals
        self._error = component("Error")
        self._validation_error = component("ValidationError")
        self._failure = component("BatchUsageEventFailure")

    def _shaped(self, shape: Shape, value: Any) -> Any:
        return shape.fill(value) if self.null_optionals else shape.omit(value)

    def error(self, body: dict[str, Any], validation: bool = False) -> dict[str, Any]:
        """An Error body (a ValidationError when `validation`) as this server shows it."""
        if validation:
            shaped: dict[str, Any] = self._shaped(self._validation_error, body)
            return shaped
        if not body.get("details"):
            body["details"] = None  # an empty `details` says nothing: it is no value
        shaped = self._shaped(self._error, body)
        return shaped

    def failures(self, failed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [self._shaped(self._failure, item) for item in failed]

    def stored_event(self, document: str) -> str:
        """A stored event's JSON as this server shows it. Events are stored with their empty
        optional fields absent (`events.build`); databases of older versions hold nulls."""
        if self.null_optionals:
            return jsontext.dumps(event_shape().fill(json.loads(document)))
        if "null" not in document:
            return document
        return jsontext.dumps(event_shape().omit(json.loads(document)))
