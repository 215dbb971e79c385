"""A sync face on an httpx.AsyncClient that calls an ASGI app (the sandbox) in process,
for tests of the sandbox's own pages and controls that need no process.

    browser = Client(create_app(tokens=TOKENS))
    browser.post("/_sandbox/login", data={"token": TOKEN})   # keeps the cookie
    browser.close()
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from starlette.types import ASGIApp

# Loopback with a port, as a real server is reached: the dashboard names its cookie by port.
BASE_URL = "http://127.0.0.1:8000"


class Client:
    """A sync face on an httpx.AsyncClient that calls the app in process: it keeps its cookies
    like a browser and follows no redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app)
        self._client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **options))

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def delete(self, url: str, **options: Any) -> httpx.Response:
        return self.request("DELETE", url, **options)

    def put(self, url: str, **options: Any) -> httpx.Response:
        return self.request("PUT", url, **options)

    def patch(self, url: str, **options: Any) -> httpx.Response:
        return self.request("PATCH", url, **options)

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()
