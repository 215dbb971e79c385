"""What the client tests share: the spec's examples, and clients wired to a MockTransport.

No test here touches the network: every client talks to an httpx.MockTransport that answers
with a canned response and records the requests it was sent.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx

from paygentic_client import AuthenticatedClient
from paygentic_client._runtime.retries import RetryPolicy
from paygentic_client.api.usage_events import (
    batch_create_usage_events,
    create_usage_event,
    get_usage_event,
    list_usage_events,
    refund_usage_event,
)
from paygentic_client.models import (
    BatchCreateUsageEventsRequest,
    BatchUsageEventResponse,
    CreateUsageEventRequest,
    RefundUsageEventRequest,
    UsageEvent,
    UsageEventList,
)
from support.spec_support import SPEC, resolve

# Unusual enough that no 4-character window of it occurs in ordinary text.
TOKEN = "tok_Zq9XvW7kLp3RmN8j"
BASE_URL = "https://api.test.invalid"


def _no_sleep(seconds: float) -> None:
    pass


async def _no_async_sleep(seconds: float) -> None:
    pass


# Retries as in production, but without waiting between attempts.
INSTANT_RETRIES = RetryPolicy(sleep=_no_sleep, async_sleep=_no_async_sleep)


def spec_operation(operation_id: str) -> dict[str, Any]:
    for item in SPEC["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation
    raise KeyError(operation_id)


@dataclass(frozen=True)
class ResponseExample:
    operation_id: str
    status: int
    name: str
    body: Any

    @property
    def id(self) -> str:
        return f"{self.operation_id}-{self.status}-{self.name}"


def response_examples(operation_id: str) -> Iterator[ResponseExample]:
    """Every example body of every documented response of an operation."""
    for status, response in spec_operation(operation_id)["responses"].items():
        content = resolve(response).get("content", {})
        for media in content.values():
            for name, example in media.get("examples", {}).items():
                yield ResponseExample(operation_id, int(status), name, resolve(example)["value"])


def request_example(operation_id: str) -> Any:
    """The first example of the operation's request body."""
    media = spec_operation(operation_id)["requestBody"]["content"]["application/json"]
    return resolve(next(iter(media["examples"].values())))["value"]


@dataclass(frozen=True)
class Operation:
    """One generated operation module, the arguments to call it with, and what it returns."""

    operation_id: str
    module: ModuleType
    method: str
    path: str
    success_type: type
    kwargs: Callable[[], dict[str, Any]]


OPERATIONS = {
    op.operation_id: op
    for op in [
        Operation(
            "createUsageEvent",
            create_usage_event,
            "POST",
            "/v0/usage",
            UsageEvent,
            lambda: {
                "body": CreateUsageEventRequest.from_dict(request_example("createUsageEvent"))
            },
        ),
        Operation(
            "listUsageEvents",
            list_usage_events,
            "GET",
            "/v0/usage",
            UsageEventList,
            lambda: {
                "start_time": datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC),
                "end_time": datetime.datetime(2024, 1, 31, tzinfo=datetime.UTC),
                "customer_id": "cus_abc123xyz",
            },
        ),
        Operation(
            "getUsageEvent",
            get_usage_event,
            "GET",
            "/v0/usage/usg_9f8e7d6c5b4a",
            UsageEvent,
            lambda: {"id": "usg_9f8e7d6c5b4a"},
        ),
        Operation(
            "refundUsageEvent",
            refund_usage_event,
            "PATCH",
            "/v0/usage/usg_9f8e7d6c5b4a",
            UsageEvent,
            lambda: {
                "id": "usg_9f8e7d6c5b4a",
                "body": RefundUsageEventRequest.from_dict(request_example("refundUsageEvent")),
            },
        ),
        Operation(
            "batchCreateUsageEvents",
            batch_create_usage_events,
            "POST",
            "/v0/usage/batch",
            BatchUsageEventResponse,
            lambda: {
                "body": BatchCreateUsageEventsRequest.from_dict(
                    request_example("batchCreateUsageEvents")
                )
            },
        ),
    ]
}


@dataclass
class FakeApi:
    """A MockTransport that answers every request with one canned response."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    @classmethod
    def json(cls, status: int, body: Any, headers: dict[str, str] | None = None) -> FakeApi:
        return cls(
            status,
            json.dumps(body).encode(),
            {"content-type": "application/json", **(headers or {})},
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, content=self.body, headers=self.headers)

    def client(self) -> AuthenticatedClient:
        transport = httpx.MockTransport(self.handle)
        return AuthenticatedClient(
            base_url=BASE_URL,
            token=TOKEN,
            httpx_args={"transport": transport},
            retry_policy=INSTANT_RETRIES,
        )


def call_sync(operation: Operation, function: str, client: AuthenticatedClient) -> Any:
    return getattr(operation.module, function)(client=client, **operation.kwargs())


async def call_async(operation: Operation, function: str, client: AuthenticatedClient) -> Any:
    return await getattr(operation.module, function)(client=client, **operation.kwargs())
