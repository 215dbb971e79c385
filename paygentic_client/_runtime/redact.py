"""Keeping bearer tokens out of reprs and messages."""

from __future__ import annotations

from collections.abc import Collection, Mapping

REDACTED = "[REDACTED]"
# Lower-case names of headers whose values are credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


def redacted_headers_repr(headers: Mapping[str, str]) -> str:
    """repr() of a headers mapping with the values of credential headers replaced."""
    return repr(
        {
            name: REDACTED if name.lower() in SECRET_HEADERS else value
            for name, value in headers.items()
        }
    )


def secrets_of(client: object) -> tuple[str, ...]:
    """The credentials a client sends, to be removed from anything shown to people."""
    token = getattr(client, "token", None)
    return (token,) if isinstance(token, str) and token else ()


def redact(text: str, secrets: Collection[str]) -> str:
    """text with every occurrence of each secret replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text
