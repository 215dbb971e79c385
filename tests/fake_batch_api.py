"""An in-process double of the batch endpoint for the ingester tests (httpx.MockTransport).

It deduplicates by idempotency key like the API, rejects events whose quantity is below 1
(in `failed` of a 207), and injects faults in the order they are scripted in `faults`:
    "drop"    create the events, then fail the connection without an answer
    "timeout" fail with a read timeout before anything is created
    "503"     answer 503 without creating anything
    "429"     answer 429 with Retry-After: 0
    "400"     answer 400 (a whole-batch refusal)
or with the probabilities of `fault_rates`, drawn from a seeded generator.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from typing import Any

import httpx

from paygentic_client import AuthenticatedClient

TOKEN = "tok_Ingest7Xq4Lm2Vz9"
BASE_URL = "https://api.test.invalid"


class FakeBatchApi:
    def __init__(self, *, fault_rates: dict[str, float] | None = None, seed: int = 7) -> None:
        self.events: dict[str, dict[str, Any]] = {}
        self.faults: list[str] = []
        self.fault_rates = fault_rates or {}
        self.requests = 0
        self.batch_sizes: list[int] = []
        self.bodies_by_first_key: dict[str, list[bytes]] = {}
        self.fault_counts: Counter[str] = Counter()
        self.gate = threading.Event()  # cleared: requests wait (to fill the queue)
        self.gate.set()
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def client(self, **options: Any) -> AuthenticatedClient:
        """A client of this fake; without the client's own retries unless options say so,
        so that the ingester's retries are what a test sees."""
        options.setdefault("max_retries", 0)
        transport = httpx.MockTransport(self.handle)
        client = AuthenticatedClient(
            base_url=BASE_URL, token=TOKEN, httpx_args={"transport": transport}, **options
        )
        if options["max_retries"]:
            return client
        # The async client needs an async handler: a blocking one would stall the loop.
        async_client = httpx.AsyncClient(
            base_url=BASE_URL,
            headers={"Authorization": f"Bearer {TOKEN}"},
            transport=httpx.MockTransport(self.handle_async),
        )
        return client.set_async_httpx_client(async_client)

    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        while not self.gate.is_set():
            await asyncio.sleep(0.01)
        return self.handle(request)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.gate.wait(timeout=30)
        assert request.url.path == "/v0/usage/batch"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        body = json.loads(request.content)
        items: list[dict[str, Any]] = body["events"]
        with self._lock:
            self.requests += 1
            self.batch_sizes.append(len(items))
            first = items[0]["idempotencyKey"]
            self.bodies_by_first_key.setdefault(first, []).append(request.content)
            fault = self._next_fault()
            self.fault_counts[fault] += 1
            if fault == "timeout":
                raise httpx.ReadTimeout("injected", request=request)
            if fault in ("503", "429", "400"):
                headers = {"Retry-After": "0"} if fault == "429" else {}
                error = {"message": f"injected {fault}", "error": "injected"}
                return httpx.Response(int(fault), json=error, headers=headers)
            answer = self._create(items)
        if fault == "drop":
            raise httpx.RemoteProtocolError("injected: connection dropped after commit")
        return httpx.Response(207 if answer["failed"] else 201, json=answer)

    def _next_fault(self) -> str:
        if self.faults:
            return self.faults.pop(0)
        draw = self._random.random()
        for fault, rate in self.fault_rates.items():
            if draw < rate:
                return fault
            draw -= rate
        return "none"

    def _create(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        successful, failed = [], []
        for index, item in enumerate(items):
            key = item["idempotencyKey"]
            if any(prop["quantity"] < 1 for prop in item["properties"]):
                failed.append({"index": index, "error": "quantity: below 1", "idempotencyKey": key})
                continue
            if key not in self.events:
                self.events[key] = _usage_event(item, len(self.events))
            successful.append(self.events[key])
        summary = {"total": len(items), "successful": len(successful), "failed": len(failed)}
        return {
            "object": "batchUsageEvents",
            "successful": successful,
            "failed": failed,
            "summary": summary,
        }


def _usage_event(item: dict[str, Any], number: int) -> dict[str, Any]:
    return {
        "id": f"usg_{number:08d}",
        "object": "usageEvent",
        "idempotencyKey": item["idempotencyKey"],
        "customerId": item["customerId"],
        "merchantId": item["merchantId"],
        "subscriptionId": "sub_fake",
        "properties": [{**prop, "price": prop.get("price")} for prop in item["properties"]],
        "timestamp": item["timestamp"],
        "createdAt": "2024-01-15T10:30:01Z",
        "billing": None,
    }
