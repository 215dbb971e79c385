"""Exceptions for the API's error responses, one class per kind of status.

Re-exported by paygentic_client.errors, which is where users import them from.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from http import HTTPStatus

from ..models.error_body import Error
from ..models.validation_error import ValidationError
from ..models.validation_error_detail import ValidationErrorDetail
from .redact import redact

ErrorModel = Error | ValidationError


class ApiError(Exception):
    """The API answered with a status that is not a documented success of the operation.

    Attributes:
        status_code: the HTTP status code.
        parsed: the body parsed as the documented error model (`Error` or `ValidationError`),
            or None when the body is not one (for example an HTML page from a proxy).
        headers: the response headers.
        content: the raw response body.
    """

    def __init__(
        self,
        status_code: int,
        parsed: ErrorModel | None,
        headers: Mapping[str, str],
        content: bytes,
        *,
        secrets: Collection[str] = (),
    ) -> None:
        self.status_code = status_code
        self.parsed = parsed
        self.headers = headers
        self.content = content
        # The secrets only scrub the message; they are not kept on the exception.
        super().__init__(redact(describe(status_code, parsed, headers, content), secrets))


class BadRequestError(ApiError):
    """400: the request is malformed (`Error`) or invalid (`ValidationError` with `errors`)."""


class AuthenticationError(ApiError):
    """401: the bearer token is missing or not valid."""


class PermissionDeniedError(ApiError):
    """403: the token's merchant organisation may not act on this resource."""


class NotFoundError(ApiError):
    """404: no such resource for the caller's merchant organisation."""


class UnprocessableEntityError(ApiError):
    """422: the request is well formed but cannot be carried out (e.g. a repeated refund)."""


class RateLimitError(ApiError):
    """429: rate limited; the `Retry-After` header says when to try again."""


class InternalServerError(ApiError):
    """5xx: the server (or a gateway in front of it) failed; the request may be retried."""


class UnexpectedStatus(ApiError):
    """A status that the spec does not document for the operation and no class above covers."""


_CLASS_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class(status_code: int, *, documented: bool) -> type[ApiError]:
    """The exception class for a non-success status of an operation."""
    if status_code in _CLASS_BY_STATUS:
        return _CLASS_BY_STATUS[status_code]
    if 500 <= status_code <= 599:
        return InternalServerError
    return ApiError if documented else UnexpectedStatus


def describe(
    status_code: int, parsed: ErrorModel | None, headers: Mapping[str, str], content: bytes
) -> str:
    """A readable one-paragraph account of an error response.

    For example "HTTP 404 Not Found (not_found, USAGE_EVENT_NOT_FOUND): Usage event usg_0 was
    not found.", followed by one line per field error for a ValidationError.
    """
    status = f"HTTP {status_code} {_reason(status_code)}".rstrip()
    if parsed is None:
        content_type = headers.get("content-type") or "no content type"
        body = f"{len(content)} bytes, {content_type}"
        return f"{status}: the body is not a documented error ({body})"
    labels = [parsed.error if isinstance(parsed.error, str) else ""]
    if isinstance(parsed, Error):
        labels.append(parsed.code if isinstance(parsed.code, str) else "")
    label = ", ".join(part for part in labels if part)
    summary = f"{status} ({label}): {parsed.message}" if label else f"{status}: {parsed.message}"
    if isinstance(parsed, Error):
        return summary
    return "\n".join([summary, *(_field_error(detail) for detail in parsed.errors)])


def _reason(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase
    except ValueError:  # e.g. Cloudflare's 520
        return ""


def _field_error(detail: ValidationErrorDetail) -> str:
    code = f" ({detail.code})" if isinstance(detail.code, str) else ""
    return f"  {detail.field}: {detail.message}{code}"
