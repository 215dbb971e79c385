"""Keeping bearer tokens out of reprs and messages.

A token is removed as a value, never as a run of letters: a short token such as `est` must
not turn "Requests" into "Reques[REDACTED]s". What is redacted:
- the value of an Authorization header written out (`Authorization: Bearer x`,
  `'authorization': 'x'`), whatever x is;
- the password of URL credentials (`https://user:x@host`), whatever x is;
- each occurrence of a known secret that stands on its own: not touching a character that
  a bearer token may hold (RFC 6750's b64token: letters, digits and `-._~+/=`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

import httpx

REDACTED = "[REDACTED]"
# Lower-case names of headers whose values are credentials.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})

_TOKEN_CHARACTERS = r"A-Za-z0-9\-._~+/="
# The header's name, its separator and quotes, an optional scheme; then the credentials.
_AUTHORIZATION_VALUE = re.compile(
    rf"(authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?)[{_TOKEN_CHARACTERS}]+",
    re.IGNORECASE,
)
# scheme://user:password@ -- the user part is kept, it helps to know which account it was.
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]+@")


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


def request_credential(request: httpx.Request) -> str:
    """The credential a request carries in its Authorization header (the token of a bearer)."""
    value: str = request.headers.get("authorization", "")
    return value.partition(" ")[2] or value


def redact(text: str, secrets: Collection[str]) -> str:
    """text without credentials: see the module docstring for what is replaced."""
    text = _AUTHORIZATION_VALUE.sub(rf"\1{REDACTED}", text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    for secret in secrets:
        if secret:
            text = _standalone(secret).sub(REDACTED, text)
    return text


def _standalone(secret: str) -> re.Pattern[str]:
    """The secret where it is a whole token, not part of a longer word."""
    return re.compile(rf"(?<![{_TOKEN_CHARACTERS}]){re.escape(secret)}(?![{_TOKEN_CHARACTERS}])")


# What stands for a query value in logs, span attributes and messages: the keys say which
# filters a call used, the values (customer and merchant ids, time ranges) stay out. The word
# is the one OpenTelemetry's semantic conventions use for redacted URL parts.
QUERY_VALUE = "REDACTED"


def path_without_values(url: httpx.URL) -> str:
    """The URL's path, and its query with every value replaced: `/v0/usage?customerId=REDACTED`."""
    path, _, query = url.raw_path.decode("ascii", "replace").partition("?")
    if not query:
        return path
    keys = (part.partition("=")[0] for part in query.split("&") if part)
    return f"{path}?{'&'.join(f'{key}={QUERY_VALUE}' for key in keys)}"


def url_without_secrets(url: httpx.URL) -> str:
    """The absolute URL without its user and password, fragment or query values, for a span's
    `url.full`: `https://api.paygentic.io/v0/usage?customerId=REDACTED`."""
    host = f"[{url.host}]" if ":" in url.host else url.host
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{host}{port}{path_without_values(url)}"


def url_repr(url: object) -> str:
    """repr() of a base URL with the password of `user:password@` replaced."""
    return repr(redact(str(url), ()))


def redact_body(content: bytes, secrets: Collection[str]) -> bytes:
    """A response body with the credentials replaced as `redact` does (a server that echoes
    the request back must not leave the token in an exception's `content`). Latin-1 maps
    every byte to one character and back, so the bytes around a credential are kept as they
    were, whatever their encoding."""
    text = content.decode("latin-1")
    cleaned = redact(text, secrets)
    return content if cleaned == text else cleaned.encode("latin-1")


def redact_headers(headers: Mapping[str, str], secrets: Collection[str]) -> Mapping[str, str]:
    """Response headers with credential headers' values replaced, and credentials removed from
    the others; the same object when there was nothing to remove."""
    items = headers.multi_items() if isinstance(headers, httpx.Headers) else list(headers.items())
    cleaned = [
        (name, REDACTED if name.lower() in SECRET_HEADERS else redact(value, secrets))
        for name, value in items
    ]
    if cleaned == items:
        return headers
    return httpx.Headers(cleaned)
