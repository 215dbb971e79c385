"""Concurrent async calls wait in line in front of httpx's connection pool, not inside it.

httpcore 1.0's pool re-examines every queued request against every connection whenever a
request arrives or finishes, and hands a freed connection to every waiter, all but one of
which then re-queue (encode/httpcore#1035, encode/httpx#3215). Gathering 1000 calls over the
default 100 connections therefore costs on the order of 10^8 steps before the first
response, and the fan-out took minutes instead of seconds. A semaphore sized like the pool
keeps the waiting in asyncio, where a waiter costs nothing until its turn, and the pool
never holds more requests than it has connections.

The semaphore is taken per attempt: a call that backs off before a retry frees its place.
Waiting in this line is not bounded by the pool timeout, which only covers the wait for a
connection once a call is let in.
"""

from __future__ import annotations

from typing import Any

import httpx

# httpx's own default (httpx.HTTPTransport's `limits`), spelled out because the gate needs
# the number of connections.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class AsyncPoolGate(httpx.AsyncBaseTransport):
    """Lets at most `max_in_flight` requests into `inner` at a time; the others wait."""

    def __init__(self, inner: httpx.AsyncBaseTransport, max_in_flight: int) -> None:
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, not {max_in_flight}")
        # Imported here, with the first async client: sync-only programs never load asyncio.
        import asyncio

        self.inner = inner
        self._slots = asyncio.Semaphore(max_in_flight)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Released once the response's headers are in: the body is read right after, and a
        # pool queue as long as the number of connections is cheap.
        async with self._slots:
            return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def gated_async_transport(*, verify: Any, options: dict[str, Any]) -> httpx.AsyncBaseTransport:
    """httpx's async transport built from the client's transport options, behind a gate."""
    limits: httpx.Limits = options.get("limits") or DEFAULT_LIMITS
    transport = httpx.AsyncHTTPTransport(verify=verify, **(options | {"limits": limits}))
    if limits.max_connections is None:
        return transport  # no limit on connections: nothing ever queues in the pool
    return AsyncPoolGate(transport, limits.max_connections)
