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
