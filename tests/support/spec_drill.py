"""A temporary checkout in which to change the spec as a user would: edit openapi.yaml, run
scripts/regenerate, run tests. The drills of tests/spec/test_spec_drills.py use it.

The checkout holds the tracked files that regeneration and the tests read (not the Node
tools) and links this checkout's .venv. The .venv has this checkout's packages
installed in editable mode, so every Python started in the copy gets PYTHONPATH pointing at
the copy's `paygentic_client` and `paygentic_sandbox` first.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COPIED = [
    "openapi.yaml",
    "generator-config.yaml",
    "pyproject.toml",
    "schemathesis.toml",
    "CHANGELOG.md",
    "scripts",
    "paygentic_client",
    "sandbox",
    "tests",
    # tests/tools/test_readme.py reads the pages at collection.
    "README.md",
    "docs",
]
IGNORED = shutil.ignore_patterns("__pycache__", ".ruff_cache", ".mypy_cache", ".pytest_cache")


def checkout(target: Path) -> Path:
    """A copy of what regeneration and the tests need, under target."""
    for name in COPIED:
        source, copy = REPO / name, target / name
        if source.is_dir():
            shutil.copytree(source, copy, ignore=IGNORED)
        else:
            shutil.copy2(source, copy)
    (target / ".venv").symlink_to(REPO / ".venv")
    return target


def environment(copy: Path) -> dict[str, str]:
    paths = [str(copy), str(copy / "sandbox"), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "PAYGENTIC_BOOTSTRAPPED": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, paths)),
    }


def edit_spec(copy: Path, change: Callable[[dict[str, Any]], object]) -> None:
    """Change the copy's openapi.yaml as data (comments and anchors are not kept)."""
    spec = copy / "openapi.yaml"
    document = yaml.safe_load(spec.read_text())
    change(document)
    spec.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100))


def run(copy: Path, *command: str, timeout: float = 280) -> subprocess.CompletedProcess[str]:
    """command in the copy; on a timeout its whole process group is killed (a pytest run
    leaves no sandbox process behind) and the timeout raised."""
    with subprocess.Popen(
        list(command),
        cwd=copy,
        env=environment(copy),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def regenerate(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(copy, str(copy / "scripts" / "regenerate"), *args)


def pytest(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in the copy, with a line per failure (`FAILED path::test - message`)."""
    python = str(REPO / ".venv" / "bin" / "python")
    return run(copy, python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", *args)


def failures(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The `FAILED ...` and `ERROR ...` lines of a pytest run's short summary."""
    return [
        line
        for line in done.stdout.splitlines()
        if line.startswith("FAILED ") or line.startswith("ERROR ")
    ]
