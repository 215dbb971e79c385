"""The user test file of docs/sandbox/testing.md (docs/examples/test_usage_billing.py) passes,
as a user runs it: with pytest, the plugin of paygentic-sandbox its only set-up; here, and in
a fresh virtualenv that holds nothing but the sandbox, the client, pytest and httpx.

The fresh virtualenv is made offline from uv's cache, as `scripts/bootstrap` left it (tests
reach nothing but loopback): the packages are those of uv.lock's dependency graph from those
four (written as a PEP 751 pylock.toml, which uv installs without asking an index), then the
two distributions from the checkout, non-editable, without resolving; `uv pip check` then
proves that what they declare is what is there. ~20 s: slow tier.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "test_usage_billing.py"
PAGE = ROOT / "docs" / "sandbox" / "testing.md"
# What the page tells a user to install (the client comes from the checkout here).
INSTALLED = ("paygentic-sandbox", "paygentic-client", "pytest", "httpx")


def test_the_page_shows_the_file_that_runs() -> None:
    assert f'--8<-- "{EXAMPLE.relative_to(ROOT)}"' in PAGE.read_text()


def _run_example(python: str, directory: Path, env: dict[str, str]) -> None:
    shutil.copy(EXAMPLE, directory / EXAMPLE.name)
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", EXAMPLE.name],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b4 passed\b", result.stdout), result.stdout


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_user_file_passes(tmp_path: Path) -> None:
    _run_example(sys.executable, tmp_path, dict(os.environ))


def _uv() -> str:
    uv = shutil.which(
        "uv", path=f"{Path.home() / '.local' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    )
    if uv is None:
        pytest.fail("uv is not installed: run scripts/bootstrap")
    return uv


def _closure(roots: tuple[str, ...]) -> set[str]:
    """The names of `roots` and of everything they need at run time, by uv.lock."""
    packages = {p["name"]: p for p in tomllib.loads((ROOT / "uv.lock").read_text())["package"]}
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [dependency["name"] for dependency in packages[name].get("dependencies", [])]
    return seen


def _pylock(directory: Path, names: set[str]) -> Path:
    """uv.lock's entries of `names` as a pylock.toml (wheel URLs and hashes: no resolution)."""
    everything = directory / "all" / "pylock.toml"
    everything.parent.mkdir()
    subprocess.run(
        [_uv(), "export", "--frozen", "--quiet", "--format", "pylock.toml", "--all-packages"]
        + ["--all-groups", "--no-emit-workspace", "--output-file", str(everything)],
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    head, *entries = everything.read_text().split("\n[[packages]]\n")
    kept = [e for e in entries if re.match(r'name = "([^"]+)"', e).group(1) in names]  # type: ignore[union-attr]
    chosen = directory / "pylock.toml"
    chosen.write_text("\n[[packages]]\n".join([head, *kept]))
    return chosen


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_user_file_passes_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    python = str(venv / "bin" / "python")
    uv = _uv()
    wanted = _closure(INSTALLED)
    lock = _pylock(tmp_path, wanted - {"paygentic-sandbox", "paygentic-client"})

    def uv_run(*args: str) -> str:
        result = subprocess.run([uv, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    uv_run("venv", "--quiet", "--python", sys.executable, str(venv))
    uv_run("pip", "install", "--offline", "--quiet", "--python", python, "-r", str(lock))
    uv_run(
        "pip", "install", "--offline", "--quiet", "--no-deps", "--python", python, "./sandbox", "."
    )
    uv_run("pip", "check", "--python", python)
    listed = uv_run("pip", "list", "--python", python, "--format", "freeze")
    assert {line.split("==")[0].lower() for line in listed.split()} == wanted

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    work = tmp_path / "user"
    work.mkdir()
    _run_example(python, work, env)
