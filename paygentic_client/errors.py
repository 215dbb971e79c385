"""The one error tree of paygentic_client: everything the SDK raises on purpose is a
`PaygenticError`.

    PaygenticError
    ├── ConfigurationError        the environment does not configure a client (also a ValueError)
    ├── NaiveDatetimeError        a datetime without a UTC offset in a request (also a ValueError)
    ├── ApiConnectionError        no answer: refused, reset or unreachable (cause: the httpx error)
    │   └── ApiTimeoutError       no answer in time
    ├── ApiError                  an answer whose status is not a documented success
    │   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
    │   │   NotFoundError 404, UnprocessableEntityError 422, RateLimitError 429,
    │   │   InternalServerError 5xx
    │   └── UnexpectedStatus      a status the operation does not document
    ├── IdempotencyConflictError  a key was answered with an event stored for another request
    ├── IngestError               the ingesters' own errors
    │   ├── QueueFullError, IngesterClosedError
    │   ├── EventRejectedError    the API rejected one event of a batch
    │   ├── SpoolError            an ingester's spool cannot be opened or written
    │   │   └── SpoolStorageError the disk under the spool is full or failed: retry later
    │   └── OutboxError           the PostgreSQL outbox's table or database cannot be used
    ├── CheckpointError           an import's checkpoint file cannot be used (also a ValueError)
    ├── ImportStopped             the API refused an import's batch as a whole
    └── ResponseValidationError   a success answer the client cannot read as its model
                                  (or, with strict_responses, one that drifted from the spec)
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, TypeAlias

from ._runtime.redact import redact, redact_body, redact_headers

if TYPE_CHECKING:
    # Only for annotations: importing paygentic_client (which imports this module) must not
    # load every generated model; describe() imports the one it needs when it runs.
    from .models.error_body import Error
    from .models.validation_error import ValidationError
    from .models.validation_error_detail import ValidationErrorDetail

    ErrorModel: TypeAlias = Error | ValidationError

__all__ = [
    "ApiConnectionError",
    "ApiError",
    "ApiTimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "CheckpointError",
    "ConfigurationError",
    "EventRejectedError",
    "IdempotencyConflictError",
    "ImportStopped",
    "NaiveDatetimeError",
    "IngestError",
    "IngesterClosedError",
    "InternalServerError",
    "NotFoundError",
    "OutboxError",
    "PaygenticError",
    "PermissionDeniedError",
    "QueueFullError",
    "RateLimitError",
    "ResponseValidationError",
    "SpoolError",
    "SpoolStorageError",
    "UnexpectedStatus",
    "UnprocessableEntityError",
]


class PaygenticError(Exception):
    """The root of every exception paygentic_client raises on purpose."""


class ConfigurationError(PaygenticError, ValueError):
    """The environment does not configure a client (e.g. no token)."""


class NaiveDatetimeError(PaygenticError, ValueError):
    """A datetime without a UTC offset (no tzinfo) in a request body or query: nothing was
    sent. The API needs an offset; use an aware datetime such as
    `datetime.now(timezone.utc)` or `naive.replace(tzinfo=timezone.utc)`."""

    def __init__(self, moment: datetime.datetime) -> None:
        super().__init__(
            f"datetime {moment.isoformat()} has no UTC offset (tzinfo is None), and the API "
            "needs one: use an aware datetime, e.g. datetime.now(timezone.utc), or "
            "moment.replace(tzinfo=timezone.utc) if it is already in UTC"
        )
        self.moment = moment


class ApiConnectionError(PaygenticError):
    """No answer from the API: the connection was refused, reset or dropped, the host is
    unknown, or the request could not be sent. The httpx exception is `__cause__`.

    The request may or may not have reached the server: a create or batch create is safe to
    send again with the same idempotency keys.
    """


class ApiTimeoutError(ApiConnectionError):
    """No answer within the timeout (connect, read, write or pool)."""


class ApiError(PaygenticError):
    """The API answered with a status that is not a documented success of the operation.

    Attributes:
        status_code: the HTTP status code.
        parsed: the body parsed as the documented error model (`Error` or `ValidationError`),
            or None when the body is not one (for example an HTML page from a proxy).
        headers: the response headers, with the client's credentials replaced by
            `[REDACTED]` (a server or proxy may echo the Authorization header back).
        content: the response body, with the client's credentials replaced the same way.
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
        # An exception travels far (logs, error trackers, pickles): it keeps no credential.
        # The secrets themselves are not kept on it either.
        self.headers = redact_headers(headers, secrets)
        self.content = redact_body(content, secrets)
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
    from .models.error_body import Error  # lazy: see the imports at the top

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


class IdempotencyConflictError(PaygenticError):
    """The API answered an idempotency key with an event stored earlier for a different
    request (another customer, merchant, timestamp, metric or quantity): the key was reused
    for another event, and the usage just sent was NOT recorded. The message shows both.
    """

    def __init__(self, message: str, *, idempotency_key: str | None) -> None:
        super().__init__(message)
        self.idempotency_key = idempotency_key


class IngestError(PaygenticError):
    """Base class of the ingesters' own errors."""


class QueueFullError(IngestError):
    """submit() waited submit_timeout seconds for room in a full queue; nothing was enqueued."""


class IngesterClosedError(IngestError):
    """The ingester is closed (or closing), so it takes no more events, or its close deadline
    passed before the event was acknowledged. The event may or may not have been created:
    submit it again with the same idempotencyKey to make sure, without risk of a duplicate."""

    def __init__(self, message: str, idempotency_key: str | None = None) -> None:
        super().__init__(message)
        self.idempotency_key = idempotency_key


class EventRejectedError(IngestError):
    """The API rejected this event of a batch (it is in the 207 answer's `failed`).

    The event is invalid, not unlucky, so it is not retried. `reason` is the API's message.
    """

    def __init__(self, reason: str, *, index: int, idempotency_key: str | None) -> None:
        super().__init__(f"event {idempotency_key!r} was rejected: {reason}")
        self.reason = reason
        self.index = index
        self.idempotency_key = idempotency_key


class SpoolError(IngestError):
    """The spool (the ingesters' SQLite file, see paygentic_client.ingest.spool) cannot be
    used: it is not a spool, its schema version is unknown, or it cannot be opened or written
    (read-only, disk full). Raised by the constructor or by submit(); an event whose submit()
    raised it was not stored and not sent. The sqlite3 error is `__cause__`."""


class SpoolStorageError(SpoolError):
    """The storage under the spool failed an operation: the disk is full (or the spool reached
    its max_bytes), or the operating system reported an I/O error. The operation changed
    nothing (SQLite rolled it back), and the same call may succeed later, once space is freed:
    the ingesters back off and try again rather than give up. The message says what to free;
    `free_bytes` is the space that was left on the filesystem (None when it could not be read).
    """

    def __init__(self, message: str, *, free_bytes: int | None = None) -> None:
        super().__init__(message)
        self.free_bytes = free_bytes


class OutboxError(IngestError):
    """The PostgreSQL outbox (paygentic_client.ingest.outbox) cannot be used: its table is
    missing or of another schema version, the database user lacks a privilege, or the
    database cannot be reached. The psycopg error is `__cause__`."""


class CheckpointError(PaygenticError, ValueError):
    """The checkpoint file of an import cannot be used for this import."""


class ImportStopped(PaygenticError):
    """The API refused a whole batch of an import for a reason that is not about its events."""


class ResponseValidationError(PaygenticError, ValueError):
    """An answer that the client cannot read as the model its spec documents: a required
    field is missing, a value is of another type, or (with `strict_responses=True`) the API
    sent a field or an enum value this client does not know.

    The API answered with a success: for a create or a batch create, the events **were
    recorded**. Sending the same request again with the same idempotency keys is safe (it is
    answered with the same events), and the message says how to fetch them.

    Attributes:
        path: where in the body, e.g. `data[3].subscriptionId` (empty: the body as a whole).
        reason: what is wrong there, e.g. "required field is missing".
        status_code: the HTTP status of the answer (None when `from_dict` was called directly).
        body: the raw body as text, with credentials redacted (None when not known).
        operation: the operation that got the answer, e.g. "create_usage_event" (or None).
    """

    def __init__(
        self,
        reason: str,
        path: str = "",
        *,
        status_code: int | None = None,
        body: str | None = None,
        operation: str | None = None,
        accepted: str = "",
    ) -> None:
        self.reason = reason
        self.path = path
        self.status_code = status_code
        self.body = body
        self.operation = operation
        self._accepted = accepted
        super().__init__(reason)

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        answer = "the answer"
        if self.operation is not None:
            answer = f"the answer to {self.operation}"
        if self.status_code is not None:
            answer += f" (HTTP {self.status_code})"
        message = f"{answer} is not readable as its documented model: {where}{self.reason}"
        return f"{message}. {self._accepted}" if self._accepted else message

    def at(self, step: str | int) -> ResponseValidationError:
        """This error, one level further out: `step` is the key or list index that led to
        where it was found (the path is built from the inside out as it propagates)."""
        head = f"[{step}]" if isinstance(step, int) else str(step)
        if self.path and not self.path.startswith("["):
            self.path = f"{head}.{self.path}"
        else:
            self.path = f"{head}{self.path}"
        return self
