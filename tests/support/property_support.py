"""Shared by the property tests (tests/property/test_property_*.py): openapi.yaml loaded by
schemathesis with the project's schemathesis.toml and the sandbox's token, their Hypothesis
profile and budgets, and a count of the cases each test ran (printed by tests/conftest.py at
the end of the session).

Hypothesis keeps the failing examples it finds in .hypothesis/examples/ at the repository root
(git-ignored), and replays them first on the next run, so a failure found once is not lost.

Budgets: each test states its usual number of examples with `budget(n)`; for a deep run set
PAYGENTIC_PROPERTY_EXAMPLES (a number of examples, used where it is larger than a test's own),
e.g. `PAYGENTIC_PROPERTY_EXAMPLES=2000 .venv/bin/pytest -m property` (what `scripts/fuzz --deep`
does after its schemathesis run).
"""

from __future__ import annotations

import datetime
import os
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import schemathesis
from dateutil.parser import isoparse
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase
from paygentic_sandbox import SandboxProcess
from schemathesis import Case
from schemathesis.specs.openapi.schemas import OpenApiSchema

from support.sandbox_fixture import MERCHANT_ID, TOKEN, TOKENS

ROOT = Path(__file__).resolve().parents[2]

# Cases run per test, by test name.
CASES: Counter[str] = Counter()

EXAMPLES_VARIABLE = "PAYGENTIC_PROPERTY_EXAMPLES"
# Where Hypothesis would put it when run from the root, but also when pytest runs elsewhere.
EXAMPLE_DATABASE = ROOT / ".hypothesis" / "examples"


def register_hypothesis_profile() -> None:
    # No per-example deadline and no "generation is slow" check: both measure this machine's
    # load (a busy 2-core CI runner failed a request-body test on them), not the code; every
    # test keeps its pytest timeout.
    settings.register_profile(
        "paygentic",
        database=DirectoryBasedExampleDatabase(str(EXAMPLE_DATABASE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile("paygentic")


def budget(usual: int, environ: Mapping[str, str] = os.environ) -> int:
    """A test's number of examples: `usual`, or PAYGENTIC_PROPERTY_EXAMPLES where larger."""
    text = environ.get(EXAMPLES_VARIABLE, "").strip()
    if not text:
        return usual
    try:
        deep = int(text)
    except ValueError:
        raise ValueError(f"{EXAMPLES_VARIABLE}={text!r} is not a whole number") from None
    if deep < 1:
        raise ValueError(f"{EXAMPLES_VARIABLE}={text!r} must be at least 1")
    return max(usual, deep)


@pytest.fixture(scope="session")
def property_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """A sandbox of the property tests' own: their thousands of random events stay out of the
    shared `sandbox` of the other tests."""
    db = tmp_path_factory.mktemp("property-sandbox") / "sandbox.db"
    with SandboxProcess(db=db, tokens=TOKENS) as server:
        yield server


@pytest.fixture(scope="session")
def null_optionals_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """Like `property_sandbox`, but sending null for optional fields without a value
    (`--null-optionals`), as production's published examples do."""
    db = tmp_path_factory.mktemp("null-optionals-sandbox") / "sandbox.db"
    with SandboxProcess(db=db, tokens=TOKENS, null_optionals=True) as server:
        yield server


# The seed of `drift_sandbox`: the names of its extra fields and its unknown dispute status.
DRIFT_SEED = 25


@pytest.fixture(scope="session")
def drift_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    """Like `property_sandbox`, but answering as a newer API might (`--drift DRIFT_SEED`:
    fields the spec does not define in every object, dispute statuses it does not list)."""
    db = tmp_path_factory.mktemp("drift-sandbox") / "sandbox.db"
    drift = ["--drift", str(DRIFT_SEED)]
    with SandboxProcess(db=db, tokens=TOKENS, extra_args=drift) as server:
        yield server


@pytest.fixture(scope="module", params=["absent", "null"])
def client_sandbox(request: pytest.FixtureRequest) -> SandboxProcess:
    """The sandbox of the tests that read responses through the client, once with each shape
    of the optional fields that have no value: left out (the default) and null. A client
    must read both: production's schema says the first, its examples show the second."""
    name = "property_sandbox" if request.param == "absent" else "null_optionals_sandbox"
    server: SandboxProcess = request.getfixturevalue(name)
    return server


def load_schema() -> OpenApiSchema:
    """openapi.yaml with schemathesis.toml, whose `${...}` placeholders name the token and its
    merchant: resolved here to the sandbox fixture's, without touching the process
    environment. The toml's paths are relative to the repository root: made absolute here, so
    that pytest may run from anywhere."""
    data = tomllib.loads((ROOT / "schemathesis.toml").read_text())
    data["hooks"] = str(ROOT / data["hooks"])
    env = {"PAYGENTIC_BEARER_AUTH": TOKEN, "PAYGENTIC_MERCHANT_ID": MERCHANT_ID}
    with mock.patch.dict(os.environ, env):
        # The hooks file reads the merchant when it is loaded, here.
        config = schemathesis.Config.from_dict(data)
    return schemathesis.openapi.from_path(ROOT / "openapi.yaml", config=config)


def count_case(test_name: str) -> None:
    CASES[test_name] += 1


def scope_idempotency_keys(body: object, scope: str) -> None:
    """Suffix every (valid) idempotency key of a create or batch body with `scope`, in place.

    The sandbox keeps every event, so a scenario Hypothesis replays would otherwise meet the
    events of its first run (already refunded, say), answer differently, and Hypothesis would
    report the scenario as flaky. Keys stay within the spec's 1-255 characters; an invalid key
    (of a negative case) is left as it is.
    """
    bodies = body.get("events") if isinstance(body, dict) and "events" in body else [body]
    for event in bodies if isinstance(bodies, list) else []:
        key = event.get("idempotencyKey") if isinstance(event, dict) else None
        if isinstance(key, str) and 1 <= len(key) <= 255:
            event["idempotencyKey"] = key[: 254 - len(scope)] + "~" + scope


def assert_same_json(actual: Any, expected: Any, where: str = "$") -> None:
    """`actual` equals `expected`, except that two strings that are equal date-times (such as
    `...Z` and `...+00:00`) count as equal."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        assert actual.keys() == expected.keys(), (
            f"{where}: keys {actual.keys()} != {expected.keys()}"
        )
        for key, value in expected.items():
            assert_same_json(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not an array"
        assert len(actual) == len(expected), f"{where}: {len(actual)} items, not {len(expected)}"
        for index, (left, right) in enumerate(zip(actual, expected, strict=True)):
            assert_same_json(left, right, f"{where}[{index}]")
    elif isinstance(expected, str) and isinstance(actual, str) and actual != expected:
        assert _same_instant(actual, expected), f"{where}: {actual!r} != {expected!r}"
    else:
        # bool is an int in Python: compare types too, so that `true` never equals `1`.
        assert actual == expected and isinstance(actual, bool) == isinstance(expected, bool), (
            f"{where}: {actual!r} != {expected!r}"
        )


def _same_instant(left: str, right: str) -> bool:
    try:
        return _instant(left) == _instant(right)
    except ValueError:
        return False


def _instant(text: str) -> datetime.datetime:
    return isoparse(text)


def json_object(case: Case[Any]) -> dict[str, Any]:
    """The case's body, which for a positive case of this spec is always a JSON object."""
    assert isinstance(case.body, dict), f"not a JSON object: {case.body!r}"
    return case.body
