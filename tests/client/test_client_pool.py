"""The async client's connection limits, seen from a server: concurrent calls wait in line in
front of httpx's pool (_runtime/pool.py), at most the pool's size are sent at once, and every
call is served. Over real sockets (tests/support/concurrency_server.py, 127.0.0.1), because the gate
wraps httpx's own transport, which only a real server reaches."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator

import httpx
import pytest
from support.concurrency_server import Concurrency, ConcurrencyServer

from paygentic_client import AuthenticatedClient
from paygentic_client._runtime.pool import AsyncPoolGate

TOKEN = "tok_Pool4Kq8Wz2Xn6"
# httpx's own default pool size (the `limits` default of its transport): the client keeps it.
HTTPX_DEFAULT_POOL = inspect.signature(httpx.AsyncHTTPTransport).parameters["limits"].default
# Long enough for hundreds of loopback connections on a loaded machine; a client that can
# never have that many calls inside at once fails after it.
HOLD_PATIENCE = 10.0
# How long the server keeps the first calls of a limited client once the limit is reached, for
# a client that would send more to show it (see tests/support/concurrency_server.py).
SETTLE = 0.2

ServerFactory = Callable[[Concurrency], ConcurrencyServer]


@pytest.fixture
def concurrency_server() -> Iterator[ServerFactory]:
    started: list[ConcurrencyServer] = []

    def start(concurrency: Concurrency) -> ConcurrencyServer:
        server = ConcurrencyServer(concurrency)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def fan_out(client: AuthenticatedClient, calls: int) -> list[int]:
    """Make `calls` GETs at once through the client's async httpx client; their statuses."""

    async def main() -> list[int]:
        async with client:
            httpx_client = client.get_async_httpx_client()
            responses = await asyncio.gather(
                *(httpx_client.get(f"/v0/usage/usg_{n}") for n in range(calls))
            )
        return [response.status_code for response in responses]

    return asyncio.run(main())


def test_the_default_client_sends_at_most_httpx_pool_size_at_once_and_serves_every_call(
    concurrency_server: ServerFactory,
) -> None:
    pool = HTTPX_DEFAULT_POOL.max_connections
    assert pool is not None
    seen = Concurrency(hold_until=pool, patience=HOLD_PATIENCE, settle=SETTLE)
    server = concurrency_server(seen)
    client = AuthenticatedClient(base_url=server.url, token=TOKEN)
    assert fan_out(client, pool + 50) == [200] * (pool + 50)
    assert seen.most == pool
    assert seen.served == pool + 50


def test_a_connection_limit_of_the_clients_options_bounds_the_calls_at_once(
    concurrency_server: ServerFactory,
) -> None:
    seen = Concurrency(hold_until=7, patience=HOLD_PATIENCE, settle=SETTLE)
    server = concurrency_server(seen)
    limits = httpx.Limits(max_connections=7, max_keepalive_connections=7)
    client = AuthenticatedClient(base_url=server.url, token=TOKEN, httpx_args={"limits": limits})
    assert fan_out(client, 50) == [200] * 50
    assert seen.most == 7
    assert seen.served == 50


def test_without_a_connection_limit_every_call_goes_at_once(
    concurrency_server: ServerFactory,
) -> None:
    """No limit, no line: more calls than httpx's default pool are all inside together."""
    assert HTTPX_DEFAULT_POOL.max_connections is not None
    calls = HTTPX_DEFAULT_POOL.max_connections + 50
    seen = Concurrency(hold_until=calls, patience=HOLD_PATIENCE)
    server = concurrency_server(seen)
    unlimited = httpx.Limits(max_connections=None)
    client = AuthenticatedClient(base_url=server.url, token=TOKEN, httpx_args={"limits": unlimited})
    assert fan_out(client, calls) == [200] * calls
    assert seen.most == calls


class CountingTransport(httpx.AsyncBaseTransport):
    """Answers 200 to every request, counted and held by a Concurrency (in this loop)."""

    def __init__(self, concurrency: Concurrency) -> None:
        self.concurrency = concurrency

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.concurrency.admit()
        self.concurrency.leave()
        return httpx.Response(200, json={})


def test_a_transport_of_ones_own_is_used_as_it_is() -> None:
    """No gate in front of a caller's transport: more calls than any default gate would let
    in are inside it at once."""
    assert HTTPX_DEFAULT_POOL.max_connections is not None
    calls = HTTPX_DEFAULT_POOL.max_connections + 50
    seen = Concurrency(hold_until=calls, patience=HOLD_PATIENCE)
    transport = CountingTransport(seen)
    client = AuthenticatedClient(
        base_url="http://pool.test", token=TOKEN, httpx_args={"transport": transport}
    )
    assert fan_out(client, calls) == [200] * calls
    assert seen.most == calls


def test_the_gate_lets_in_at_most_its_size_and_serves_every_request() -> None:
    seen = Concurrency(hold_until=3, patience=HOLD_PATIENCE, settle=SETTLE)

    async def main() -> list[int]:
        transport = AsyncPoolGate(CountingTransport(seen), max_in_flight=3)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(*(client.get("/") for _ in range(50)))
        return [response.status_code for response in responses]

    assert asyncio.run(main()) == [200] * 50
    assert seen.served == 50
    assert seen.most == 3


def test_the_gate_rejects_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="max_in_flight must be >= 1, not 0"):
        AsyncPoolGate(CountingTransport(Concurrency()), max_in_flight=0)
