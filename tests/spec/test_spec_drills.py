"""The five spec changes a user makes most, in three temporary checkouts
(support/spec_drill.py): edit openapi.yaml as a person would, run scripts/regenerate, check what
it prints, then run the tests that read the spec. No test has a hand-written list of operations,
query names or fields that the change makes wrong; what fails is what the sandbox lacks (a
filter it has no rule for, an operation it has no handler for), with a message that says so.

Two changes share a checkout where they are alike (both additive and passing, or both failing
only where the sandbox lacks them): each regeneration and each test run costs seconds, and
each change's own report line, generated code and failure are still asserted one by one.

Slow: each drill regenerates the client (the generator and ruff: 5-40 s) and runs tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import support.spec_drill as spec_drill

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

# The tests that read the spec and the generated package; none starts a process.
SPEC_READERS = [
    "tests/spec/test_spec.py",
    "tests/spec/test_spec_descriptions.py",
    "tests/client/test_client_models.py",
    "tests/client/test_client_operations.py",
    "tests/client/test_client_public_face.py",
]
SANDBOX_LACKS = "is declared by the API's spec but this sandbox does not implement it"


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    yield spec_drill.checkout(tmp_path)


def insert(copy: Path, before: str, text: str) -> None:
    """Insert text before the one line of the copy's openapi.yaml that starts with `before`."""
    spec = copy / "openapi.yaml"
    lines = spec.read_text().splitlines(keepends=True)
    (index,) = [i for i, line in enumerate(lines) if line.startswith(before)]
    spec.write_text("".join(lines[:index]) + text + "".join(lines[index:]))


def regenerate(copy: Path) -> str:
    """scripts/regenerate in the copy, compared with this checkout's spec; its output."""
    done = spec_drill.regenerate(copy, "--against", str(spec_drill.REPO / "openapi.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "regenerated paygentic_client/" in done.stdout
    return done.stdout


def passes(copy: Path, *tests: str) -> None:
    done = spec_drill.pytest(copy, "-m", "not slow", *tests)
    assert done.returncode == 0, "\n".join(spec_drill.failures(done)) or done.stdout[-3000:]


def add_optional_field(copy: Path) -> None:
    insert(
        copy,
        "    RefundUsageEventRequest:",
        "        source:\n"
        "          description: |\n"
        "            Where the event came from, e.g. 'api' or 'import'.\n"
        '          type: [string, "null"]\n',
    )


def add_enum_value(copy: Path) -> None:
    spec = copy / "openapi.yaml"
    text = spec.read_text()
    old = "enum: [pending, accepted, declined]"
    assert text.count(old) == 1
    spec.write_text(text.replace(old, "enum: [pending, accepted, declined, escalated]"))


def add_query_parameter(copy: Path) -> None:
    spec = copy / "openapi.yaml"
    text = spec.read_text()
    anchor = "          example: sub_abc123xyz\n"
    assert text.count(anchor) == 1
    spec.write_text(
        text.replace(
            anchor,
            anchor + "        - name: billableMetricId\n"
            "          in: query\n"
            "          required: false\n"
            "          schema:\n"
            "            type: string\n"
            "            minLength: 1\n"
            "            description: Only events with this billable metric.\n",
        )
    )


def add_operation(copy: Path) -> None:
    insert(
        copy,
        "  /v0/usage/batch:",
        "    delete:\n"
        "      operationId: deleteUsageEvent\n"
        "      tags: [usageEvents]\n"
        "      summary: Delete\n"
        "      description: |\n"
        "        Deletes a usage event that is not billed yet.\n"
        "      security:\n"
        "        - bearerAuth: []\n"
        "      responses:\n"
        '        "204":\n'
        "          description: The event was deleted.\n"
        '        "401":\n'
        '          $ref: "#/components/responses/Unauthorized"\n'
        '        "404":\n'
        '          $ref: "#/components/responses/NotFound"\n'
        '        "429":\n'
        '          $ref: "#/components/responses/TooManyRequests"\n'
        '        "500":\n'
        '          $ref: "#/components/responses/InternalServerError"\n',
    )


def test_a_new_optional_field_and_a_new_enum_value_regenerate_and_everything_passes(
    checkout: Path,
) -> None:
    add_optional_field(checkout)
    add_enum_value(checkout)

    report = regenerate(checkout)

    assert "added field: UsageEvent.source" in report
    assert "added enum value: DisputeStatus.escalated" in report
    assert "BREAKING" not in report
    models = checkout / "paygentic_client" / "models"
    assert "source: None | str | Unset = UNSET" in (models / "usage_event.py").read_text()
    assert 'ESCALATED = "escalated"' in (models / "dispute_status.py").read_text()
    passes(checkout, *SPEC_READERS)


def test_a_new_query_parameter_and_a_new_operation_fail_only_where_the_sandbox_lacks_them(
    checkout: Path,
) -> None:
    add_query_parameter(checkout)
    add_operation(checkout)

    report = regenerate(checkout)

    assert "added parameter: listUsageEvents.billableMetricId (in query)" in report
    assert "added operation: deleteUsageEvent (DELETE /v0/usage/{id})" in report
    assert "BREAKING" not in report
    api = checkout / "paygentic_client" / "api" / "usage_events"
    assert "billable_metric_id: str | Unset = UNSET" in (api / "list_usage_events.py").read_text()
    assert (api / "delete_usage_event.py").is_file()
    passes(checkout, *SPEC_READERS)
    # The property test sends every documented parameter through the client, and calls every
    # documented operation (their names come from the spec): the sandbox refuses the new
    # filter and lacks the new operation, and says which, in a failure of each's own.
    done = spec_drill.pytest(
        checkout,
        "tests/property/test_property_client.py",
        "-k",
        "listUsageEvents or deleteUsageEvent",
    )
    assert done.returncode == 1, done.stdout[-3000:]
    failed = spec_drill.failures(done)
    assert any("listUsageEvents" in line for line in failed), failed
    assert any("deleteUsageEvent" in line for line in failed), failed
    assert "The query parameter billableMetricId" in done.stdout
    assert "The operation deleteUsageEvent (DELETE /v0/usage/{id})" in done.stdout
    assert done.stdout.count(SANDBOX_LACKS) >= 2
    assert "KeyError" not in done.stdout


def test_a_removed_field_is_reported_as_breaking_and_the_tests_follow(checkout: Path) -> None:
    spec = checkout / "openapi.yaml"
    text = spec.read_text()
    declaration = '        description:\n          type: [string, "null"]\n'
    start = text.index(declaration)
    text = text[:start] + text[text.index("        merchantId:", start) :]
    # The examples too, as scripts/lint-spec asks (each stale one with its line).
    kept = [line for line in text.splitlines(keepends=True) if not is_example_description(line)]
    spec.write_text("".join(kept))

    report = regenerate(checkout)

    assert "BREAKING for users of the client (1):" in report
    assert "removed field: UsageEvent.description" in report
    check = spec_drill.regenerate(
        checkout, "--check", "--against", str(spec_drill.REPO / "openapi.yaml")
    )
    assert check.returncode == 1
    assert "mention `UsageEvent.description` there" in check.stderr
    generated = (checkout / "paygentic_client" / "models" / "usage_event.py").read_text()
    assert "description" not in generated.split("def to_dict")[0].split('"""')[-1]
    passes(
        checkout,
        *SPEC_READERS,
        "tests/spec/test_lint_spec.py::test_every_example_of_the_spec_validates",
    )


def is_example_description(line: str) -> bool:
    """A `description:` with a value inside an example event (8 spaces in: in the spec's
    schemas a property's description is 10 spaces in)."""
    return line.startswith("        description: ") and line.strip() != "description: |"
