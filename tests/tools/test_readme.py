"""Every ```python block of README.md and of the pages under docs/ works. The blocks of one
page run in order in one fresh process (a block may build on the ones before it, as a reader
would), against a sandbox of its own whose token acts for the merchant the examples use
(org_abc123xyz), configured the way the docs tell users to (PAYGENTIC_BEARER_AUTH,
PAYGENTIC_BASE_URL). No block is only compiled.

A page that documents what is not built yet says so with a line
`<!-- docs-test: expect-failure REASON -->`: it still runs, and is a strict xfail, so the day
it passes the marker must go."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.sandbox_fixture import SandboxFactory

ROOT = Path(__file__).resolve().parents[2]
RUNNER = Path(__file__).resolve().parents[1] / "support" / "docs_runner.py"
BLOCK = re.compile(r"^```python\n(?P<code>.*?)^```$", re.S | re.M)
# A fenced block of any language, to tell the python blocks that the regex above missed.
ANY_FENCE = re.compile(r"^ *```(?P<lang>[\w-]*)", re.M)
EXPECT_FAILURE = re.compile(r"<!-- docs-test: expect-failure (?P<reason>.+?) -->")
TOKEN = "readme_example_token"
MERCHANT_ID = "org_abc123xyz"


@dataclass(frozen=True)
class Page:
    path: Path
    blocks: list[dict[str, object]]
    expected_failure: str | None

    @property
    def name(self) -> str:
        return str(self.path.relative_to(ROOT))


def read_page(path: Path) -> Page:
    text = path.read_text()
    name = str(path.relative_to(ROOT))
    blocks: list[dict[str, object]] = [
        {
            "page": name,
            "line": text.count("\n", 0, match.start("code")) + 1,
            "code": match.group("code"),
        }
        for match in BLOCK.finditer(text)
    ]
    marker = EXPECT_FAILURE.search(text)
    return Page(path, blocks, marker.group("reason") if marker else None)


def documentation_pages() -> list[Page]:
    paths = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return [page for page in map(read_page, paths) if page.blocks]


PAGES = documentation_pages()


def test_the_readme_has_runnable_sync_and_async_examples() -> None:
    readme = next(page for page in PAGES if page.name == "README.md")
    code = "\n".join(str(block["code"]) for block in readme.blocks)
    assert "create_usage_event.sync(" in code
    assert "asyncio.run(" in code


def test_every_python_block_is_found() -> None:
    # An indented or oddly fenced python block would escape BLOCK and never run.
    for path in [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]:
        fences = [m for m in ANY_FENCE.finditer(path.read_text()) if m.group("lang") == "python"]
        found = len(read_page(path).blocks)
        assert len(fences) == found, f"{path}: {len(fences)} python fences, {found} runnable"


def run_page(page: Page, sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(tokens={TOKEN: MERCHANT_ID})
    blocks_file = tmp_path / "blocks.json"
    blocks_file.write_text(json.dumps(page.blocks))
    env = {**os.environ, "PAYGENTIC_BEARER_AUTH": TOKEN, "PAYGENTIC_BASE_URL": sandbox.url}
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(blocks_file)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{page.name}\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_the_examples_of_a_page_work(
    page: Page, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    if page.expected_failure is None:
        run_page(page, sandbox_factory, tmp_path)
        return
    try:
        run_page(page, sandbox_factory, tmp_path)
    except AssertionError:
        pytest.xfail(page.expected_failure)
    pytest.fail(f"{page.name} passes now: remove its expect-failure marker")


# The pages outside the site (mkdocs --strict checks the links of docs/ itself).
LINKED_FROM_OUTSIDE = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md"]
LINK = re.compile(r"\]\((?P<target>[^)\s#]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("name", LINKED_FROM_OUTSIDE)
def test_relative_links_outside_the_site_resolve(name: str) -> None:
    page = ROOT / name
    targets = [m.group("target") for m in LINK.finditer(page.read_text())]
    local = [target for target in targets if "://" not in target]
    missing = [target for target in local if not (page.parent / target).exists()]
    assert missing == [], f"{name}: {missing}"
