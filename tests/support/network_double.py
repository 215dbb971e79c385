"""A network double for tests: an httpx async transport between a client and a server's
transport (the in-process sandbox's ASGITransport) that decides what the network does to each
request. It stores no event and deduplicates nothing: what reaches the server is the server's.

Faults, taken from `script` first (in order), then drawn with `rates` from a seeded generator:
    "drop"     forward the request (the server commits it), then lose the answer:
               httpx.RemoteProtocolError, as when the connection dies after the work was done
    "timeout"  httpx.ReadTimeout before anything is forwarded
    "503"      answer 503 without forwarding (a proxy or an overloaded server)
    "429"      answer 429 with Retry-After: 0 without forwarding
    "400"      answer 400 without forwarding (a whole-batch refusal)
    any other status code ("301", "401", "413", "522", ...): answer it without forwarding
A `gate` holds every request that arrives while it is closed, until it is opened (from any
thread): a server that does not answer yet, for as long as a test needs and no longer.
`sent` records what arrived, in order, for the tests' assertions.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass

import httpx

FAULTS = ("drop", "timeout", "503", "429", "400")


@dataclass(frozen=True)
class Sent:
    """A request as it reached the double."""

    body: bytes
    fault: str  # one of FAULTS, or "none"
    arrived: float  # time.monotonic()
    headers: httpx.Headers

    @property
    def keys(self) -> list[str]:
        """The idempotency keys of a batch body, in order."""
        return [item["idempotencyKey"] for item in json.loads(self.body)["events"]]


class Gate:
    """Open, requests pass; closed, they wait in `passed()` until `open()`. Usable from the
    request's event loop and any other thread (each waiter is woken on its own loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._open = True
        self.held = 0  # requests waiting now
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._watchers: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def close(self) -> None:
        with self._lock:
            self._open = False

    def open(self) -> None:
        with self._lock:
            self._open = True
            waiters, self._waiters = self._waiters, []
        _wake(waiters)

    async def passed(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._open:
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, waiter))
            self._count(+1)
        try:
            await waiter
        finally:
            with self._lock:
                self._count(-1)

    def wait_held(self, count: int, timeout: float) -> bool:
        """From a thread: wait until `count` requests are held at once."""
        with self._lock:
            return self._changed.wait_for(lambda: self.held >= count, timeout)

    async def until_held(self, count: int, timeout: float) -> None:
        """From a coroutine: wait until `count` requests are held at once (TimeoutError)."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                with self._lock:
                    if self.held >= count:
                        return
                    watcher: asyncio.Future[None] = loop.create_future()
                    self._watchers.append((loop, watcher))
                await watcher

    def _count(self, change: int) -> None:
        """Under the lock: one more or one fewer request held; wake whoever watches."""
        self.held += change
        self._changed.notify_all()
        watchers, self._watchers = self._watchers, []
        _wake(watchers)


def _wake(futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]) -> None:
    for loop, future in futures:
        if not loop.is_closed():
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():  # a waiter cancelled meanwhile (its task was)
        future.set_result(None)


class NetworkDouble(httpx.AsyncBaseTransport):
    """Decides each request's fault (see the module docstring), then forwards it to `inner`
    or answers in its place."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        rates: dict[str, float] | None = None,
        seed: int = 7,
    ) -> None:
        self.inner = inner
        self.script: list[str] = []
        self.rates = dict(rates or {})
        unknown = set(self.rates) - set(FAULTS)
        if unknown or sum(self.rates.values()) > 1:
            raise ValueError(f"fault rates {self.rates}: unknown faults or a sum above 1")
        self.gate = Gate()
        self.sent: list[Sent] = []
        self._random = random.Random(seed)
        self._lock = threading.Lock()  # requests arrive from several loops (threads)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        with self._lock:
            fault = self._next_fault()
            sent = Sent(body, fault, time.monotonic(), request.headers)
            self.sent.append(sent)
        await self.gate.passed()
        if fault == "timeout":
            raise httpx.ReadTimeout("injected: no answer in time", request=request)
        if fault.isdigit():
            headers = {"Retry-After": "0"} if fault == "429" else {}
            if fault.startswith("3"):
                headers["Location"] = "https://elsewhere.invalid/v0/usage/batch"
            error = {"message": f"injected {fault}", "error": "injected"}
            return httpx.Response(int(fault), json=error, headers=headers)
        response = await self.inner.handle_async_request(request)
        if fault == "drop":
            await response.aread()  # the server did the work and answered: the answer is lost
            await response.aclose()
            raise httpx.RemoteProtocolError("injected: connection dropped after commit")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def _next_fault(self) -> str:
        if self.script:
            return self.script.pop(0)
        draw = self._random.random()
        for fault, rate in self.rates.items():
            if draw < rate:
                return fault
            draw -= rate
        return "none"

    # -- what arrived -------------------------------------------------------------------------

    def batch_sizes(self) -> list[int]:
        return [len(sent.keys) for sent in self.sent]

    def fault_counts(self) -> Counter[str]:
        return Counter(sent.fault for sent in self.sent)

    def bodies_by_first_key(self) -> dict[str, list[bytes]]:
        """Every body sent, grouped by its batch's first key: the sends of each batch."""
        bodies: dict[str, list[bytes]] = {}
        for sent in self.sent:
            bodies.setdefault(sent.keys[0], []).append(sent.body)
        return bodies
