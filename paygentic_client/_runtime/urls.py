"""Absolute request URLs for the operations whose path is fixed.

Given a relative URL, httpx parses it and re-joins it with the client's base URL on every
request: two URL parses, ~40 µs, a quarter of a whole create through an in-process transport
(scripts/bench, section 1). An operation with a fixed path (create, list, batch create) joins
once per base URL instead and hands httpx the absolute URL, which it takes as it is.
"""

from __future__ import annotations

import httpx


def join_base_url(base_url: httpx.URL, path: str) -> httpx.URL:
    """`path` joined to `base_url` exactly as httpx joins a relative request URL: appended to
    the base URL's path (which httpx keeps ending in "/"), never replacing it."""
    relative = httpx.URL(path)
    if not relative.is_relative_url:
        return relative
    base_path = base_url.raw_path if base_url.raw_path.endswith(b"/") else base_url.raw_path + b"/"
    return base_url.copy_with(raw_path=base_path + relative.raw_path.lstrip(b"/"))


class FixedPathUrl:
    """The absolute URL of one fixed path, for whichever base URL the client has now.

    It remembers the last base URL it joined; a client with another base URL (or one whose
    base_url was changed) gets a new join. The base URL and its join are kept in one tuple,
    replaced in one assignment, so concurrent callers with different clients never see one
    client's URL paired with the other's base.
    """

    __slots__ = ("_last", "path")

    def __init__(self, path: str) -> None:
        self.path = path
        self._last: tuple[httpx.URL, httpx.URL] | None = None

    def on(self, client: httpx.Client | httpx.AsyncClient) -> httpx.URL:
        base_url = client.base_url
        last = self._last
        # An identity check: the tuple keeps that base URL object alive, so it cannot be
        # another URL at a reused address.
        if last is not None and last[0] is base_url:
            return last[1]
        url = join_base_url(base_url, self.path)
        self._last = (base_url, url)
        return url
