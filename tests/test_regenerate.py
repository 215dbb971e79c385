"""scripts/regenerate on a temporary copy of the repository: the drift check catches edits."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Everything scripts/regenerate reads or writes; .venv is linked, not copied.
NEEDED = [
    "openapi.yaml",
    "generator-config.yaml",
    "pyproject.toml",
    "scripts/regenerate",
    "scripts/regenerate.py",
    "scripts/templates",
    "paygentic_client",
    "sandbox/paygentic_sandbox/openapi.yaml",
]


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    for name in NEEDED:
        source, target = REPO / name, tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    return tmp_path


def regenerate(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(repo / "scripts" / "regenerate"), *args],
        env={**os.environ, "PAYGENTIC_BOOTSTRAPPED": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_drift_check_fails_on_a_hand_edit_and_regenerate_repairs_it(repo_copy: Path) -> None:
    edited = repo_copy / "paygentic_client" / "models" / "usage_event.py"
    edited.write_text(edited.read_text().replace("customer_id", "customer_ident"))
    hand_written = repo_copy / "paygentic_client" / "errors.py"
    hand_written.write_text(hand_written.read_text() + "# a hand-written change\n")

    check = regenerate(repo_copy, "--check")

    assert check.returncode == 1, check.stdout + check.stderr
    assert "--- committed/paygentic_client/models/usage_event.py" in check.stdout
    assert "-        customer_ident" in check.stdout
    # Only the edited file differs: the copy is otherwise exactly what the generator writes,
    # and errors.py is hand-written: the check leaves it alone.
    assert check.stdout.count("--- committed/") == 1
    assert "must not be edited by hand" in check.stderr

    rewrite = regenerate(repo_copy)

    assert rewrite.returncode == 0, rewrite.stdout + rewrite.stderr
    assert edited.read_text() == (REPO / "paygentic_client/models/usage_event.py").read_text()
    assert hand_written.read_text().endswith("# a hand-written change\n")
    assert not list(repo_copy.glob(".regenerate-*")), "the temporary directory is removed"
    assert not list(repo_copy.rglob(".ruff_cache"))


def test_a_spec_change_reaches_the_sandbox_copy_through_regenerate_alone(repo_copy: Path) -> None:
    spec = repo_copy / "openapi.yaml"
    spec.write_text(spec.read_text().replace("title:", "title: Changed", 1))
    sandbox_copy = repo_copy / "sandbox" / "paygentic_sandbox" / "openapi.yaml"

    stale = regenerate(repo_copy, "--check")
    assert stale.returncode == 1
    assert "sandbox/paygentic_sandbox/openapi.yaml is not a copy of openapi.yaml" in stale.stderr

    assert regenerate(repo_copy).returncode == 0
    assert sandbox_copy.read_bytes() == spec.read_bytes()
    assert regenerate(repo_copy, "--check").returncode == 0
