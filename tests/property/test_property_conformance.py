"""Server conformance: every operation of openapi.yaml against the sandbox, positive and
negative cases, every default check of schemathesis and the strict reading of the contract
(tests/support/strict_contract.py), with the real token (schemathesis.toml's
`headers`). The statuses the API prescribes that look like failures to the default checks are
declared per operation in schemathesis.toml."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from paygentic_sandbox import SandboxProcess
from schemathesis import Case
from support import strict_contract
from support.property_support import budget, count_case, load_schema

# Loaded at import: `schemathesis.pytest.from_fixture` crashes under pytest 9.
schema = load_schema()


@pytest.fixture(scope="module")
def base_url(property_sandbox: SandboxProcess) -> str:
    # The spec's server is production: point every request (and every check's probe) at the
    # sandbox instead.
    schema.config.update(base_url=property_sandbox.url)
    return property_sandbox.url


@schema.parametrize()
@settings(max_examples=budget(60))
def test_every_operation_conforms(case: Case[Any], base_url: str) -> None:
    count_case("test_every_operation_conforms")
    case.call_and_validate(
        base_url=base_url, additional_checks=[strict_contract.schemathesis_check]
    )
