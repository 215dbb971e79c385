"""Reading a request: its body (size limit, content type, JSON) and its query string."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from starlette.requests import Request

from paygentic_sandbox.errors import ApiError, bad_request, error, validation_failed
from paygentic_sandbox.spec import FieldError, NestingTooDeep, QueryParameter

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def json_body(request: Request, max_bytes: int) -> Any:
    """The JSON body; numbers with a fraction or exponent become Decimal, never float, so
    that amounts stay exact and 1e400 is not infinity."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise error(
            415,
            "The request body must be application/json.",
            "unsupported_media_type",
        )
    raw = await _read_limited(request, max_bytes)
    try:
        text = raw.decode("utf-8")
        body = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError:
        # The parser recurses once per level: valid JSON, but deeper than Python's stack.
        raise NestingTooDeep("deeper than the JSON parser's recursion limit") from None
    except ValueError:
        # Bad UTF-8, bad JSON and integers of over 4300 digits.
        raise bad_request("The request body is not valid JSON.") from None
    if ("\\ud" in text or "\\uD" in text) and not _encodable(body):
        raise bad_request("The request body contains an unpaired UTF-16 surrogate.")
    return body


async def _read_limited(request: Request, max_bytes: int) -> bytes:
    too_large = error(
        413,
        f"The request body exceeds {max_bytes} bytes.",
        "payload_too_large",
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_large
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _encodable(value: Any) -> bool:
    """Whether every string in value is valid Unicode (JSON allows a lone `\\ud800`; SQLite,
    UTF-8 and the validator do not). A loop over an explicit stack, not recursion: a body
    may be nested as deeply as the parser allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def query_instance(
    request: Request, parameters: Sequence[QueryParameter]
) -> tuple[dict[str, Any], list[FieldError]]:
    """The query string as the JSON object its schema describes: numbers where the spec
    says integer or number. A parameter given twice is an error (each is a scalar)."""
    known = {p.name: p for p in parameters}
    instance: dict[str, Any] = {}
    problems = []
    for name, value in request.query_params.multi_items():
        parameter = known.get(name)
        if parameter is None:
            continue
        if name in instance:
            problems.append(FieldError(name, "must be given at most once", "type"))
            continue
        instance[name] = _typed(value, parameter.json_type)
    return instance, problems


def _typed(value: str, json_type: str) -> Any:
    if json_type in ("integer", "number") and _JSON_NUMBER.fullmatch(value):
        # Decimal keeps 1e999999999 cheap; callers clamp it before making an int of it.
        return Decimal(value)
    return value


def raise_if_invalid(errors: list[FieldError]) -> None:
    if errors:
        raise validation_failed(errors)


__all__ = ["ApiError", "json_body", "query_instance", "raise_if_invalid"]
