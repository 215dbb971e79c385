"""Operations the spec declares and no code of this server was written for.

After a spec change (a new `DELETE /v0/usage/{id}`, say) the sandbox still answers such a
request 405, as it must not pretend to do what it does not, but says why: the operation is
declared, and this sandbox lacks it. A failing test or fuzz run then points at the sandbox's
missing semantics, not at the client.
"""

from __future__ import annotations

import re

from paygentic_sandbox import spec

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@spec.derived
def declared_operations() -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> operationId of every operation of the spec."""
    found = {}
    for template, item in spec.spec().get("paths", {}).items():
        for method in METHODS:
            if isinstance(item, dict) and method in item:
                operation = item[method]
                found[(method.upper(), template)] = operation.get("operationId", "")
    return found


def not_implemented_message(method: str, template: str) -> str | None:
    """Why a method this server has no handler for is refused, if the spec declares it."""
    operation_id = declared_operations().get((method, template))
    if operation_id is None:
        return None
    return (
        f"The operation {operation_id} ({method} {template}) is declared by the API's spec "
        "but this sandbox does not implement it."
    )


def unrouted_message(method: str, path: str) -> str | None:
    """Why a path this server has no route for is refused, if the spec declares an operation
    there (a new path such as `/v0/usage/{id}/disputes`)."""
    for (declared_method, template), _ in declared_operations().items():
        pattern = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
        if declared_method == method and re.fullmatch(pattern, path):
            return not_implemented_message(method, template)
    return None


__all__ = ["declared_operations", "not_implemented_message", "unrouted_message"]
