"""The breaking-change report of scripts/regenerate: which spec to compare with, how to print
the changes, and which breaking ones the CHANGELOG's Unreleased section does not mention."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import specdiff


@dataclass(frozen=True)
class Baseline:
    """The spec a change is measured from, and words that say which it is."""

    label: str
    text: str


def baseline(repo: Path, against: str | None, *, since_release: bool) -> Baseline | str:
    """The spec to compare openapi.yaml with, or why there is none.

    `against` is a file or a git revision (its openapi.yaml). Without it: the last committed
    spec, or with since_release (what --check uses, as the committed spec is the current one
    once a change is committed) the spec of the commit whose CHANGELOG first named the latest
    release.
    """
    if against is not None:
        # scripts/regenerate changes to the repository; a relative path is the caller's.
        file = Path(os.environ.get("PAYGENTIC_INVOKED_FROM", ".")) / against
        if file.is_file():
            return Baseline(against, file.read_text())
    revision = against
    label = against or "the last commit"
    if revision is None and since_release:
        release = latest_release(repo / "CHANGELOG.md")
        if release is not None:
            first = git(repo, "log", "--format=%H", "-S", f"## [{release}]", "--", "CHANGELOG.md")
            commits = first.split() if first else []
            if commits:
                revision, label = commits[-1], f"release {release} ({commits[-1][:10]})"
    revision = revision or "HEAD"
    text = git(repo, "show", f"{revision}:openapi.yaml")
    if text is None:
        return f"no openapi.yaml at {revision!r} (not a git checkout, or no such revision)"
    return Baseline(label, text)


def git(repo: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=repo, capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def latest_release(changelog: Path) -> str | None:
    """The first `## [X.Y.Z]` heading of a Keep a Changelog file (not Unreleased)."""
    if not changelog.is_file():
        return None
    match = re.search(r"^## \[(\d[^\]]*)\]", changelog.read_text(), re.MULTILINE)
    return match.group(1) if match else None


def unreleased_section(changelog: Path) -> str:
    """The text under `## [Unreleased]`, up to the next `## ` heading."""
    if not changelog.is_file():
        return ""
    match = re.search(
        r"^## \[Unreleased\][^\n]*\n(.*?)(?=^## |\Z)", changelog.read_text(), re.M | re.S
    )
    return match.group(1) if match else ""


def unmentioned(changes: list[specdiff.Change], unreleased: str) -> list[specdiff.Change]:
    """The breaking changes whose name the Unreleased text does not contain."""
    return [change for change in changes if change.breaking and change.name not in unreleased]


def render(changes: list[specdiff.Change], label: str) -> str:
    """The report: breaking changes, then additions, one per line."""
    if not changes:
        return f"openapi.yaml: no change to the API since {label}\n"
    breaking = [change for change in changes if change.breaking]
    additions = [change for change in changes if not change.breaking]
    lines = [f"openapi.yaml compared with {label}:"]
    if breaking:
        lines.append(f"  BREAKING for users of the client ({len(breaking)}):")
        lines.extend(f"    - {change}" for change in breaking)
        lines.append("    (say so under ## [Unreleased] in CHANGELOG.md, naming each:")
        lines.append("    `scripts/regenerate --check` fails until it does)")
    if additions:
        lines.append(f"  additions and other changes that break nothing ({len(additions)}):")
        lines.extend(f"    - {change}" for change in additions)
    return "\n".join(lines) + "\n"
