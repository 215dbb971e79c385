"""The OpenAPI document shipped with the package, and validators compiled from it.

Every request is checked against the schemas of `openapi.yaml` itself, with jsonschema-rs
(a maintained Draft 2020-12 validator). It is used instead of the pure-Python `jsonschema`
because of speed: on this machine `jsonschema` takes about 500 µs per event, so a
1000-event batch would cost half a second; jsonschema-rs takes about 2 µs.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import jsonschema_rs
import yaml

# Error messages echo the offending value; a 10 MiB string must not come back in full.
MAX_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class FieldError:
    """One entry of a ValidationError's `errors`."""

    field: str
    message: str
    code: str

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, "code": self.code}

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


_T = TypeVar("_T")
# Functions whose result is computed once from the spec (see `derived`).
_DERIVED: list[Any] = []
# The spec the server follows: the packaged one unless `use_spec` was called.
_spec_path: Path | None = None


def derived(function: Callable[[], _T]) -> Callable[[], _T]:
    """Compute once from the spec, again after `use_spec`."""
    cached = functools.cache(function)
    _DERIVED.append(cached)
    return cached


def use_spec(path: str | Path | None) -> None:
    """Follow the OpenAPI document at `path` (None: the packaged openapi.yaml), e.g. a
    changed copy being tried before it is released. For the whole process."""
    global _spec_path
    _spec_path = Path(path) if path is not None else None
    for cached in _DERIVED:
        cached.cache_clear()


@derived
def spec_text() -> str:
    if _spec_path is not None:
        return _spec_path.read_text("utf-8")
    return resources.files("paygentic_sandbox").joinpath("openapi.yaml").read_text("utf-8")


@derived
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(spec_text())
    return loaded


def resolve(node: Any) -> Any:
    """Follow local `#/...` references to their target."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def declared_properties(schema_name: str) -> frozenset[str]:
    """The property names a component schema declares."""
    schema = resolve({"$ref": f"#/components/schemas/{schema_name}"})
    return frozenset(schema.get("properties", {}))


def operation(path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = spec()["paths"][path][method]
    return found


def request_schema(path: str, method: str) -> dict[str, Any]:
    body = resolve(operation(path, method)["requestBody"])
    schema: dict[str, Any] = body["content"]["application/json"]["schema"]
    return schema


# A request of the spec is nested five levels deep (batch, events, event, properties,
# property); a body that fails the schema and is nested deeper than this is refused as a
# whole instead of being described field by field.
MAX_NESTING_DEPTH = 64


class NestingTooDeep(ValueError):
    """A body that the schema refuses and that is nested deeper than MAX_NESTING_DEPTH, or a
    body deeper than the JSON parser can follow."""


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether value has more than `limit` levels of arrays and objects (a scalar has none).
    A loop over an explicit stack that stops at the limit: the value may be as deep as the
    parser allows."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth == limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


class SchemaValidator:
    """A compiled validator for one schema of the spec (its `#/components/...` refs resolve)."""

    def __init__(self, schema: dict[str, Any]) -> None:
        # Embedding the components lets the spec's own local references resolve.
        root = {**schema, "components": {"schemas": spec()["components"]["schemas"]}}
        self._validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)

    def is_valid(self, instance: Any) -> bool:
        return bool(self._validator.is_valid(instance))

    def errors(self, instance: Any, root: str = "body") -> list[FieldError]:
        """Every violation, each pointing at the exact place, e.g. `properties[0].quantity`
        (`root` names the instance itself). Only for an instance that is not valid."""
        found: list[FieldError] = []
        # The depth is checked first because the validator's error messages show the value,
        # and it gives up (ValueError) on a value of a few hundred levels.
        if nested_deeper_than(instance, MAX_NESTING_DEPTH):
            raise NestingTooDeep(f"deeper than {MAX_NESTING_DEPTH} levels")
        for error in self._validator.iter_errors(instance):
            found.extend(_field_errors(error, root))
        return found


def _field_errors(error: jsonschema_rs.ValidationError, root: str) -> list[FieldError]:
    kind = error.kind
    code = str(getattr(kind, "name", "invalid"))
    path = list(error.instance_path)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return [FieldError(field_path([*path, kind.property], root), "is required", code)]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        return [
            FieldError(field_path([*path, name], root), "is not a known field", code)
            for name in kind.unexpected
        ]
    message = str(error.message)
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "…"
    return [FieldError(field_path(path, root), message, code)]


def field_path(parts: list[str | int], root: str = "body") -> str:
    """["events", 3, "properties", 0, "quantity"] → `events[3].properties[0].quantity`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or root


def batch_envelope_schema() -> dict[str, Any]:
    """The batch request without its item schema: the envelope is judged on its own, each
    event separately (a bad event goes to `failed`, a bad envelope is a 400)."""
    schema: dict[str, Any] = copy.deepcopy(resolve(request_schema("/v0/usage/batch", "post")))
    schema["properties"]["events"].pop("items")
    return schema


def item_schema(schema: dict[str, Any]) -> dict[str, Any]:
    items: dict[str, Any] = resolve(schema)["properties"]["events"]["items"]
    return items


@dataclass(frozen=True)
class QueryParameter:
    name: str
    json_type: str
    schema: dict[str, Any]


def query_parameters(path: str, method: str) -> list[QueryParameter]:
    found = []
    for parameter in operation(path, method).get("parameters", []):
        parameter = resolve(parameter)
        if parameter["in"] == "query":
            schema = parameter["schema"]
            found.append(QueryParameter(parameter["name"], resolve(schema)["type"], schema))
    return found


def query_schema(path: str, method: str) -> dict[str, Any]:
    """An object schema equivalent to an operation's query parameters."""
    operation_parameters = [resolve(p) for p in operation(path, method).get("parameters", [])]
    query = [p for p in operation_parameters if p["in"] == "query"]
    return {
        "type": "object",
        "properties": {p["name"]: p["schema"] for p in query},
        "required": [p["name"] for p in query if p.get("required")],
    }


def path_parameter_schema(path: str, name: str) -> dict[str, Any]:
    for parameter in spec()["paths"][path].get("parameters", []):
        parameter = resolve(parameter)
        if parameter["in"] == "path" and parameter["name"] == name:
            schema: dict[str, Any] = parameter["schema"]
            return schema
    raise KeyError(f"{path} has no path parameter {name}")


@dataclass(frozen=True)
class Validators:
    """Every validator the server needs, compiled once."""

    create: SchemaValidator
    batch_envelope: SchemaValidator
    batch_item: SchemaValidator
    # Every event of a batch at once: one call for the usual batch, in which all are valid.
    batch_items: SchemaValidator
    refund: SchemaValidator
    list_query: SchemaValidator
    list_parameters: tuple[QueryParameter, ...]
    event_id: SchemaValidator


@derived
def validators() -> Validators:
    batch = request_schema("/v0/usage/batch", "post")
    return Validators(
        create=SchemaValidator(request_schema("/v0/usage", "post")),
        batch_envelope=SchemaValidator(batch_envelope_schema()),
        batch_item=SchemaValidator(item_schema(batch)),
        batch_items=SchemaValidator({"type": "array", "items": item_schema(batch)}),
        refund=SchemaValidator(request_schema("/v0/usage/{id}", "patch")),
        list_query=SchemaValidator(query_schema("/v0/usage", "get")),
        list_parameters=tuple(query_parameters("/v0/usage", "get")),
        event_id=SchemaValidator(path_parameter_schema("/v0/usage/{id}", "id")),
    )
