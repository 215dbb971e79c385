"""Check an HTTP response against openapi.yaml: a documented status, and a JSON body that
validates against that status's schema (formats such as date-time included) and, unless told
otherwise, against the strict reading of it (tests/support/strict_contract.py) that the official
TypeScript SDK applies."""

from __future__ import annotations

from typing import Any

import httpx

from support.spec_support import SPEC, resolve, validator_for
from support.strict_contract import strict_violations

OPERATIONS = {
    ("POST", "/v0/usage"): "createUsageEvent",
    ("GET", "/v0/usage"): "listUsageEvents",
    ("GET", "/v0/usage/{id}"): "getUsageEvent",
    ("PATCH", "/v0/usage/{id}"): "refundUsageEvent",
    ("POST", "/v0/usage/batch"): "batchCreateUsageEvents",
}


def _template(path: str) -> str:
    if path.startswith("/v0/usage/") and path != "/v0/usage/batch":
        return "/v0/usage/{id}"
    return path


def assert_conforms(response: httpx.Response, strict: bool = True) -> Any:
    """The response's JSON, after checking it against the operation's documented response
    (`strict`: and against the strict reading: no null for an optional field, no `code`
    outside production's list; a server with `--null-optionals` breaks the first on
    purpose)."""
    method, path = response.request.method, _template(response.request.url.path)
    assert (method, path) in OPERATIONS, f"{method} {path} is not an operation"
    responses = SPEC["paths"][path][method.lower()]["responses"]
    assert str(response.status_code) in responses, f"{response.status_code} undocumented"
    documented = resolve(responses[str(response.status_code)])
    assert response.headers["content-type"] == "application/json"
    schema = documented["content"]["application/json"]["schema"]
    body = response.json()
    validator = validator_for(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert errors == [], errors
    if strict:
        violations = strict_violations(method, path, response.status_code, body)
        assert violations == [], violations
    for name, header in documented.get("headers", {}).items():
        if resolve(header).get("required"):
            assert name in response.headers
    return body
