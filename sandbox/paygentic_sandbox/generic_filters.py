"""List filters the spec declares and no code of this server was written for.

A query parameter of listUsageEvents that names a top-level field of the UsageEvent schema
(say a spec adds `region` to both) means "only events whose field equals this value": the
sandbox applies it without hand code, as an equality on the stored event. Any other declared
parameter without a rule here (`billableMetricId`, which is inside `properties`) is refused by
name: ignoring a filter would answer with wrong data.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from typing import Any

from paygentic_sandbox import spec
from paygentic_sandbox.errors import bad_request
from paygentic_sandbox.spec import QueryParameter

# The list's query parameters this server implements by hand (app.py).
HAND_WRITTEN = frozenset(
    {"startTime", "endTime", "limit", "offset"}
    | {"customerId", "merchantId", "consumerId", "subscriptionId"}
)
# A name that can stand in a JSON path unquoted; the spec's names are of this kind.
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Fields whose value is an object or an array: no equality with a query string's value.
_SCALAR_TYPES = frozenset({"string", "number", "integer", "boolean"})


@spec.derived
def equality_fields() -> frozenset[str]:
    """The top-level UsageEvent fields with a scalar value, usable as equality filters."""
    event = spec.resolve({"$ref": "#/components/schemas/UsageEvent"})
    fields = set()
    for name, schema in event.get("properties", {}).items():
        kinds = spec.resolve(schema).get("type")
        kinds = {kinds} if isinstance(kinds, str) else set(kinds or ())
        if _FIELD_NAME.match(name) and kinds - {"null"} and kinds - {"null"} <= _SCALAR_TYPES:
            fields.add(name)
    return frozenset(fields)


def refuse_unimplemented(parameters: Sequence[QueryParameter], given: Container[str]) -> None:
    """400, by name, for a given parameter the spec declares that is neither hand-written
    here nor a top-level field of the event (checked before the query's schema is)."""
    for parameter in parameters:
        name = parameter.name
        if name in given and name not in HAND_WRITTEN and name not in equality_fields():
            raise bad_request(
                f"The query parameter {name} is declared by the API's spec but this sandbox "
                "does not implement it (it is not a top-level field of the usage event, which "
                "the sandbox would filter on by equality); it is refused rather than ignored."
            )


def requested(
    parameters: Sequence[QueryParameter], query: Mapping[str, Any]
) -> tuple[tuple[str, Any], ...]:
    """The generic equality filters of a valid query (its values as the JSON its schema
    describes), as (field, value) pairs in a stable order."""
    return tuple(
        sorted(
            (parameter.name, query[parameter.name])
            for parameter in parameters
            if parameter.name not in HAND_WRITTEN and parameter.name in query
        )
    )


__all__ = ["HAND_WRITTEN", "equality_fields", "refuse_unimplemented", "requested"]
