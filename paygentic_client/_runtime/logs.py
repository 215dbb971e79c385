"""Logging under the `paygentic_client` logger: one DEBUG line per request and per response.

The lines carry the method, the path, the status, the attempt and the duration, never a
header, so the Authorization header and the token cannot reach a log; nor a query value or a
body, which carry customer ids and usage (a list call's `?customerId=REDACTED`). Only
`PAYGENTIC_LOG_BODIES=1`, for debugging, adds the query and both bodies (credentials still
removed). `PAYGENTIC_LOG=debug` (or any other level name) turns the logger on without
touching logging's configuration.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

import httpx

from .redact import path_without_values, redact, request_credential

LOGGER_NAME = "paygentic_client"
LOG_LEVEL_VARIABLE = "PAYGENTIC_LOG"
BODIES_VARIABLE = "PAYGENTIC_LOG_BODIES"
# A body longer than this is cut in a log line (a batch of 1000 events is ~650 kB).
BODY_LOG_LIMIT = 4096

logger = logging.getLogger(LOGGER_NAME)


def configure_from_env(environ: Mapping[str, str] = os.environ) -> None:
    """Apply `PAYGENTIC_LOG` (e.g. `debug`) to the `paygentic_client` logger, once.

    Adds a stderr handler only when the logger has none of its own, so an application that
    configures logging itself keeps control of where the lines go.
    """
    name = environ.get(LOG_LEVEL_VARIABLE, "").strip().upper()
    if not name:
        return
    level = logging.getLevelNamesMapping().get(name)
    if level is None:
        raise ValueError(
            f"{LOG_LEVEL_VARIABLE}={environ[LOG_LEVEL_VARIABLE]!r} is not a logging level "
            "(use debug, info, warning or error)"
        )
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        logger.addHandler(handler)


def debug_enabled() -> bool:
    return logger.isEnabledFor(logging.DEBUG)


def bodies_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """PAYGENTIC_LOG_BODIES=1: log query values and bodies (customer data) too."""
    return environ.get(BODIES_VARIABLE, "").strip() == "1"


def log_request(request: httpx.Request, attempt: int) -> None:
    if bodies_enabled():
        secret = request_credential(request)
        logger.debug(
            "request %s %s attempt=%d body=%s",
            request.method,
            redact(request.url.raw_path.decode("ascii", "replace"), (secret,)),
            attempt,
            _body(_request_content(request), secret),
        )
        return
    logger.debug(
        "request %s %s attempt=%d", request.method, path_without_values(request.url), attempt
    )


def log_response(
    request: httpx.Request, response: httpx.Response, attempt: int, seconds: float
) -> None:
    if bodies_enabled():
        secret = request_credential(request)
        logger.debug(
            "response %s %s status=%d attempt=%d duration=%.1fms body=%s",
            request.method,
            redact(request.url.raw_path.decode("ascii", "replace"), (secret,)),
            response.status_code,
            attempt,
            seconds * 1000,
            _body(response.content, secret),
        )
        return
    logger.debug(
        "response %s %s status=%d attempt=%d duration=%.1fms",
        request.method,
        path_without_values(request.url),
        response.status_code,
        attempt,
        seconds * 1000,
    )


def log_failure(
    request: httpx.Request, error: BaseException, attempt: int, seconds: float, secret: str
) -> None:
    """A request that got no response; the message is scrubbed of the credential."""
    logger.debug(
        "response %s %s error=%s(%s) attempt=%d duration=%.1fms",
        request.method,
        path_without_values(request.url),
        type(error).__name__,
        redact(str(error), (secret,)),
        attempt,
        seconds * 1000,
    )


def _request_content(request: httpx.Request) -> bytes:
    try:
        return request.content
    except httpx.RequestNotRead:  # a streamed body: not ours to read
        return b""


def _body(content: bytes, secret: str) -> str:
    # Redacted whole, then cut: a cut through a token would hide it from redact().
    text = redact(content.decode("utf-8", "replace"), (secret,))
    more = len(text) - BODY_LOG_LIMIT
    return f"{text[:BODY_LOG_LIMIT]}... ({more} more characters)" if more > 0 else text
