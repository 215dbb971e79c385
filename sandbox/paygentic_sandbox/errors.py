"""The two error bodies of the spec, `Error` and `ValidationError`, raised as exceptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paygentic_sandbox.spec import MAX_NESTING_DEPTH, FieldError

# A garbage batch could otherwise answer with hundreds of thousands of field errors.
MAX_FIELD_ERRORS = 100


class ApiError(Exception):
    """An answer other than success; `body` is an Error or a ValidationError."""

    def __init__(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(body["message"])
        self.status = status
        self.body = body
        self.headers = headers or {}


def error(
    status: int,
    message: str,
    category: str,
    code: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> ApiError:
    """An `Error`; like production, every optional field is present, null when empty."""
    body = {"message": message, "error": category, "code": code, "details": details}
    return ApiError(status, body, headers)


def validation_failed(errors: Sequence[FieldError], message: str | None = None) -> ApiError:
    body = {
        "message": message or f"The request is invalid: {errors[0]}",
        "error": "validation_error",
        "errors": [e.to_json() for e in errors[:MAX_FIELD_ERRORS]],
    }
    return ApiError(400, body)


def bad_request(message: str, code: str) -> ApiError:
    return error(400, message, "bad_request", code)


def nested_too_deeply() -> ApiError:
    return error(
        400,
        f"The request body is nested too deeply (at most {MAX_NESTING_DEPTH} levels).",
        "bad_request",
        "NESTING_TOO_DEEP",
    )


def forbidden_merchant(merchant_id: str) -> ApiError:
    return error(
        403,
        f"This token cannot act for merchant {merchant_id}.",
        "forbidden",
        "MERCHANT_MISMATCH",
        {"merchantId": merchant_id},
    )


def not_found(event_id: str) -> ApiError:
    return error(
        404, f"Usage event {event_id} was not found.", "not_found", "USAGE_EVENT_NOT_FOUND"
    )
