"""Lines of code of Python files: non-blank lines that are neither comments nor docstrings.

Docstrings are found with ast (the string first in a module, class or function body), so a
string literal that is an expression elsewhere still counts. Used for issue 24's budget of
the two ingester drivers (tests/tools/test_driver_size.py).

Usage: python scripts/code_lines.py FILE...   (prints each file's count, then the total)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def docstring_lines(tree: ast.Module) -> set[int]:
    """The line numbers that docstrings of this module occupy."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        first = node.body[0] if node.body else None
        value = first.value if isinstance(first, ast.Expr) else None
        if first is not None and isinstance(value, ast.Constant) and isinstance(value.value, str):
            lines.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return lines


def code_lines(source: str) -> int:
    """Non-blank lines that are not comments and not part of a docstring."""
    skip = docstring_lines(ast.parse(source))
    return sum(
        1
        for number, line in enumerate(source.splitlines(), start=1)
        if number not in skip and line.strip() and not line.strip().startswith("#")
    )


def main(paths: list[str]) -> int:
    total = 0
    for path in paths:
        count = code_lines(Path(path).read_text())
        total += count
        print(f"{count:6d}  {path}")
    print(f"{total:6d}  total")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
