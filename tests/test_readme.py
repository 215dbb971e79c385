"""The README's Python examples work: each ```python block runs, as a fresh program, against a
sandbox whose token acts for the merchant the examples use (org_abc123xyz), configured the way
the README tells users to (PAYGENTIC_BEARER_AUTH, PAYGENTIC_BASE_URL). A block preceded by a
`<!-- fragment ... -->` line (a snippet that needs context, such as `client` or `event`) is
compiled, not run."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox_fixture import SandboxFactory

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(
    r"^(?P<marker><!-- fragment[^\n]*-->\n)?```python\n(?P<code>.*?)^```$", re.S | re.M
)
TOKEN = "readme_example_token"
MERCHANT_ID = "org_abc123xyz"


@dataclass(frozen=True)
class Block:
    line: int
    code: str
    fragment: bool


def readme_blocks() -> list[Block]:
    text = README.read_text()
    return [
        Block(
            line=text.count("\n", 0, match.start("code")) + 1,
            code=match.group("code"),
            fragment=match.group("marker") is not None,
        )
        for match in BLOCK.finditer(text)
    ]


BLOCKS = readme_blocks()


def test_the_readme_has_runnable_sync_and_async_examples() -> None:
    runnable = [block.code for block in BLOCKS if not block.fragment]
    assert any("create_usage_event.sync(" in code for code in runnable)
    assert any("asyncio.run(" in code for code in runnable)
    assert any("except errors." in code for code in runnable)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"README.md:{b.line}" for b in BLOCKS])
def test_a_readme_example_works(
    block: Block, sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    if block.fragment:
        # Fragments may `await` at top level, as in an async function's body.
        compile(block.code, f"README.md:{block.line}", "exec", ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        return
    sandbox = sandbox_factory(tokens={TOKEN: MERCHANT_ID})
    env = {**os.environ, "PAYGENTIC_BEARER_AUTH": TOKEN, "PAYGENTIC_BASE_URL": sandbox.url}
    result = subprocess.run(
        [sys.executable, "-c", block.code],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"README.md:{block.line}\n{result.stdout}\n{result.stderr}"
