"""Turning a generated Response into the success model or an ApiError."""

from __future__ import annotations

import json
from collections.abc import Collection
from http import HTTPStatus
from typing import Any, TypeVar

from ..errors import ApiError, error_class
from ..models.error_body import Error
from ..models.validation_error import ValidationError
from ..types import Response
from .redact import redact_body, secrets_of

T = TypeVar("T")

# What a body that is not the documented model makes `from_dict` or `response.json()` raise
# (json.JSONDecodeError is a ValueError). An error status may come from a proxy or gateway
# with any body, so for error statuses these mean "no parsed model", not a failure.
BODY_PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError)


# A dict lookup: HTTPStatus(code) goes through Enum's metaclass call, on every response.
_HTTP_STATUSES: dict[int, HTTPStatus] = {status.value: status for status in HTTPStatus}


def http_status(code: int) -> HTTPStatus | int:
    """The HTTPStatus for a code, or the bare code when HTTPStatus does not know it (e.g.
    Cloudflare's 520-527, nginx's 499)."""
    return _HTTP_STATUSES.get(code, code)


def parsed_or_raise(
    response: Response[Any],
    success_type: type[T],
    documented: Collection[int],
    client: object,
) -> T:
    """The parsed body of a documented success, or raise the ApiError for the response.

    documented: every status the spec documents for the operation.
    client: the client that made the call; its token is scrubbed from the message.
    """
    status_code = int(response.status_code)
    parsed = response.parsed
    if 200 <= status_code <= 299 and status_code in documented and isinstance(parsed, success_type):
        return parsed
    raise error_from_response(response, documented, secrets=secrets_of(client))


def error_from_response(
    response: Response[Any], documented: Collection[int], *, secrets: Collection[str] = ()
) -> ApiError:
    """The ApiError (of the subclass for its status) describing an unsuccessful response."""
    status_code = int(response.status_code)
    content = redact_body(response.content, secrets)
    if content is not response.content:
        # The body carried a credential: the model parsed from it would carry it too.
        parsed: Error | ValidationError | None = parse_error_body(content)
    elif isinstance(response.parsed, Error | ValidationError):
        parsed = response.parsed
    else:
        parsed = parse_error_body(content)
    cls = error_class(status_code, documented=status_code in documented)
    return cls(status_code, parsed, response.headers, response.content, secrets=secrets)


def parse_error_body(content: bytes) -> Error | ValidationError | None:
    """The body as ValidationError or Error, or None; for statuses the spec does not document.

    The API sends its error bodies on statuses that an operation does not document too
    (a 404 from create, a 503 from a deploy), and they make a far better message than bytes.
    """
    try:
        data = json.loads(content)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for model in (ValidationError, Error):
        try:
            return model.from_dict(data)
        except BODY_PARSE_ERRORS:
            continue
    return None
