"""Skipping httpx's cookie parsing of responses that set no cookie.

httpx hands every response to urllib's cookie jar, through adapters that rebuild the request
as a urllib Request and the headers as an email.message (~40 µs per call, as much as the
rest of a create through an in-process transport; scripts/bench, section 1). The Paygentic
API authenticates with a bearer token and sets no cookies, so for a response without a
Set-Cookie header that work finds nothing. A response that has one is stored as httpx would.
"""

from __future__ import annotations

import httpx


class CookiesFromSetCookieOnly(httpx.Cookies):
    """httpx.Cookies that only parse a response carrying a Set-Cookie header."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


def skip_cookie_parsing_without_set_cookie(client: httpx.Client | httpx.AsyncClient) -> None:
    """Install CookiesFromSetCookieOnly (keeping the client's cookies) on a client we made.

    httpx has no public hook for this: its `cookies` setter always wraps in plain
    httpx.Cookies, so the private attribute is set (httpx is pinned below 0.29, and
    tests/test_client_cookies.py fails if a new httpx stops calling this object).
    """
    client._cookies = CookiesFromSetCookieOnly(client.cookies)
