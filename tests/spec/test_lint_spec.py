"""scripts/lint-spec names a broken $ref and where it is, rather than printing the spec."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from support.scripts_modules import load

spec_examples = load("spec_examples")

ROOT = Path(__file__).resolve().parents[2]
GOOD_REF = '$ref: "#/components/schemas/ValidationError"'


def lint(spec: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "scripts" / "lint-spec"), str(spec)],
        env={**os.environ, "PAYGENTIC_BOOTSTRAPPED": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_ref_to_a_missing_schema_is_named_with_its_place(tmp_path: Path) -> None:
    text = (ROOT / "openapi.yaml").read_text()
    assert text.count(GOOD_REF) == 1
    line = text[: text.index(GOOD_REF)].count("\n") + 1
    spec = tmp_path / "spec.yaml"
    spec.write_text(text.replace(GOOD_REF, GOOD_REF.replace("ValidationError", "Nowhere")))

    done = lint(spec)

    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert (
        f"{spec}:{line}: /components/responses/BadRequest/content/application~1json/schema/"
        "oneOf/0/$ref: '#/components/schemas/Nowhere' does not resolve "
        '(no "Nowhere" under /components/schemas)'
    ) in output
    assert max(len(row) for row in output.splitlines()) < 400  # not the spec on one line


def test_a_ref_to_a_missing_file_is_named(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "openapi: 3.1.0\n"
        "info: {title: t, version: '1'}\n"
        "paths: {}\n"
        "components:\n"
        "  schemas:\n"
        "    Thing:\n"
        "      $ref: 'shared.yaml#/Thing'\n"
    )

    done = lint(spec)

    assert done.returncode != 0
    assert f"{spec}:7: /components/schemas/Thing/$ref: 'shared.yaml#/Thing'" in done.stderr
    assert f"(no file {tmp_path / 'shared.yaml'})" in done.stderr


def without_description(tmp_path: Path) -> Path:
    """The drill "removed field": `description` leaves the UsageEvent schema, not the examples
    (nine of them, through the shared components/examples and the YAML anchors)."""
    text = (ROOT / "openapi.yaml").read_text()
    declaration = '        description:\n          type: [string, "null"]\n'
    assert text.count(declaration) == 1
    start = text.index(declaration)
    end = text.index("        merchantId:", start)
    spec = tmp_path / "spec.yaml"
    spec.write_text(text[:start] + text[end:])
    return spec


def test_every_example_of_the_spec_validates() -> None:
    assert spec_examples.problems(ROOT / "openapi.yaml") == []


def test_a_stale_example_is_found_in_each_place_it_is_used(tmp_path: Path) -> None:
    found = spec_examples.problems(without_description(tmp_path))

    assert len(found) == 9
    assert all("('description' was unexpected)" in line for line in found)
    assert any("/examples/page: at /data/0:" in line for line in found)


@pytest.mark.slow
def test_lint_spec_names_a_stale_example_with_its_line_and_pointer(tmp_path: Path) -> None:
    spec = without_description(tmp_path)
    example = spec.read_text().index("  examples:\n    BilledUsageEvent:")
    line = spec.read_text()[:example].count("\n") + 4  # the first line of its value

    done = lint(spec)

    assert done.returncode != 0
    assert (
        f"{spec}:{line}: /paths/~1v0~1usage/post/responses/201/content/application~1json/"
        "examples/billed (#/components/examples/BilledUsageEvent): at /: Additional properties "
        "are not allowed ('description' was unexpected)"
    ) in done.stderr
    assert "9 violation(s) in the examples of" in done.stderr
