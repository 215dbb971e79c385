"""Turning a generated Response into the success model or an ApiError."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from http import HTTPStatus
from typing import Any, TypeVar

import httpx

from ..errors import ApiError, ResponseValidationError, error_class
from ..models.error_body import Error
from ..models.validation_error import ValidationError
from ..types import Response
from .parsing import drift_of
from .redact import redact, redact_body, secrets_of

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


# What a success answer that cannot be read means for the caller, by operation: the API did
# what was asked, so a retry must not look like the remedy of a failure.
_ACCEPTED = {
    "create_usage_event": (
        "The API accepted the request: the event was recorded. Fetch it with "
        "get_usage_event{id}, or send the same request again (its idempotencyKey is answered "
        "with the same event, recorded once)"
    ),
    "batch_create_usage_events": (
        "The API accepted the batch: its events were recorded (except any it lists as "
        "failed). Fetch them with list_usage_events (by customerId and time range), or send "
        "the same batch again (the same idempotency keys are answered with the same events, "
        "recorded once)"
    ),
    "refund_usage_event": (
        "The API accepted the request: the event was refunded. Fetch it with get_usage_event"
        "{id}; do not refund it again (a second refund is answered 422)"
    ),
}


def read_answer(
    parse: Callable[[httpx.Response], T], response: httpx.Response, client: object, operation: str
) -> T:
    """parse(response), raising errors.ResponseValidationError (with the status, the
    operation and the body, credentials redacted) if a success body cannot be read; with a
    client whose strict_responses is set, also if it has what the spec does not define."""
    try:
        parsed = parse(response)
    except Exception as error:  # a decode error, a RecursionError, the model's own error
        raise _completed(error, response, client, operation) from error
    if getattr(client, "strict_responses", False) and 200 <= response.status_code <= 299:
        drift = drift_of(parsed)
        if drift is not None:
            raise _completed(drift, response, client, operation)
    return parsed


def _completed(
    error: Exception, response: httpx.Response, client: object, operation: str
) -> ResponseValidationError:
    """The ResponseValidationError of an answer, with what only the call knows."""
    if not isinstance(error, ResponseValidationError):
        error = ResponseValidationError(f"the body is not JSON ({error})")
    body = redact(response.content.decode("utf-8", "replace"), secrets_of(client))
    error.status_code = response.status_code
    error.body = body
    error.operation = operation
    if 200 <= response.status_code <= 299 and operation in _ACCEPTED:
        error._accepted = _ACCEPTED[operation].format(id=_event_id(response.content))
    return error


def _event_id(content: bytes) -> str:
    """`(id="usg_...")` if the body is an object with a string id, else nothing."""
    try:
        data = json.loads(content)
    except (ValueError, RecursionError):
        return ""
    event_id = data.get("id") if isinstance(data, dict) else None
    return f"(id={event_id!r})" if isinstance(event_id, str) else ""
