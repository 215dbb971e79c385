"""Calls of the generated client built from the spec, not from a hand-written table: for a
case drawn by schemathesis, the operation's module, and its arguments as the client names
them. An operation, a query parameter or a body model added to the spec needs no edit here."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable
from types import ModuleType
from typing import Any, cast

from dateutil.parser import isoparse
from schemathesis import Case

from paygentic_client import AuthenticatedClient, models
from support.property_support import json_object
from support.spec_support import python_name, resolve, spec_operations

PACKAGE = "paygentic_client.api.usage_events"


def operation_ids() -> list[str]:
    return list(spec_operations())


def module_of(operation_id: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{python_name(operation_id)}")


def is_idempotent(operation_id: str) -> bool:
    """Whether sending it twice gives the same answer: a GET, or a body with an
    idempotencyKey (in it, or in its items). A refund is not: the second one is a 422."""
    method, _, operation = spec_operations()[operation_id]
    if method == "get":
        return True
    body = resolve_body_schema(operation)
    return body is not None and "idempotencyKey" in str(resolve_all(body))


def resolve_body_schema(operation: dict[str, Any]) -> dict[str, Any] | None:
    body = operation.get("requestBody")
    if body is None:
        return None
    schema: dict[str, Any] = resolve(body)["content"]["application/json"]["schema"]
    return schema


def resolve_all(node: Any, depth: int = 0) -> Any:
    """node with every local $ref replaced by its target (to a depth: the spec has no cycles)."""
    if depth > 20:
        return node
    if isinstance(node, dict):
        if "$ref" in node:
            return resolve_all(resolve(node), depth + 1)
        return {key: resolve_all(value, depth + 1) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve_all(item, depth + 1) for item in node]
    return node


def arguments(case: Case[Any]) -> dict[str, Any]:
    """The keyword arguments of the operation's functions for a case."""
    operation_id = case.operation.definition.raw["operationId"]
    _, _, operation = spec_operations()[operation_id]
    kwargs: dict[str, Any] = {}
    for parameter in operation["parameters"]:
        given = (case.path_parameters if parameter["in"] == "path" else case.query) or {}
        if parameter["name"] in given:
            value = given[parameter["name"]]
            kwargs[python_name(parameter["name"])] = argument(parameter["schema"], value)
    body = resolve_body_schema(operation)
    if body is not None:
        model = getattr(models, body_model_name(operation_id, body))
        kwargs["body"] = model.from_dict(json_object(case))
    return kwargs


def argument(schema: dict[str, Any], value: Any) -> Any:
    """A drawn query or path value as the client takes it."""
    schema = resolve(schema)
    if schema.get("format") == "date-time" and isinstance(value, str):
        return isoparse(value)
    # Schemathesis may draw an integer as a whole float such as 628.0.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def body_model_name(operation_id: str, schema: dict[str, Any]) -> str:
    """The model class of a request body: its schema's name, or the generator's name for an
    inline body."""
    reference = schema.get("$ref")
    if isinstance(reference, str):
        return reference.rsplit("/", 1)[-1]
    return operation_id[0].upper() + operation_id[1:] + "Body"


def call_sync(client: AuthenticatedClient, case: Case[Any]) -> Any:
    operation_id = case.operation.definition.raw["operationId"]
    return module_of(operation_id).sync(client=client, **arguments(case))


def call_async(client: AuthenticatedClient, case: Case[Any]) -> Awaitable[Any]:
    operation_id = case.operation.definition.raw["operationId"]
    return cast(Awaitable[Any], module_of(operation_id).asyncio(client=client, **arguments(case)))
