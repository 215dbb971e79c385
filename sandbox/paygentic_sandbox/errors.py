"""The two error bodies of the spec, `Error` and `ValidationError`, raised as exceptions.

An `Error` carries no `code`: production's contract defines `code` as a closed list of
business codes (TAX_NOT_ENABLED, PAYMENT_SESSION_EXPIRED in the official TypeScript SDK,
which refuses any other value), and none of them applies to usage events. What went wrong is
in the status, the coarse `error` category and the `message`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paygentic_sandbox.spec import MAX_NESTING_DEPTH, FieldError

# A garbage batch could otherwise answer with hundreds of thousands of field errors.
MAX_FIELD_ERRORS = 100


class ApiError(Exception):
    """An answer other than success; `body` is an Error, or a ValidationError when
    `validation`. Its optional fields that have no value are None (see shapes.py)."""

    def __init__(
        self,
        status: int,
        body: dict[str, Any],
        headers: dict[str, str] | None = None,
        validation: bool = False,
    ) -> None:
        super().__init__(body["message"])
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.validation = validation


def error(
    status: int,
    message: str,
    category: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> ApiError:
    """An `Error`."""
    body = {"message": message, "error": category, "details": details}
    return ApiError(status, body, headers)


def validation_failed(errors: Sequence[FieldError], message: str | None = None) -> ApiError:
    body = {
        "message": message or f"The request is invalid: {errors[0]}",
        "error": "validation_error",
        "errors": [e.to_json() for e in errors[:MAX_FIELD_ERRORS]],
    }
    return ApiError(400, body, validation=True)


def bad_request(message: str) -> ApiError:
    return error(400, message, "bad_request")


def nested_too_deeply() -> ApiError:
    return bad_request(
        f"The request body is nested too deeply (at most {MAX_NESTING_DEPTH} levels)."
    )


def internal_error() -> ApiError:
    return error(500, "An unexpected error occurred.", "internal_server_error")


def forbidden_merchant(merchant_id: str) -> ApiError:
    return error(
        403,
        f"This token cannot act for merchant {merchant_id}.",
        "forbidden",
        {"merchantId": merchant_id},
    )


def not_found(event_id: str) -> ApiError:
    return error(404, f"Usage event {event_id} was not found.", "not_found")
