"""The async client queues concurrent calls in front of httpx's pool (_runtime/pool.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from paygentic_client._runtime.connections import async_client_args
from paygentic_client._runtime.pool import DEFAULT_LIMITS, AsyncPoolGate, gated_async_transport


class CountingTransport(httpx.AsyncBaseTransport):
    """Answers 200 after yielding to the loop; records the most requests inside at once."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.served = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        try:
            await asyncio.sleep(0.001)
            self.served += 1
            return httpx.Response(200, json={"n": self.served})
        finally:
            self.inside -= 1


def test_the_gate_lets_in_at_most_its_size_and_serves_every_request() -> None:
    inner = CountingTransport()

    async def fan_out() -> list[int]:
        transport = AsyncPoolGate(inner, max_in_flight=3)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            responses = await asyncio.gather(*(client.get("/") for _ in range(50)))
        return [response.status_code for response in responses]

    assert asyncio.run(fan_out()) == [200] * 50
    assert inner.served == 50
    assert inner.most_inside == 3


def test_the_gate_rejects_a_size_below_one() -> None:
    with pytest.raises(ValueError, match="max_in_flight must be >= 1, not 0"):
        AsyncPoolGate(CountingTransport(), max_in_flight=0)


def _gate_size(transport: httpx.AsyncBaseTransport) -> int:
    assert isinstance(transport, AsyncPoolGate)
    return transport._slots._value


def test_the_default_transport_is_gated_by_its_pool_size() -> None:
    assert _gate_size(gated_async_transport(verify=True, options={})) == 100
    assert DEFAULT_LIMITS.max_connections == 100
    limits = httpx.Limits(max_connections=7, max_keepalive_connections=7)
    assert _gate_size(gated_async_transport(verify=True, options={"limits": limits})) == 7


def test_no_gate_without_a_connection_limit() -> None:
    unlimited = httpx.Limits(max_connections=None)
    transport = gated_async_transport(verify=True, options={"limits": unlimited})
    assert isinstance(transport, httpx.AsyncHTTPTransport)


def test_a_transport_of_ones_own_is_not_gated() -> None:
    mine = CountingTransport()
    assert async_client_args({"transport": mine}, verify=True)["transport"] is mine


def test_the_async_client_options_build_a_gated_transport() -> None:
    limits = httpx.Limits(max_connections=5)
    assert _gate_size(async_client_args({"limits": limits}, verify=True)["transport"]) == 5
