"""Token redaction removes the token as a value, never the same letters inside other words."""

from __future__ import annotations

import logging

import httpx
import pytest
from support.client_harness import INSTANT_RETRIES

from paygentic_client import AuthenticatedClient, errors
from paygentic_client._runtime import logs
from paygentic_client._runtime.redact import REDACTED, redact
from paygentic_client.api.usage_events import get_usage_event

SHORT_TOKEN = "est"  # letters of "Requests", "test", "estimate"


def short_token_client(status: int, body: bytes) -> AuthenticatedClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    return AuthenticatedClient(
        base_url="https://api.test.invalid",
        token=SHORT_TOKEN,
        httpx_args={"transport": httpx.MockTransport(answer)},
        retry_policy=INSTANT_RETRIES,
        max_retries=0,
    )


def test_a_short_token_leaves_the_words_of_an_error_message_alone() -> None:
    body = b'{"error": "rate_limited", "code": "RATE_LIMITED", "message": "Requests of est: test"}'
    client = short_token_client(429, body)

    with pytest.raises(errors.RateLimitError) as raised:
        get_usage_event.sync("usg_0", client=client)

    assert str(raised.value) == (
        f"HTTP 429 Too Many Requests (rate_limited, RATE_LIMITED): Requests of {REDACTED}: test"
    )


def test_a_short_token_leaves_the_words_of_a_log_line_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failure = httpx.ConnectError("Requests to https://me:est@proxy.test failed (test est)")
    with caplog.at_level(logging.DEBUG, logger=logs.LOGGER_NAME):
        request = httpx.Request("GET", "https://api.test/v0/usage/usg_0")
        logs.log_failure(request, failure, 1, 0.0, SHORT_TOKEN)

    (line,) = [record.getMessage() for record in caplog.records]
    assert (
        f"error=ConnectError(Requests to https://me:{REDACTED}@proxy.test failed (test {REDACTED}))"
        in line
    )


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        ("Authorization: Bearer tok_other.x==", f"Authorization: Bearer {REDACTED}"),
        ("{'authorization': 'Basic dXNlcg=='}", f"{{'authorization': 'Basic {REDACTED}'}}"),
        ("https://user:pass@host.test/v0", f"https://user:{REDACTED}@host.test/v0"),
        ('"est"', f'"{REDACTED}"'),
        ("Requests tested: estimate, best-est", "Requests tested: estimate, best-est"),
        ("Missing Bearer token", "Missing Bearer token"),
    ],
)
def test_what_is_redacted(text: str, redacted: str) -> None:
    assert redact(text, (SHORT_TOKEN,)) == redacted
