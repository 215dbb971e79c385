"""scripts/regenerate on a temporary copy of the repository: the drift check catches edits."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Everything scripts/regenerate reads or writes; .venv is linked, not copied.
NEEDED = [
    "openapi.yaml",
    "generator-config.yaml",
    "pyproject.toml",
    "scripts/regenerate",
    "scripts/regenerate.py",
    "scripts/templatepatches.py",
    "scripts/specdiff.py",
    "scripts/spec_report.py",
    "CHANGELOG.md",
    "scripts/templates",
    "scripts/templates-stock",
    "scripts/template-patches",
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


TYPES = "types.py.jinja"


def patch_of(repo: Path, relative: str) -> Path:
    return repo / "scripts" / "template-patches" / f"{relative}.patch"


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
    assert "-    customer_ident: str" in check.stdout
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


def test_every_override_is_its_stock_copy_plus_its_recorded_patch() -> None:
    """The recorded patches are ordinary unified diffs: patch(1) rebuilds each override."""
    patch = shutil.which("patch")
    if patch is None:
        pytest.skip("patch(1) is not installed")
    overrides = sorted((REPO / "scripts" / "templates").rglob("*.jinja"))
    assert len(overrides) >= 9
    for override in overrides:
        relative = override.relative_to(REPO / "scripts" / "templates").as_posix()
        rebuilt = subprocess.run(
            [patch, "--silent", "--output=-", str(REPO / "scripts" / "templates-stock" / relative)],
            stdin=patch_of(REPO, relative).open(),
            capture_output=True,
            text=True,
            check=True,
        )
        assert rebuilt.stdout == override.read_text(), relative


def test_the_check_catches_a_stale_patch_and_regenerate_records_it(repo_copy: Path) -> None:
    override = repo_copy / "scripts" / "templates" / TYPES
    # A Jinja comment: the template changes, the generated package does not.
    override.write_text("{# a new change #}" + override.read_text())

    check = regenerate(repo_copy, "--check")

    assert check.returncode == 1, check.stdout + check.stderr
    assert (
        f"scripts/templates/{TYPES} is not scripts/templates-stock/{TYPES} plus its recorded "
        f"patch scripts/template-patches/{TYPES}.patch" in check.stderr
    )
    assert check.stderr.count("scripts/templates/") == 1, "only the edited override is named"
    assert "is up to date" in check.stdout, "the generated package did not change"

    assert regenerate(repo_copy).returncode == 0
    assert "+{# a new change #}" in patch_of(repo_copy, TYPES).read_text()
    assert regenerate(repo_copy, "--check").returncode == 0


def test_the_check_and_regenerate_refuse_a_stock_copy_unlike_the_installed_one(
    repo_copy: Path,
) -> None:
    stock = repo_copy / "scripts" / "templates-stock" / TYPES
    stock.write_text(stock.read_text().replace("class Response", "class Reply"))
    patch = patch_of(repo_copy, TYPES)
    # Consistent with the tampered copy: only the comparison with the generator can tell.
    patch.write_text(patch.read_text().replace("class Response", "class Reply"))
    recorded = patch.read_text()

    for args in (["--check"], []):
        run = regenerate(repo_copy, *args)
        assert run.returncode == 1, (args, run.stdout + run.stderr)
        assert f"scripts/templates-stock/{TYPES} differs from the installed generator's" in (
            run.stderr
        )
        assert "upgrade procedure in scripts/templates/README.md" in run.stderr
    # Write mode keeps the merge base of an upgrade and records nothing against it.
    assert "class Reply" in stock.read_text()
    assert patch.read_text() == recorded


def test_the_check_names_an_override_without_a_stock_counterpart(repo_copy: Path) -> None:
    templates = repo_copy / "scripts" / "templates"
    stray = templates / "property_templates" / "no_such_property.py.jinja"
    stray.write_text("{# nothing #}\n")
    (repo_copy / "scripts" / "templates-stock" / "model.py.jinja").unlink()

    check = regenerate(repo_copy, "--check")

    assert check.returncode == 1
    assert (
        "scripts/templates/property_templates/no_such_property.py.jinja overrides no template "
        "of the installed openapi-python-client" in check.stderr
    )
    assert "scripts/templates/model.py.jinja has no stock copy" in check.stderr
    # Write mode restores the missing stock copy from the installed generator.
    stray.unlink()
    assert regenerate(repo_copy).returncode == 0
    assert regenerate(repo_copy, "--check").returncode == 0
