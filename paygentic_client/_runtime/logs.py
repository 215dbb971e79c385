"""Logging under the `paygentic_client` logger: one DEBUG line per request and per response.

The lines carry the method, the path, the status, the attempt and the duration, never a
header, so the Authorization header and the token cannot reach a log. `PAYGENTIC_LOG=debug`
(or any other level name) turns the logger on without touching logging's configuration.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from .redact import redact

LOGGER_NAME = "paygentic_client"
LOG_LEVEL_VARIABLE = "PAYGENTIC_LOG"

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


def log_request(method: str, path: str, attempt: int) -> None:
    logger.debug("request %s %s attempt=%d", method, path, attempt)


def log_response(method: str, path: str, status: int, attempt: int, seconds: float) -> None:
    logger.debug(
        "response %s %s status=%d attempt=%d duration=%.1fms",
        method,
        path,
        status,
        attempt,
        seconds * 1000,
    )


def log_failure(
    method: str, path: str, error: Exception, attempt: int, seconds: float, secret: str
) -> None:
    """A request that got no response; the message is scrubbed of the credential."""
    logger.debug(
        "response %s %s error=%s(%s) attempt=%d duration=%.1fms",
        method,
        path,
        type(error).__name__,
        redact(str(error), (secret,)),
        attempt,
        seconds * 1000,
    )
