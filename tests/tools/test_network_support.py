"""The test-support transports the ingester tests stand on: LoopThreadTransport (sync over
async, tests/support/loop_thread_transport.py) and NetworkDouble with its Gate
(tests/support/network_double.py), in front of the in-process sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import Any

import httpx
import pytest
from support.inprocess_sandbox import BASE_URL, InProcessFactory
from support.loop_thread_transport import LoopThreadTransport
from support.network_double import FAULTS, NetworkDouble
from support.sandbox_fixture import AUTH, MERCHANT_ID

PATIENCE = 30.0


class RecordingTransport(httpx.AsyncBaseTransport):
    """Calls an async handler with each request; notes whether it was closed."""

    def __init__(self, handler: Any) -> None:
        self.handler = handler
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response: httpx.Response = await self.handler(request)
        return response

    async def aclose(self) -> None:
        self.closed = True


def test_the_loop_thread_transport_forwards_requests_and_answers() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        seen["request"] = (request.method, str(request.url), request.headers["x-a"])
        seen["body"] = await request.aread()
        seen["thread"] = threading.current_thread()
        return httpx.Response(207, headers={"x-b": "2"}, json={"ok": True})

    transport = LoopThreadTransport(RecordingTransport(handler))
    with httpx.Client(transport=transport, base_url="http://t.test") as client:
        response = client.post("/p?q=1", content=b"hello", headers={"x-a": "1"})
    assert (response.status_code, response.headers["x-b"], response.json()) == (
        207,
        "2",
        {"ok": True},
    )
    assert seen["request"] == ("POST", "http://t.test/p?q=1", "1")
    assert seen["body"] == b"hello"
    assert seen["thread"] is transport.thread  # run on the transport's loop, not the caller's


def test_the_loop_thread_transport_raises_what_the_inner_transport_raises() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with (
        httpx.Client(transport=LoopThreadTransport(RecordingTransport(handler))) as client,
        pytest.raises(httpx.ReadTimeout, match="slow"),
    ):
        client.get("http://t.test/")


def test_the_loop_thread_transport_serves_threads_concurrently() -> None:
    """The first request is answered only once the second has arrived: served one after the
    other, the first would give up (504)."""
    second_arrived = asyncio.Event()  # used only on the transport's loop

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/second":
            second_arrived.set()
            return httpx.Response(200)
        try:
            await asyncio.wait_for(second_arrived.wait(), PATIENCE)
        except TimeoutError:
            return httpx.Response(504)
        return httpx.Response(200)

    transport = LoopThreadTransport(RecordingTransport(handler))
    statuses: dict[str, int] = {}
    with httpx.Client(transport=transport, base_url="http://t.test") as client:

        def call(path: str) -> None:
            statuses[path] = client.get(path).status_code

        first = threading.Thread(target=call, args=("/first",))
        first.start()
        call("/second")
        first.join()
    assert statuses == {"/first": 200, "/second": 200}


def test_closing_the_loop_thread_transport_stops_its_thread_and_closes_the_inner_one() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    inner = RecordingTransport(handler)
    transport = LoopThreadTransport(inner)
    transport.close()
    transport.close()  # a second close does nothing
    assert inner.closed
    assert not transport.thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        transport.handle_request(httpx.Request("GET", "http://t.test/"))


def batch(*keys: str) -> dict[str, Any]:
    return {
        "events": [
            {
                "idempotencyKey": key,
                "customerId": "cus_abc123xyz",
                "merchantId": MERCHANT_ID,
                "timestamp": "2024-01-15T10:30:00Z",
                "properties": [{"billableMetricId": "bm_x", "quantity": 1}],
            }
            for key in keys
        ]
    }


async def post_batch(network: NetworkDouble, *keys: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=network, base_url=BASE_URL, headers=AUTH) as client:
        return await client.post("/v0/usage/batch", json=batch(*keys))


def test_a_dropped_answer_was_stored_by_the_sandbox(in_process_sandbox: InProcessFactory) -> None:
    sandbox = in_process_sandbox()
    sandbox.network.script = ["drop", "none"]
    with pytest.raises(httpx.RemoteProtocolError):
        asyncio.run(post_batch(sandbox.network, "k1"))
    assert sandbox.stored_keys() == ["k1"]
    again = asyncio.run(post_batch(sandbox.network, "k1"))  # the sandbox deduplicates
    assert again.status_code == 201
    assert sandbox.stored_keys() == ["k1"]


@pytest.mark.parametrize("fault", ["timeout", "503", "429", "400"])
def test_other_faults_never_reach_the_sandbox(
    in_process_sandbox: InProcessFactory, fault: str
) -> None:
    sandbox = in_process_sandbox()
    sandbox.network.script = [fault]
    if fault == "timeout":
        with pytest.raises(httpx.ReadTimeout):
            asyncio.run(post_batch(sandbox.network, "k1"))
    else:
        response = asyncio.run(post_batch(sandbox.network, "k1"))
        assert response.status_code == int(fault)
        assert response.headers.get("retry-after") == ("0" if fault == "429" else None)
    assert sandbox.stored_keys() == []
    assert [(sent.fault, sent.keys) for sent in sandbox.network.sent] == [(fault, ["k1"])]


def test_faults_drawn_by_rate_repeat_with_the_seed(in_process_sandbox: InProcessFactory) -> None:
    rates = dict.fromkeys(FAULTS, 0.15)

    def draws(seed: int) -> list[str]:
        network = in_process_sandbox(rates=rates, seed=seed).network

        async def main() -> None:
            for n in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    await post_batch(network, f"k{n}")

        asyncio.run(main())
        return [sent.fault for sent in network.sent]

    first = draws(5)
    assert first == draws(5)
    assert set(first) == {*FAULTS, "none"}
    assert first != draws(6)


def test_the_gate_holds_requests_until_opened_from_another_thread(
    in_process_sandbox: InProcessFactory,
) -> None:
    sandbox = in_process_sandbox()
    gate = sandbox.network.gate
    gate.close()
    client = sandbox.client()
    answered: list[int] = []

    def call() -> None:
        body = json.dumps(batch("k1")).encode()
        headers = {"Content-Type": "application/json"}
        response = client.get_httpx_client().post("/v0/usage/batch", content=body, headers=headers)
        answered.append(response.status_code)

    caller = threading.Thread(target=call)
    caller.start()
    assert gate.wait_held(1, PATIENCE)
    assert answered == [] and sandbox.stored_keys() == []  # held before the sandbox
    gate.open()
    caller.join(PATIENCE)
    assert answered == [201]
    assert gate.held == 0
    assert sandbox.stored_keys() == ["k1"]
