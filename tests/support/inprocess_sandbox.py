"""The real sandbox app in this process, reached through a network double, for tests that
drive the client's whole stack (its options, headers, retry loop, the ingesters) fast.

    def test_x(in_process_sandbox: InProcessFactory) -> None:
        sandbox = in_process_sandbox(rates={"drop": 0.2}, seed=3)
        client = sandbox.client(retry_policy=FAST)       # sync (LoopThreadTransport)
        client = sandbox.async_client(retry_policy=FAST) # asyncio (the double directly)
        ...
        assert sandbox.stored_keys() == [...]

A client is built with its own public options: the transport goes in through `httpx_args`
(so the client's headers, User-Agent, timeouts and retry loop all apply; a transport of one's
own is not behind the pool gate, which tests/client/test_client_pool.py tests over real sockets).
The app is `paygentic_sandbox.app.create_app` on an in-memory database with the tokens of
tests/support/sandbox_fixture.py: deduplication, validation and 207 answers are the sandbox's own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Protocol

import httpx
import pytest
from paygentic_sandbox.app import create_app
from paygentic_sandbox.store import ListFilter

from paygentic_client import AuthenticatedClient
from support.loop_thread_transport import LoopThreadTransport
from support.network_double import NetworkDouble
from support.sandbox_fixture import MERCHANT_ID, TOKEN, TOKENS

# Never resolved: the transports route every request to the app.
BASE_URL = "http://sandbox.in-process"
_ALL_TIME = (-(2**62), 2**62)  # microseconds: a listing filter that every event passes
_PAGE = 1000


class InProcessSandbox:
    def __init__(self, *, rates: dict[str, float] | None = None, seed: int = 7) -> None:
        self.app = create_app(tokens=TOKENS)
        self.network = NetworkDouble(httpx.ASGITransport(app=self.app), rates=rates, seed=seed)
        self._bridges: list[LoopThreadTransport] = []

    def client(self, **options: Any) -> AuthenticatedClient:
        """A client for sync code (the threaded ingester)."""
        bridge = LoopThreadTransport(self.network)
        self._bridges.append(bridge)
        return self._client(bridge, options)

    def async_client(self, **options: Any) -> AuthenticatedClient:
        """A client for asyncio code, in any event loop."""
        return self._client(self.network, options)

    def dual_client(self, **options: Any) -> AuthenticatedClient:
        """One client for sync code and asyncio code alike (sync calls over a loop thread,
        async ones straight to the double)."""
        bridge = LoopThreadTransport(self.network)
        self._bridges.append(bridge)
        return self._client(DualTransport(bridge, self.network), options)

    def _client(self, transport: Any, options: dict[str, Any]) -> AuthenticatedClient:
        options.setdefault("token", TOKEN)
        return AuthenticatedClient(
            base_url=BASE_URL, httpx_args={"transport": transport}, **options
        )

    def stored_keys(self) -> list[str]:
        """The idempotency key of every event the sandbox holds for MERCHANT_ID, one per
        stored event (read from its store, not through the double)."""
        where = ListFilter(MERCHANT_ID, *_ALL_TIME)
        keys: list[str] = []
        while True:
            documents, total = self.app.store.page(where, _PAGE, len(keys))
            keys += [json.loads(document)["idempotencyKey"] for document in documents]
            if not documents or len(keys) >= total:
                return keys

    def close(self) -> None:
        """Let held requests go, stop the clients' loop threads, close the database."""
        self.network.gate.open()
        for bridge in self._bridges:
            bridge.close()
        self.app.store.close()


class DualTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport for both of a client's httpx clients: sync requests to `sync`, async ones to
    `async_`."""

    def __init__(self, sync: httpx.BaseTransport, async_: httpx.AsyncBaseTransport) -> None:
        self.sync = sync
        self.async_ = async_

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.async_.handle_async_request(request)


class InProcessFactory(Protocol):
    def __call__(
        self, *, rates: dict[str, float] | None = ..., seed: int = ...
    ) -> InProcessSandbox: ...


@pytest.fixture
def in_process_sandbox() -> Iterator[InProcessFactory]:
    """Make in-process sandboxes; each is closed after the test."""
    made: list[InProcessSandbox] = []

    def make(*, rates: dict[str, float] | None = None, seed: int = 7) -> InProcessSandbox:
        sandbox = InProcessSandbox(rates=rates, seed=seed)
        made.append(sandbox)
        return sandbox

    yield make
    for sandbox in made:
        sandbox.close()
