"""The httpx clients behind a Client: built on first use, shared by its with_options copies."""

from __future__ import annotations

import http.cookiejar
from collections.abc import Mapping
from typing import Any

import httpx

from .pool import gated_async_transport

# httpx.AsyncClient options that configure the default transport, which the pool gate wraps;
# httpx would ignore them next to `transport=`, so they build the gated transport instead.
_TRANSPORT_OPTIONS = ("limits", "http1", "http2", "proxy")


class Connections:
    """The sync and the async httpx client of a Client and of every copy made of it with
    `with_options`, so that the copies use one connection pool."""

    __slots__ = ("asynchronous", "sync")

    def __init__(self) -> None:
        self.sync: httpx.Client | None = None
        self.asynchronous: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return "Connections()"  # the httpx clients hold the Authorization header


def async_client_args(httpx_args: dict[str, Any], *, verify: Any) -> dict[str, Any]:
    """httpx.AsyncClient keyword arguments whose default transport waits in line in front
    of the pool (pool.py); a transport given by the caller is used as it is."""
    args = dict(httpx_args)
    if "transport" in args:
        return args
    options = {name: args.pop(name) for name in _TRANSPORT_OPTIONS if name in args}
    args["transport"] = gated_async_transport(verify=verify, options=options)
    return args


class SetCookieOnlyJar(http.cookiejar.CookieJar):
    """A cookie jar that reads only responses carrying Set-Cookie.

    httpx hands every response to its jar (`Cookies.extract_cookies`); the stdlib jar's own
    pass over a response (policy, locking, header parsing) is half of that, ~10 µs per call,
    and the Paygentic API authenticates with a bearer token and sets no cookies. A response
    that does set one is stored as the stdlib jar would. httpx takes a CookieJar for
    `cookies=` and keeps using it, so no private attribute of httpx is touched.
    """

    def extract_cookies(self, response: Any, request: Any) -> None:
        headers = response.info()
        if headers.get_all("Set-Cookie") or headers.get_all("Set-Cookie2"):
            super().extract_cookies(response, request)


def cookie_jar(cookies: Mapping[str, str]) -> SetCookieOnlyJar:
    """A SetCookieOnlyJar holding the client's own cookies."""
    jar = SetCookieOnlyJar()
    httpx.Cookies(jar).update(dict(cookies))
    return jar
