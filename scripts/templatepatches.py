"""The template overrides as stock file + recorded patch; used by scripts/regenerate.

Every override in scripts/templates/ replaces a stock template of the pinned
openapi-python-client whole. scripts/templates-stock/ keeps a byte copy of each stock file
it was forked from, and scripts/template-patches/<path>.patch the unified diff stock ->
override (`patch -o override stock < <path>.patch` rebuilds it). `record` (write mode)
rewrites the patches from the overrides; `problems` (--check) lists every way the three
trees disagree with each other or with the installed generator. The upgrade procedure is in
scripts/templates/README.md.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import openapi_python_client

SCRIPTS = Path(__file__).resolve().parent
OVERRIDES = SCRIPTS / "templates"
STOCK = SCRIPTS / "templates-stock"
PATCHES = SCRIPTS / "template-patches"
# The templates of the generator installed in .venv (the pinned version).
INSTALLED = Path(openapi_python_client.__file__).resolve().parent / "templates"
PATCH_SUFFIX = ".patch"


def overrides() -> list[str]:
    """The overrides' paths relative to scripts/templates/ (README.md is not a template)."""
    return sorted(path.relative_to(OVERRIDES).as_posix() for path in OVERRIDES.rglob("*.jinja"))


def patch_text(relative: str) -> str:
    """The unified diff stock -> override of one template, as it is recorded."""
    stock = (STOCK / relative).read_text().splitlines(keepends=True)
    override = (OVERRIDES / relative).read_text().splitlines(keepends=True)
    lines = difflib.unified_diff(
        stock, override, f"templates-stock/{relative}", f"templates/{relative}"
    )
    # difflib leaves a last line without its newline as is; patch(1) wants the marker.
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def patch_path(relative: str) -> Path:
    return PATCHES / (relative + PATCH_SUFFIX)


def _stock_problem(relative: str) -> str | None:
    """Why the stock copy of one override cannot be trusted, or None."""
    installed = INSTALLED / relative
    if not installed.is_file():
        return (
            f"scripts/templates/{relative} overrides no template of the installed "
            f"openapi-python-client ({installed} does not exist): rename or remove it"
        )
    stock = STOCK / relative
    if not stock.is_file():
        return (
            f"scripts/templates/{relative} has no stock copy scripts/templates-stock/{relative}: "
            "run scripts/regenerate to record it"
        )
    if stock.read_bytes() != installed.read_bytes():
        return (
            f"scripts/templates-stock/{relative} differs from the installed generator's "
            f"{installed}: the generator was upgraded (or the copy edited); follow the "
            "upgrade procedure in scripts/templates/README.md"
        )
    return None


def _orphans() -> list[str]:
    """Stock copies and patches that belong to no override."""
    wanted = set(overrides())
    found = [
        f"scripts/templates-stock/{path.relative_to(STOCK).as_posix()}"
        for path in sorted(STOCK.rglob("*"))
        if path.is_file() and path.relative_to(STOCK).as_posix() not in wanted
    ]
    found += [
        f"scripts/template-patches/{path.relative_to(PATCHES).as_posix()}"
        for path in sorted(PATCHES.rglob("*"))
        if path.is_file()
        and path.relative_to(PATCHES).as_posix().removesuffix(PATCH_SUFFIX) not in wanted
    ]
    return found


def problems() -> list[str]:
    """Every disagreement between overrides, stock copies, patches and the generator."""
    found: list[str] = []
    for relative in overrides():
        stock_problem = _stock_problem(relative)
        if stock_problem:
            found.append(stock_problem)
            continue
        recorded = patch_path(relative)
        if not recorded.is_file() or recorded.read_text() != patch_text(relative):
            found.append(
                f"scripts/templates/{relative} is not scripts/templates-stock/{relative} plus "
                f"its recorded patch scripts/template-patches/{relative}{PATCH_SUFFIX}: "
                "run scripts/regenerate to record the change"
            )
    found += [f"{path} belongs to no override: run scripts/regenerate" for path in _orphans()]
    return found


def record() -> list[str]:
    """Write the stock copies that are missing and every patch; the problems left, if any.

    A stock copy that differs from the installed generator is never overwritten: it is the
    merge base of an upgrade, which only the upgrade procedure may replace.
    """
    blocking: list[str] = []
    for relative in overrides():
        if (INSTALLED / relative).is_file() and not (STOCK / relative).is_file():
            (STOCK / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(INSTALLED / relative, STOCK / relative)
        stock_problem = _stock_problem(relative)
        if stock_problem:
            blocking.append(stock_problem)
            continue
        patch_path(relative).parent.mkdir(parents=True, exist_ok=True)
        patch_path(relative).write_text(patch_text(relative))
    for orphan in _orphans():
        (SCRIPTS.parent / orphan).unlink()
    return blocking
