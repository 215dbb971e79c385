"""Defaults of the generated clients, and their configuration from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx

from ..errors import ConfigurationError
from .version import VERSION

# The production server, servers[0] of openapi.yaml (a test keeps the two in step).
PRODUCTION_BASE_URL = "https://api.paygentic.io"

# A batch of 1000 events can take the API well over httpx's default 5 s to store and answer;
# connecting, though, should be quick, and a dead host should fail fast (and be retried).
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=5.0)

TOKEN_VARIABLE = "PAYGENTIC_BEARER_AUTH"
BASE_URL_VARIABLE = "PAYGENTIC_BASE_URL"


def version() -> str:
    """The distribution's version (paygentic_client.__version__)."""
    return VERSION


USER_AGENT = f"paygentic-client/{version()}"


def with_user_agent(headers: Mapping[str, str]) -> dict[str, str]:
    """headers with our User-Agent, unless they name one themselves."""
    if any(name.lower() == "user-agent" for name in headers):
        return dict(headers)
    return {"User-Agent": USER_AGENT, **headers}


def settings_from_env(environ: Mapping[str, str] = os.environ) -> tuple[str, str]:
    """(token, base_url) from PAYGENTIC_BEARER_AUTH and the optional PAYGENTIC_BASE_URL."""
    token = environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ConfigurationError(
            f"{TOKEN_VARIABLE} is not set (or empty): set it to your Paygentic API token"
        )
    base_url = environ.get(BASE_URL_VARIABLE, "").strip() or PRODUCTION_BASE_URL
    return token, base_url
