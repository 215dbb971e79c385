"""Every `$ref` of an OpenAPI spec resolves (run by scripts/lint-spec, before the validators).

openapi-spec-validator reports a broken reference with the whole spec printed as one line
(32 KB for openapi.yaml); this check names each broken reference, the JSON pointer of the
`$ref` and its line in the file instead:

    openapi.yaml:76: /components/responses/BadRequest/content/application~1json/schema/oneOf/0/
    $ref: '#/components/schemas/ValidationErrr' does not resolve (no "ValidationErrr" under
    /components/schemas)

Local references (`#/...`) and references to other files beside the spec (`other.yaml#/...`)
are checked; URLs are left to the validators.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml


@dataclass(frozen=True)
class Reference:
    pointer: str  # JSON pointer of the $ref member
    line: int  # 1-based line of its value in the file
    target: str  # the $ref's text


def escape(token: str) -> str:
    """A JSON pointer token (RFC 6901): ~ and / escaped."""
    return token.replace("~", "~0").replace("/", "~1")


def references(node: yaml.Node, pointer: str = "") -> Iterator[Reference]:
    """Every `$ref` under a composed YAML node, with where it is."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            here = f"{pointer}/{escape(str(key.value))}"
            if key.value == "$ref" and isinstance(value, yaml.ScalarNode):
                yield Reference(here, value.start_mark.line + 1, str(value.value))
            else:
                yield from references(value, here)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from references(item, f"{pointer}/{index}")


def missing_part(document: Any, fragment: str) -> str | None:
    """None if the JSON pointer fragment resolves in document, else what is missing where."""
    if not fragment:
        return None
    if not fragment.startswith("/"):
        return "the fragment is not a JSON pointer (it must start with /)"
    current, walked = document, ""
    for raw in fragment[1:].split("/"):
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and token in current:
            current = current[token]
        elif isinstance(current, list) and token.isdigit() and int(token) < len(current):
            current = current[int(token)]
        else:
            return f'no "{token}" under {walked or "the document root"}'
        walked += "/" + raw
    return None


def problems(spec: Path) -> Iterator[str]:
    """One line per broken reference of spec."""
    text = spec.read_text(encoding="utf-8")
    documents: dict[Path, Any] = {spec.resolve(): yaml.safe_load(text)}
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    for ref in references(root) if root is not None else ():
        where = f"{spec}:{ref.line}: {ref.pointer}: {ref.target!r}"
        location, _, fragment = ref.target.partition("#")
        if "://" in location:
            continue
        path = (spec.parent / location).resolve() if location else spec.resolve()
        if path not in documents:
            if not path.is_file():
                yield f"{where} does not resolve (no file {path})"
                continue
            documents[path] = yaml.safe_load(path.read_text(encoding="utf-8"))
        missing = missing_part(documents[path], fragment)
        if missing is not None:
            yield f"{where} does not resolve ({missing})"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print("usage: spec_refs.py SPEC", file=sys.stderr)
        return 2
    spec = arguments[0]
    broken = list(problems(Path(spec)))
    for line in broken:
        print(line, file=sys.stderr)
    if broken:
        print(f"{len(broken)} broken $ref(s) in {spec}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
