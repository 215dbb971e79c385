"""Every example of an OpenAPI spec validates against its schema (run by scripts/lint-spec).

Neither openapi-spec-validator nor redocly's recommended rules check all of them (a removed
field left nine examples stale and both passed), so this does, with jsonschema (Draft 2020-12,
formats checked) and the spec's own `#/components/schemas`. Checked:

- the `example` and each `examples` entry (`value`, following a `$ref` to
  `#/components/examples`) of a media type, a parameter or a header, against its `schema`;
- the `examples` list (and an `example`) of every schema, against that schema.

Each example that does not validate is printed with the file, the line of the example's value
and the JSON pointer where it is used, then each violation with the place inside the example:

    openapi.yaml:196: /paths/~1v0~1usage/post/responses/201/content/application~1json/
    examples/billed (#/components/examples/BilledUsageEvent): at /description: Additional
    properties are not allowed ('description' was unexpected)
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# Keys of a schema whose values are data, not schemas: nothing to walk into.
DATA_KEYS = frozenset({"example", "examples", "enum", "const", "default"})
MAX_MESSAGE = 200


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def lines_of(
    node: yaml.Node, pointer: str = "", found: dict[str, int] | None = None
) -> dict[str, int]:
    """JSON pointer -> 1-based line of every node of a composed YAML document."""
    found = {} if found is None else found
    found[pointer] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines_of(value, f"{pointer}/{escape(str(key.value))}", found)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines_of(item, f"{pointer}/{index}", found)
    return found


class Checker:
    def __init__(self, spec: Any, lines: dict[str, int], name: str) -> None:
        self.spec, self.lines, self.name = spec, lines, name
        self.components = spec.get("components", {}) if isinstance(spec, dict) else {}

    def resolve_example(self, node: Any) -> tuple[Any, str | None]:
        """An Example object and, for a `$ref`, the pointer it points at."""
        reference = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(reference, str) or not reference.startswith("#/"):
            return node, None
        target: Any = self.spec
        for part in reference[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        return target, reference[1:]

    def check(self, schema: Any, value: Any, used_at: str, defined_at: str) -> Iterator[str]:
        if not isinstance(schema, dict):
            return
        root = {**schema, "components": self.components}
        validator = jsonschema.Draft202012Validator(
            root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
        )
        errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path)))
        if not errors:
            return
        line = self.lines.get(defined_at, self.lines.get(used_at, 0))
        target = defined_at.removesuffix("/value")
        source = "" if defined_at.startswith(used_at) else f" (#{target})"
        for error in errors:
            inside = "".join(f"/{escape(str(part))}" for part in error.absolute_path) or "/"
            message = error.message
            if len(message) > MAX_MESSAGE:
                message = message[:MAX_MESSAGE] + "…"
            yield f"{self.name}:{line}: {used_at}{source}: at {inside}: {message}"

    def walk(self, node: Any, pointer: str = "") -> Iterator[str]:
        """Outside schemas: find media types, parameters and headers, and the schemas."""
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from self.walk(item, f"{pointer}/{index}")
            return
        if not isinstance(node, dict):
            return
        holder = isinstance(node.get("schema"), dict)
        if holder:
            yield from self.holder_examples(node, pointer)
        for key, value in node.items():
            child = f"{pointer}/{escape(str(key))}"
            if holder and key in ("example", "examples"):
                continue
            if child == "/components/examples":
                continue  # checked where they are used, against that place's schema
            if key == "schema":
                yield from self.walk_schema(value, child)
            elif child == "/components/schemas" and isinstance(value, dict):
                for name, schema in value.items():
                    yield from self.walk_schema(schema, f"{child}/{escape(str(name))}")
            else:
                yield from self.walk(value, child)

    def walk_schema(self, schema: Any, pointer: str) -> Iterator[str]:
        """A schema and every schema inside it."""
        if isinstance(schema, list):
            for index, item in enumerate(schema):
                yield from self.walk_schema(item, f"{pointer}/{index}")
            return
        if not isinstance(schema, dict):
            return
        yield from self.schema_examples(schema, pointer)
        for key, value in schema.items():
            child = f"{pointer}/{escape(str(key))}"
            if key in DATA_KEYS:
                continue
            if key in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
                for name, member in value.items():
                    yield from self.walk_schema(member, f"{child}/{escape(str(name))}")
            else:
                yield from self.walk_schema(value, child)

    def schema_examples(self, schema: dict[str, Any], pointer: str) -> Iterator[str]:
        bare = {key: value for key, value in schema.items() if key not in ("examples", "example")}
        if isinstance(schema.get("examples"), list):
            for index, value in enumerate(schema["examples"]):
                at = f"{pointer}/examples/{index}"
                yield from self.check(bare, value, at, at)
        if "example" in schema:
            yield from self.check(
                bare, schema["example"], f"{pointer}/example", f"{pointer}/example"
            )

    def holder_examples(self, holder: dict[str, Any], pointer: str) -> Iterator[str]:
        """A media type, parameter or header: its example(s) against its schema."""
        schema = holder["schema"]
        if "example" in holder:
            yield from self.check(
                schema, holder["example"], f"{pointer}/example", f"{pointer}/example"
            )
        examples = holder.get("examples")
        if isinstance(examples, dict):
            for name, entry in examples.items():
                used_at = f"{pointer}/examples/{escape(str(name))}"
                example, target = self.resolve_example(entry)
                if isinstance(example, dict) and "value" in example:
                    defined_at = f"{target}/value" if target else f"{used_at}/value"
                    yield from self.check(schema, example["value"], used_at, defined_at)


def problems(spec: Path) -> list[str]:
    """One line per violation of an example of spec."""
    text = spec.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    lines = lines_of(root) if root is not None else {}
    return list(Checker(document, lines, str(spec)).walk(document))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if len(arguments) != 1:
        print("usage: spec_examples.py SPEC", file=sys.stderr)
        return 2
    found = problems(Path(arguments[0]))
    for line in found:
        print(line, file=sys.stderr)
    if found:
        print(
            f"{len(found)} violation(s) in the examples of {arguments[0]}: each example must "
            "validate against its schema",
            file=sys.stderr,
        )
        return 1
    print(f"{arguments[0]}: every example validates against its schema")
    return 0


if __name__ == "__main__":
    sys.exit(main())
