"""mkdocs hooks (mkdocs.yml `hooks:`): the operations page follows the generated package.

`<!-- operations -->` in a page becomes one section per operation module of
`paygentic_client.api.usage_events`, in the spec's order: the `sync` function in full (its
parameters, what it raises and returns, from the docstring the spec's descriptions wrote),
then a table of its other faces, which take the same parameters. The four faces are not
repeated in full five times, and an operation added to the spec appears without an edit here.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

MARKER = "<!-- operations -->"
PACKAGE = "paygentic_client.api.usage_events"
SPEC = Path(__file__).resolve().parent.parent / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, "\n\n".join(map(section, operation_modules())))


def operation_modules() -> list[str]:
    """The module name of each operation, in the order of the spec's paths."""
    spec = yaml.safe_load(SPEC.read_text())
    names = []
    for item in spec["paths"].values():
        for method in METHODS:
            if method in item:
                names.append(snake_case(item[method]["operationId"]))
    return names


def snake_case(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def section(name: str) -> str:
    module = importlib.import_module(f"{PACKAGE}.{name}")
    paginated = hasattr(module, "sync_all")
    rows = [
        f"| `{name}.sync(...)` | the success model; raises `ApiError` (a subclass per status) "
        "on an error status, `ApiConnectionError` without an answer |",
        f"| `{name}.sync_detailed(...)` | a `Response`: status, headers, the body parsed by "
        "status; raises only `ApiConnectionError` |",
        f"| `await {name}.asyncio(...)` | as `sync`, for asyncio |",
        f"| `await {name}.asyncio_detailed(...)` | as `sync_detailed`, for asyncio |",
    ]
    if paginated:
        rows += [
            f"| `{name}.sync_all(...)` | every item of every page, fetched as the loop reaches "
            "them (no `offset`) |",
            f"| `{name}.asyncio_all(...)` | as `sync_all`, an async iterator |",
        ]
    return "\n".join(
        [
            f"## `{name}`",
            "",
            f"::: {PACKAGE}.{name}.sync",
            "    options:",
            "      heading_level: 3",
            "      show_root_full_path: false",
            f'      toc_label: "{name}.sync"',
            "",
            "The same call has these faces, with the same parameters:",
            "",
            "| face | returns |",
            "| --- | --- |",
            *rows,
        ]
    )
