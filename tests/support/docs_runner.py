"""Runs the Python blocks of one documentation page as a reader would: in order, in one
namespace, so a block may use what the blocks before it defined. Run as
`python docs_runner.py BLOCKS.json`, where the file holds `[{"page", "line", "code"}, ...]`.

Each block is compiled under its page's name with its real line numbers, so a traceback
points at the Markdown line that failed."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def run(blocks: list[dict[str, object]]) -> None:
    namespace: dict[str, object] = {"__name__": "__main__"}
    for block in blocks:
        line = int(str(block["line"]))
        source = "\n" * (line - 1) + str(block["code"])
        exec(compile(source, str(block["page"]), "exec"), namespace)


if __name__ == "__main__":
    run(json.loads(Path(sys.argv[1]).read_text()))
