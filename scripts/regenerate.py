"""Generate paygentic_client/ from openapi.yaml; run through scripts/regenerate.

Before anything is written, it prints what the change of openapi.yaml means to a user of the
client (scripts/specdiff.py): breaking changes, then additions, compared with the last
committed spec or `--against REF`. With --check, a breaking change since the latest release
that CHANGELOG.md's Unreleased section does not name fails the check.

The generator writes into a fresh temporary directory inside the repository, so that its ruff
post hooks find the repository's pyproject.toml exactly as they would for the real package
(a directory elsewhere would be formatted with ruff's defaults). The result then replaces
every generated file of the package, or, with --check, is compared with it.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import spec_report
import specdiff
import templatepatches

REPO = Path(__file__).resolve().parent.parent
PACKAGE_NAME = "paygentic_client"
PACKAGE = REPO / PACKAGE_NAME
SPEC = REPO / "openapi.yaml"
CHANGELOG = REPO / "CHANGELOG.md"
# The sandbox distribution ships its own copy of the spec (it validates requests against it
# and must not depend on the client or on a checkout): written here, compared by --check.
SANDBOX_SPEC = REPO / "sandbox" / "paygentic_sandbox" / "openapi.yaml"
# Entries of the package that are written by hand and survive regeneration.
HAND_WRITTEN = frozenset({"__init__.py", "errors.py", "_runtime", "ingest", "cli"})
# Files the generator always writes that we replace with hand-written ones: the public facade
# and the one error tree. Its versions are dropped.
REPLACED_BY_HAND = frozenset({"__init__.py", "errors.py"})
# Build artefacts that are neither generated nor committed.
NOT_SOURCE = frozenset({"__pycache__", ".ruff_cache", ".mypy_cache"})
HEADER = (
    "# Generated from openapi.yaml by scripts/regenerate: do not edit by hand.\n"
    "# Change openapi.yaml, generator-config.yaml or scripts/templates/ and rerun it.\n"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; fail with a diff if the committed package differs",
    )
    parser.add_argument(
        "--against",
        metavar="REF",
        help="the spec to report changes against: a git revision or a file (default: the last "
        "committed openapi.yaml; with --check, the one of the latest release in CHANGELOG.md)",
    )
    args = parser.parse_args()
    breaking_unmentioned = report_changes(args.against, check=args.check)
    # Before generating: an override whose stock copy is stale must be merged first.
    if not args.check and (blocking := templatepatches.record()):
        return report_template_problems(blocking)
    with tempfile.TemporaryDirectory(prefix=".regenerate-", dir=REPO) as workdir:
        generated = generate(Path(workdir))
        if args.check:
            templates = report_template_problems(templatepatches.problems())
            return max(check(generated), check_sandbox_spec(), templates, breaking_unmentioned)
        install(generated)
    shutil.copyfile(SPEC, SANDBOX_SPEC)
    print(
        f"regenerated {PACKAGE_NAME}/ and {SANDBOX_SPEC.relative_to(REPO)} from openapi.yaml; "
        "recorded scripts/template-patches/"
    )
    return 0


def report_changes(against: str | None, *, check: bool) -> int:
    """Print what changed in the API; with check, 1 if a breaking change is not in CHANGELOG."""
    found = spec_report.baseline(REPO, against, since_release=check)
    if isinstance(found, str):
        print(f"openapi.yaml: no breaking-change report: {found}")
        return 0
    try:
        changes = specdiff.compare(specdiff.load(found.text), specdiff.load(SPEC.read_text()))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        print(f"openapi.yaml: no breaking-change report: cannot compare ({error})")
        return 0
    sys.stdout.write(spec_report.render(changes, found.label))
    if not check:
        return 0
    missing = spec_report.unmentioned(changes, spec_report.unreleased_section(CHANGELOG))
    for change in missing:
        print(
            f"breaking change not in CHANGELOG.md's [Unreleased] section: {change}; "
            f"mention `{change.name}` there",
            file=sys.stderr,
        )
    return 1 if missing else 0


def generate(workdir: Path) -> Path:
    """Run the generator into workdir/paygentic_client, add headers and py.typed."""
    output = workdir / PACKAGE_NAME
    venv_bin = REPO / ".venv" / "bin"
    command = [
        str(venv_bin / "openapi-python-client"),
        "generate",
        "--path",
        str(SPEC),
        "--config",
        str(REPO / "generator-config.yaml"),
        "--custom-template-path",
        str(REPO / "scripts" / "templates"),
        "--meta",
        "none",
        "--overwrite",
        "--fail-on-warning",
        "--output-path",
        str(output),
    ]
    # The post hooks call `ruff` by name: make it the pinned one from .venv.
    env = {**os.environ, "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"openapi-python-client failed (exit {result.returncode})")
    for name in REPLACED_BY_HAND:
        (output / name).unlink()
    clashes = HAND_WRITTEN & {entry.name for entry in output.iterdir()}
    if clashes:
        raise SystemExit(f"the generator wrote hand-written paths: {sorted(clashes)}")
    # PEP 561 marker; the generator writes it only when it also writes packaging metadata.
    (output / "py.typed").write_text("")
    for path in source_files(output):
        path.write_text(HEADER + path.read_text())
    return output


def source_files(root: Path) -> Iterator[Path]:
    """Every generated file under root, in a stable order, skipping hand-written entries."""
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).parts
        if relative[0] in HAND_WRITTEN or NOT_SOURCE & set(relative) or not path.is_file():
            continue
        yield path


def install(generated: Path) -> None:
    """Replace every generated entry of the package with the fresh output."""
    PACKAGE.mkdir(exist_ok=True)
    for entry in PACKAGE.iterdir():
        if entry.name in HAND_WRITTEN:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    for entry in generated.iterdir():
        shutil.move(entry, PACKAGE / entry.name)


def check(generated: Path) -> int:
    """Print how the committed package differs from the fresh output; 1 if it does."""
    committed = {path.relative_to(PACKAGE): path for path in source_files(PACKAGE)}
    fresh = {path.relative_to(generated): path for path in source_files(generated)}
    diff: list[str] = []
    for relative in sorted(committed.keys() | fresh.keys()):
        name = f"{PACKAGE_NAME}/{relative}"
        # Named explicitly: an empty stray file would give an empty unified diff.
        if relative not in fresh:
            diff.append(f"only committed, not generated: {name}\n")
        elif relative not in committed:
            diff.append(f"generated, not committed: {name}\n")
        diff.extend(
            difflib.unified_diff(
                lines_of(committed.get(relative)),
                lines_of(fresh.get(relative)),
                fromfile=f"committed/{name}" if relative in committed else "/dev/null",
                tofile=f"regenerated/{name}" if relative in fresh else "/dev/null",
            )
        )
    if not diff:
        print(f"{PACKAGE_NAME}/ is up to date with openapi.yaml")
        return 0
    sys.stdout.writelines(line if line.endswith("\n") else line + "\n" for line in diff)
    print(
        f"\n{PACKAGE_NAME}/ differs from what scripts/regenerate produces (diff above: "
        "committed -> regenerated).\nGenerated files must not be edited by hand: change "
        "openapi.yaml, generator-config.yaml or scripts/templates/ and run scripts/regenerate.",
        file=sys.stderr,
    )
    return 1


def check_sandbox_spec() -> int:
    """1 (with a message) if the sandbox's copy of the spec is not openapi.yaml's bytes."""
    if SANDBOX_SPEC.is_file() and SANDBOX_SPEC.read_bytes() == SPEC.read_bytes():
        return 0
    print(
        f"{SANDBOX_SPEC.relative_to(REPO)} is not a copy of openapi.yaml: run scripts/regenerate",
        file=sys.stderr,
    )
    return 1


def report_template_problems(problems: list[str]) -> int:
    """Print the template problems; 1 if there are any."""
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


def lines_of(path: Path | None) -> list[str]:
    """The lines of a file, or none for a file that does not exist."""
    return path.read_text().splitlines(keepends=True) if path else []


if __name__ == "__main__":
    sys.exit(main())
