"""What a change of openapi.yaml means to a user of the generated client.

No maintained OpenAPI diff installs from the registries this project uses (oasdiff is a Go
binary: its npm name is a placeholder and it is not on PyPI; `@pb33f/openapi-changes` downloads
its binary from GitHub when installed), so this is a small diff of our own, limited to the
constructs our spec uses:

- operations, keyed by operationId (a different operationId on the same method and path is a
  rename: the client's function changes name);
- path and query parameters (`in`, `name`, `required`, their schema);
- a request body's and each 2XX response's schema (a `$ref` to a named schema, or inline);
- the named schemas of `components/schemas`: `type` (a name or a list, `null` included),
  `const`, `enum`, `format`, the constraints `minimum`, `maximum`, `minLength`, `maxLength`,
  `minItems`, `maxItems`, `maxProperties`, `pattern`, `additionalProperties: false`,
  `properties` and `required`, `items`, and `anyOf`/`oneOf` of those (a `$ref` is compared by
  the name it points at; the named schema itself is compared on its own).
  A named schema that is neither an object nor an enum (an alias such as `IdempotencyKey`) is
  no model of the client, so its uses are compared as if it were written out in place, and so
  is an `allOf` (merged).

Whether a change breaks depends on the direction a schema travels. A schema the client sends
(reachable from a request body or a parameter) breaks callers when it asks more: a field or
parameter that became required, a narrowed type, a tighter constraint. A schema the client
reads (reachable from a response) breaks readers when it promises less: a field that became
optional, a widened type. Removing an operation, a parameter, a field, a model or an enum value
breaks either way: a name in the client disappears. Everything else is an addition.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Constraints where a larger value asks more of a value (a lower bound) and where a smaller one
# does (an upper bound).
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")

Json = dict[str, Any]


@dataclass(frozen=True, order=True)
class Change:
    """One change of the spec, as a user of the client sees it.

    `name` is what a CHANGELOG line must mention for a breaking change: `Schema.field`,
    `operationId`, `operationId.parameter` or `Schema.VALUE` (an enum value).
    """

    breaking: bool
    kind: str
    name: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}" + (f" ({self.detail})" if self.detail else "")


def load(text: str) -> Json:
    """A spec from its YAML (or JSON) text."""
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ValueError("an OpenAPI document is a mapping")
    return document


def compare(old: Json, new: Json) -> list[Change]:
    """Every change from old to new, breaking ones first, each group sorted by name."""
    old, new = normalise(old), normalise(new)
    changes = [*operation_changes(old, new), *schema_changes(old, new)]
    return sorted(set(changes), key=lambda change: (not change.breaking, change.name, change.kind))


# --- operations -------------------------------------------------------------------------------


def operations(spec: Json) -> dict[str, tuple[str, str, Json]]:
    """operationId -> (METHOD, path, operation with its path-level parameters merged in)."""
    found: dict[str, tuple[str, str, Json]] = {}
    for path, item in (spec.get("paths") or {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                operation = dict(item[method])
                operation["parameters"] = [*shared, *operation.get("parameters", [])]
                name = operation.get("operationId") or f"{method.upper()} {path}"
                found[name] = (method.upper(), path, operation)
    return found


def operation_changes(old: Json, new: Json) -> Iterator[Change]:
    before, after = operations(old), operations(new)
    by_route = {(method, path): name for name, (method, path, _) in after.items()}
    renamed_to: set[str] = set()
    for name in sorted(before.keys() - after.keys()):
        method, path, _ = before[name]
        successor = by_route.get((method, path))
        if successor is not None and successor not in before:
            renamed_to.add(successor)
            yield Change(True, "renamed operation", name, f"now {successor}, {method} {path}")
            yield from operation_detail(old, new, successor, before[name][2], after[successor][2])
        else:
            yield Change(True, "removed operation", name, f"{method} {path}")
    for name in sorted(after.keys() - before.keys() - renamed_to):
        method, path, _ = after[name]
        yield Change(False, "added operation", name, f"{method} {path}")
    for name in sorted(before.keys() & after.keys()):
        yield from operation_detail(old, new, name, before[name][2], after[name][2])


def operation_detail(
    old: Json, new: Json, name: str, before: Json, after: Json
) -> Iterator[Change]:
    yield from parameter_changes(old, new, name, before, after)
    old_body, new_body = deref(old, before.get("requestBody")), deref(new, after.get("requestBody"))
    if old_body and not new_body:
        yield Change(True, "removed request body", name)
    elif new_body and not old_body:
        yield Change(bool(new_body.get("required")), "added request body", name)
    elif old_body and new_body:
        if new_body.get("required") and not old_body.get("required"):
            yield Change(True, "became required", f"{name} request body")
        yield from schema_change(
            old, new, f"{name} request body", body_schema(old_body), body_schema(new_body), REQUEST
        )
    old_responses, new_responses = success_responses(old, before), success_responses(new, after)
    for status in sorted(old_responses.keys() - new_responses.keys()):
        yield Change(True, "removed response", f"{name} {status}")
    for status in sorted(new_responses.keys() - old_responses.keys()):
        yield Change(False, "added response", f"{name} {status}")
    for status in sorted(old_responses.keys() & new_responses.keys()):
        yield from schema_change(
            old,
            new,
            f"{name} {status} response",
            old_responses[status],
            new_responses[status],
            RESPONSE,
        )


def parameter_changes(
    old: Json, new: Json, name: str, before: Json, after: Json
) -> Iterator[Change]:
    old_params = {
        (p["in"], p["name"]): p for p in map(lambda p: deref(old, p), before["parameters"])
    }
    new_params = {
        (p["in"], p["name"]): p for p in map(lambda p: deref(new, p), after["parameters"])
    }
    removed = old_params.keys() - new_params.keys()
    added = new_params.keys() - old_params.keys()
    renamed = pair_renames(
        {key: (key[0], old_params[key].get("schema")) for key in removed},
        {key: (key[0], new_params[key].get("schema")) for key in added},
    )
    for key in sorted(removed):
        where = f"{name}.{key[1]}"
        if key in renamed:
            yield Change(True, "renamed parameter", where, f"now {renamed[key][1]}")
        else:
            yield Change(True, "removed parameter", where, f"in {key[0]}")
    for key in sorted(added - set(renamed.values())):
        required = bool(new_params[key].get("required"))
        kind = "new required parameter" if required else "added parameter"
        yield Change(required, kind, f"{name}.{key[1]}", f"in {key[0]}")
    for key in sorted(old_params.keys() & new_params.keys()):
        where = f"{name}.{key[1]}"
        was, now = bool(old_params[key].get("required")), bool(new_params[key].get("required"))
        if now and not was:
            yield Change(True, "became required", where)
        elif was and not now:
            yield Change(False, "became optional", where)
        yield from schema_change(
            old, new, where, old_params[key].get("schema"), new_params[key].get("schema"), REQUEST
        )


def body_schema(body: Json) -> Json | None:
    media = body.get("content", {}).get("application/json", {})
    schema = media.get("schema")
    return schema if isinstance(schema, dict) else None


def success_responses(spec: Json, operation: Json) -> dict[str, Json | None]:
    """Status -> JSON schema of each 2XX response (None for one without a JSON body)."""
    found: dict[str, Json | None] = {}
    for status, response in (operation.get("responses") or {}).items():
        if str(status).startswith("2"):
            found[str(status)] = body_schema(deref(spec, response) or {})
    return found


# --- schemas ----------------------------------------------------------------------------------

REQUEST, RESPONSE = "request", "response"


def schema_changes(old: Json, new: Json) -> Iterator[Change]:
    """The named schemas: removed, added, and how each one kept changed."""
    before, after = named_schemas(old), named_schemas(new)
    for name in sorted(before.keys() - after.keys()):
        yield Change(True, "removed model", name)
    for name in sorted(after.keys() - before.keys()):
        yield Change(False, "added model", name)
    directions = {
        name: directions_of(old, name) | directions_of(new, name)
        for name in before.keys() & after.keys()
    }
    for name in sorted(before.keys() & after.keys()):
        yield from compare_node(name, before[name], after[name], directions[name])


def named_schemas(spec: Json) -> dict[str, Json]:
    """The named schemas that are models of the client (objects and enums), by name."""
    return {name: schema for name, schema in all_schemas(spec).items() if is_model(schema)}


def all_schemas(spec: Json) -> dict[str, Json]:
    schemas = (spec.get("components") or {}).get("schemas") or {}
    return {name: schema for name, schema in schemas.items() if isinstance(schema, dict)}


def is_model(schema: Json) -> bool:
    return bool(
        "properties" in schema
        or "enum" in schema
        or schema.get("type") == "object"
        or "allOf" in schema
        or "anyOf" in schema
        or "oneOf" in schema
    )


def normalise(spec: Json) -> Json:
    """The spec with aliases written out in place and each `allOf` merged into one schema."""
    schemas = all_schemas(spec)

    def walk(node: Any, depth: int = 0) -> Any:
        if depth > 50:
            return node
        if isinstance(node, list):
            return [walk(item, depth + 1) for item in node]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
            target = schemas.get(reference.rsplit("/", 1)[-1])
            if target is not None and not is_model(target):
                siblings = {key: value for key, value in node.items() if key != "$ref"}
                return walk({**target, **siblings}, depth + 1)
        walked = {key: walk(value, depth + 1) for key, value in node.items()}
        members = walked.pop("allOf", None)
        if isinstance(members, list):
            merged: Json = {}
            for member in members:
                if isinstance(member, dict):
                    merged = merge(merged, member)
            walked = merge(merged, walked)
        return walked

    return {
        key: (walk(value) if key != "components" else normalise_components(value, walk))
        for key, value in spec.items()
    }


def normalise_components(components: Any, walk: Any) -> Any:
    if not isinstance(components, dict):
        return components
    return {key: walk(value) for key, value in components.items()}


def merge(first: Json, second: Json) -> Json:
    """Two schemas of an allOf as one: properties and required lists joined."""
    merged = {**first, **second}
    if "properties" in first and "properties" in second:
        merged["properties"] = {**first["properties"], **second["properties"]}
    if "required" in first and "required" in second:
        merged["required"] = sorted({*first["required"], *second["required"]})
    return merged


def schema_change(
    old: Json, new: Json, where: str, before: Json | None, after: Json | None, direction: str
) -> Iterator[Change]:
    """The schema of a parameter, body or response: a `$ref` is compared by name only."""
    if before is None or after is None:
        if before is not None or after is not None:
            yield Change(True, "changed type", where, f"{describe(before)} -> {describe(after)}")
        return
    yield from compare_node(where, before, after, frozenset({direction}))


def compare_node(
    where: str, before: Json, after: Json, directions: frozenset[str]
) -> Iterator[Change]:
    sends, reads = REQUEST in directions, RESPONSE in directions
    old_types, new_types = type_set(before), type_set(after)
    if old_types != new_types and "any" not in new_types:
        narrowed, widened = old_types - new_types, new_types - old_types
        if "any" in old_types:
            narrowed = frozenset({"any"})
        detail = f"{describe(before)} -> {describe(after)}"
        if narrowed and widened:
            yield Change(True, "changed type", where, detail)
        elif narrowed:
            yield Change(sends, "narrowed type", where, detail)
        elif widened:
            yield Change(reads, "widened type", where, detail)
    elif old_types != new_types:
        yield Change(reads, "widened type", where, f"{describe(before)} -> any")
    yield from enum_changes(where, before, after, reads)
    yield from constraint_changes(where, before, after, sends, reads)
    if isinstance(before.get("items"), dict) and isinstance(after.get("items"), dict):
        yield from compare_node(f"{where}[]", before["items"], after["items"], directions)
    for key in ("anyOf", "oneOf"):
        # Inline members of a union in the same position (our spec: a schema and "null").
        for old_member, new_member in zip(before.get(key, []), after.get(key, []), strict=False):
            if "$ref" not in old_member and "$ref" not in new_member:
                yield from compare_node(where, old_member, new_member, directions)
    yield from property_changes(where, before, after, directions)


def enum_changes(where: str, before: Json, after: Json, reads: bool) -> Iterator[Change]:
    if "enum" not in before and "enum" not in after:
        return
    old_values = {json.dumps(v) for v in before.get("enum", [])}
    new_values = {json.dumps(v) for v in after.get("enum", [])}
    if "enum" not in after:
        yield Change(reads, "widened type", where, "no longer an enum")
        return
    if "enum" not in before:
        yield Change(True, "narrowed type", where, "now an enum")
        return
    for value in sorted(old_values - new_values):
        yield Change(True, "removed enum value", f"{where}.{json.loads(value)}")
    for value in sorted(new_values - old_values):
        yield Change(False, "added enum value", f"{where}.{json.loads(value)}")


def constraint_changes(
    where: str, before: Json, after: Json, sends: bool, reads: bool
) -> Iterator[Change]:
    """Tighter constraints ask more of what the client sends; looser ones promise less."""
    for key in (*LOWER_BOUNDS, *UPPER_BOUNDS):
        was, now = before.get(key), after.get(key)
        if was == now or not all(isinstance(v, (int, float)) or v is None for v in (was, now)):
            continue
        lower = key in LOWER_BOUNDS
        if was is None:
            tighter = True
        elif now is None:
            tighter = False
        else:
            tighter = now > was if lower else now < was
        detail = f"{key} {was} -> {now}"
        if tighter:
            yield Change(sends, "narrowed type", where, detail)
        else:
            yield Change(reads, "widened type", where, detail)
    for key in ("pattern", "format"):
        was, now = before.get(key), after.get(key)
        if was != now:
            if now is None:
                yield Change(reads, "widened type", where, f"{key} {was!r} dropped")
            else:
                yield Change(sends, "narrowed type", where, f"{key} {was!r} -> {now!r}")
    was_closed = before.get("additionalProperties") is False
    now_closed = after.get("additionalProperties") is False
    if now_closed and not was_closed:
        yield Change(sends, "narrowed type", where, "no other properties")
    elif was_closed and not now_closed:
        yield Change(reads, "widened type", where, "other properties allowed")


def property_changes(
    where: str, before: Json, after: Json, directions: frozenset[str]
) -> Iterator[Change]:
    sends, reads = REQUEST in directions, RESPONSE in directions
    old_props: Mapping[str, Json] = before.get("properties") or {}
    new_props: Mapping[str, Json] = after.get("properties") or {}
    old_required, new_required = set(before.get("required", [])), set(after.get("required", []))
    removed, added = old_props.keys() - new_props.keys(), new_props.keys() - old_props.keys()
    renamed = pair_renames(
        {name: (name in old_required, old_props[name]) for name in removed},
        {name: (name in new_required, new_props[name]) for name in added},
    )
    for name in sorted(removed):
        if name in renamed:
            yield Change(True, "renamed field", f"{where}.{name}", f"now {renamed[name]}")
        else:
            yield Change(True, "removed field", f"{where}.{name}")
    for name in sorted(added - set(renamed.values())):
        if name in new_required:
            yield Change(sends, "new required field", f"{where}.{name}")
        else:
            yield Change(False, "added field", f"{where}.{name}")
    for name in sorted(old_props.keys() & new_props.keys()):
        field = f"{where}.{name}"
        if name in new_required and name not in old_required:
            yield Change(sends, "became required", field)
        elif name in old_required and name not in new_required:
            yield Change(reads, "became optional", field)
        yield from compare_node(field, old_props[name], new_props[name], directions)


def pair_renames(removed: Mapping[Any, Any], added: Mapping[Any, Any]) -> dict[Any, Any]:
    """Removed key -> added key where exactly one of each has the same definition."""
    pairs: dict[Any, Any] = {}
    for old_key, definition in removed.items():
        same = [key for key, other in added.items() if other == definition]
        twins = [key for key, other in removed.items() if other == definition]
        if len(same) == 1 and len(twins) == 1:
            pairs[old_key] = same[0]
    return pairs


def type_set(schema: Json) -> frozenset[str]:
    """The kinds of value a schema admits, by name: `string`, `null`, `ref:Billing`, ..."""
    if "$ref" in schema:
        return frozenset({"ref:" + str(schema["$ref"]).rsplit("/", 1)[-1]})
    if "const" in schema:
        return frozenset({"const:" + json.dumps(schema["const"])})
    members = [*schema.get("anyOf", []), *schema.get("oneOf", [])]
    if members:
        return frozenset().union(*(type_set(member) for member in members))
    kind = schema.get("type")
    if kind is None:
        return frozenset({"any"})
    names = {kind} if isinstance(kind, str) else set(kind)
    if "integer" in names and "number" in names:
        names.discard("integer")
    return frozenset(names)


def describe(schema: Json | None) -> str:
    if schema is None:
        return "nothing"
    return " | ".join(sorted(type_set(schema)))


# --- references and directions ----------------------------------------------------------------


def deref(spec: Json, node: Any) -> Any:
    """A node with local `$ref`s (of components other than schemas) followed."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        reference = str(node["$ref"])
        if not reference.startswith("#/") or reference.startswith("#/components/schemas/"):
            return node
        target: Any = spec
        for part in reference[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {})
        node, seen = target, seen + 1
    return node


def directions_of(spec: Json, schema_name: str) -> frozenset[str]:
    """Whether the client sends the named schema, reads it, or both (from the operations)."""
    found: set[str] = set()
    for _, _, operation in operations(spec).values():
        sent: list[Any] = [deref(spec, p).get("schema") for p in operation["parameters"]]
        body = deref(spec, operation.get("requestBody"))
        if body:
            sent.append(body_schema(body))
        if schema_name in reachable(spec, sent):
            found.add(REQUEST)
        answered = list(success_responses(spec, operation).values())
        if schema_name in reachable(spec, answered):
            found.add(RESPONSE)
    return frozenset(found)


def reachable(spec: Json, roots: Iterable[Any]) -> set[str]:
    """Names of the component schemas that the given schemas refer to, transitively."""
    schemas = named_schemas(spec)
    names: set[str] = set()
    stack = [root for root in roots if root is not None]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/components/schemas/"):
                name = reference.rsplit("/", 1)[-1]
                if name not in names and name in schemas:
                    names.add(name)
                    stack.append(schemas[name])
            stack.extend(value for key, value in node.items() if key != "$ref")
    return names
