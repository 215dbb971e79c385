"""scripts/lint-spec names a broken $ref and where it is, rather than printing the spec."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
