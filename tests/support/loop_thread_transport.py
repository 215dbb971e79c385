"""A sync httpx transport over an async one, for tests: httpx has no sync ASGI transport, and
the sync client and the threaded ingester must reach an in-process ASGI app too.

Every request runs on one event loop in a background thread (`asyncio.run_coroutine_threadsafe`
from the calling thread, so several sender threads are served concurrently, as a server would
serve them). The thread is a daemon so that code running at interpreter exit (the ingester's
exit hook) can still send; a test closes the transport, which stops the loop and joins it.
"""

from __future__ import annotations

import asyncio
import threading

import httpx


class LoopThreadTransport(httpx.BaseTransport):
    """Sends each request through `inner` on the event loop of a thread of its own."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="test-loop-transport", daemon=True
        )
        self.thread.start()
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        # A request built from bytes reads the same in sync and async code.
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.read(),
            extensions=request.extensions,
        )
        answer = asyncio.run_coroutine_threadsafe(self._send(forwarded), self.loop)
        status, headers, content = answer.result()
        return httpx.Response(status, headers=headers, content=content)

    async def _send(self, request: httpx.Request) -> tuple[int, httpx.Headers, bytes]:
        response = await self.inner.handle_async_request(request)
        try:
            content = await response.aread()
        finally:
            await response.aclose()
        # The content is decoded now: the sync Response must not decode it again, and it
        # computes its own Content-Length.
        headers = response.headers.copy()
        for name in ("content-encoding", "content-length"):
            headers.pop(name, None)
        return response.status_code, headers, content

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        asyncio.run_coroutine_threadsafe(self.inner.aclose(), self.loop).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
