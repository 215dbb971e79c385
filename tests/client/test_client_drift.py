"""The client against answers of a newer (or broken) API: a corpus derived from openapi.yaml's
schemas (support/drift_corpus.py), through every face of every operation, lenient and strict.

Lenient (the default): an unknown enum value, an unknown field at any level, a null or absent
optional field are read, every field holds a value of its annotation's type, and unknown
fields go back out through to_dict(). A required field absent or of another type raises
errors.ResponseValidationError pointing at it, never a bare KeyError/ValueError/TypeError.
Strict (`strict_responses=True`): every deviation raises ResponseValidationError.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Callable
from enum import Enum
from typing import Any

import pytest
from support.client_harness import (
    OPERATIONS,
    FakeApi,
    Operation,
    request_example,
    spec_operation,
)
from support.drift_corpus import (
    EXTRA_KEY,
    LENIENT_READS,
    STRICT_REFUSES,
    UNKNOWN_ENUM_VALUE,
    Mutation,
    mutations,
    production_body,
    value_at,
)
from support.model_types import check_types
from support.spec_support import resolve

from paygentic_client import AuthenticatedClient
from paygentic_client._runtime.parsing import is_known
from paygentic_client.errors import PaygenticError, ResponseValidationError
from paygentic_client.types import Response, Unset


def success_of(operation_id: str) -> tuple[int, Any]:
    """The first documented success status of an operation and its body's schema."""
    for status, response in spec_operation(operation_id)["responses"].items():
        if str(status).startswith("2"):
            return int(status), resolve(response)["content"]["application/json"]["schema"]
    raise AssertionError(operation_id)


def body_for(operation_id: str) -> tuple[int, Any, Any]:
    status, schema = success_of(operation_id)
    body = production_body(schema)
    if operation_id == "listUsageEvents":  # one page: the iterators stop after it
        body["pagination"] = {"limit": 10, "offset": 0, "total": len(body["data"])}
    # A created event is the one sent (else the client refuses the answer as another event's).
    if operation_id == "createUsageEvent":
        _as_sent(body, request_example(operation_id))
    if operation_id == "batchCreateUsageEvents":
        _as_sent(body["successful"][0], request_example(operation_id)["events"][0])
    return status, schema, body


def _as_sent(event: dict[str, Any], sent: dict[str, Any]) -> None:
    for key in ("idempotencyKey", "customerId", "merchantId", "timestamp"):
        event[key] = sent[key]
    event["properties"] = [{"price": None, **p} for p in sent["properties"]]


CORPUS = [
    (operation_id, status, mutation)
    for operation_id in OPERATIONS
    for status, schema, body in [body_for(operation_id)]
    for mutation in mutations(schema, body)
]


def test_the_corpus_covers_every_kind_and_level() -> None:
    kinds = {mutation.kind for _, _, mutation in CORPUS}
    assert kinds == set(LENIENT_READS)
    paths = {m.path for op, _, m in CORPUS if op == "batchCreateUsageEvents"}
    for deep in ("successful[0].dispute.status", "successful[0].properties[0].addedInV2"):
        assert deep in paths
    for level in ("", "summary.", "failed[0].", "successful[0].billing.", "successful[0].refund."):
        assert f"{level}{EXTRA_KEY}" in paths


def client_for(status: int, body: Any, *, strict: bool) -> AuthenticatedClient:
    return FakeApi.json(status, body).client().with_options(strict_responses=strict)


def faces(operation: Operation) -> dict[str, Callable[[AuthenticatedClient], Any]]:
    """Each way to call an operation, giving the parsed success (or raising)."""
    module, kwargs = operation.module, operation.kwargs

    def detailed(client: AuthenticatedClient) -> Any:
        response: Response[Any] = module.sync_detailed(client=client, **kwargs())
        return response.parsed

    def async_detailed(client: AuthenticatedClient) -> Any:
        response = asyncio.run(module.asyncio_detailed(client=client, **kwargs()))
        return response.parsed

    calls: dict[str, Callable[[AuthenticatedClient], Any]] = {
        "sync": lambda client: module.sync(client=client, **kwargs()),
        "asyncio": lambda client: asyncio.run(module.asyncio(client=client, **kwargs())),
        "sync_detailed": detailed,
        "asyncio_detailed": async_detailed,
    }
    if hasattr(module, "sync_all"):

        async def collect(client: AuthenticatedClient) -> list[Any]:
            return [item async for item in module.asyncio_all(client=client, **kwargs())]

        calls["sync_all"] = lambda client: list(module.sync_all(client=client, **kwargs()))
        calls["asyncio_all"] = lambda client: asyncio.run(collect(client))
    return calls


def check_lenient(parsed: Any, operation: Operation, mutation: Mutation) -> None:
    items = parsed if isinstance(parsed, list) else [parsed]
    item_type = type(items[0])
    for index, item in enumerate(items):
        check_types(item, item_type, f"[{index}]")
        assert type(item).from_dict(item.to_dict()) == item
    path = mutation.path
    if isinstance(parsed, list):  # sync_all: the items of `data`
        if not path.startswith("data["):
            return
        parsed = {"data": parsed}
    if mutation.kind == "unknown_enum":
        value = value_at(parsed, path)
        assert isinstance(value, Enum) and value.value == UNKNOWN_ENUM_VALUE
        assert not is_known(value)
        assert str(value) == UNKNOWN_ENUM_VALUE
    if mutation.kind.startswith("extra_"):
        owner = value_at(parsed, path.rpartition(EXTRA_KEY)[0].rstrip("."))
        assert owner.additional_properties[EXTRA_KEY] == value_at(mutation.body, path)
        assert owner.to_dict()[EXTRA_KEY] == owner.additional_properties[EXTRA_KEY]


# ~30 s for the whole corpus on the shared CI machine: the slow tier.
@pytest.mark.slow
@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize("operation_id", list(OPERATIONS))
def test_every_mutation_through_every_face(operation_id: str, strict: bool) -> None:
    operation = OPERATIONS[operation_id]
    cases = [(status, m) for op, status, m in CORPUS if op == operation_id]
    failures: list[str] = []
    for status, mutation in cases:
        reads = LENIENT_READS[mutation.kind] and not (strict and mutation.kind in STRICT_REFUSES)
        for face, call in faces(operation).items():
            client = client_for(status, mutation.body, strict=strict)
            try:
                parsed = call(client)
            except ResponseValidationError as error:
                if reads:
                    failures.append(f"{face} {mutation.id}: raised {error}")
                elif error.path != mutation.path:
                    failures.append(f"{face} {mutation.id}: path {error.path!r}")
                elif error.status_code != status or error.body is None:
                    failures.append(f"{face} {mutation.id}: status/body {error.status_code}")
                continue
            except PaygenticError as error:
                failures.append(f"{face} {mutation.id}: {type(error).__name__} {error}")
                continue
            except Exception as error:  # a bare KeyError/ValueError/TypeError...
                failures.append(f"{face} {mutation.id}: bare {type(error).__name__} {error}")
                continue
            if not reads:
                failures.append(f"{face} {mutation.id}: read, should have raised")
                continue
            try:
                check_lenient(parsed, operation, mutation)
            except (AssertionError, KeyError, AttributeError) as error:
                failures.append(f"{face} {mutation.id}: {type(error).__name__} {error}")
    assert not failures, f"{len(failures)} of {len(cases)} cases:\n" + "\n".join(failures[:40])


def test_the_message_of_an_unreadable_create_says_the_event_was_recorded() -> None:
    status, schema, body = body_for("createUsageEvent")
    del body["subscriptionId"]
    client = FakeApi.json(status, body).client()
    with pytest.raises(ResponseValidationError) as raised:
        OPERATIONS["createUsageEvent"].module.sync(
            client=client, **OPERATIONS["createUsageEvent"].kwargs()
        )
    message = str(raised.value)
    assert "subscriptionId: required field is missing" in message
    assert "the event was recorded" in message and "get_usage_event" in message
    assert f"id={body['id']!r}" in message


def test_the_body_of_a_response_validation_error_has_no_token() -> None:
    status, schema, body = body_for("getUsageEvent")
    client = FakeApi.json(status, body).client()
    body["description"] = f"echoed {client.token} back"
    body["customerId"] = 5
    client = FakeApi.json(status, body).client()
    with pytest.raises(ResponseValidationError) as raised:
        OPERATIONS["getUsageEvent"].module.sync(
            client=client, **OPERATIONS["getUsageEvent"].kwargs()
        )
    assert raised.value.path == "customerId" and "expected string, got integer" in str(raised.value)
    assert raised.value.body is not None and client.token not in raised.value.body
    assert client.token not in str(raised.value)


def test_an_unknown_enum_value_keeps_match_and_equality_working() -> None:
    from paygentic_client.models import DisputeStatus

    status = DisputeStatus("escalated")
    assert (
        isinstance(status, DisputeStatus) and status == "escalated" and str(status) == "escalated"
    )
    assert status.value == "escalated" and list(DisputeStatus) == [
        DisputeStatus.ACCEPTED,
        DisputeStatus.DECLINED,
        DisputeStatus.PENDING,
    ]
    match status:
        case DisputeStatus.PENDING:
            pytest.fail("an unknown value matched a member")
        case _:
            pass
    with pytest.raises(ValueError):
        DisputeStatus(3)  # type: ignore[arg-type]


def test_strict_responses_is_a_client_setting_and_an_option() -> None:
    client = AuthenticatedClient(base_url="https://api.test.invalid", token="t")
    assert client.strict_responses is False
    strict = client.with_options(strict_responses=True)
    assert strict.strict_responses is True and client.strict_responses is False
    assert AuthenticatedClient(token="t", strict_responses=True).strict_responses is True


def test_a_timestamp_that_is_not_one_points_at_its_field() -> None:
    status, schema, body = body_for("getUsageEvent")
    body["properties"][0]["quantity"] = True  # a bool is not a number
    body["dispute"]["createdAt"] = "yesterday"
    client = FakeApi.json(status, body).client()
    with pytest.raises(ResponseValidationError) as raised:
        OPERATIONS["getUsageEvent"].module.sync(
            client=client, **OPERATIONS["getUsageEvent"].kwargs()
        )
    assert raised.value.path == "properties[0].quantity"
    del body["properties"]
    client = FakeApi.json(status, body).client()
    with pytest.raises(ResponseValidationError) as raised:
        OPERATIONS["getUsageEvent"].module.sync(
            client=client, **OPERATIONS["getUsageEvent"].kwargs()
        )
    assert raised.value.path == "properties"
    assert isinstance(datetime.datetime.now(), datetime.datetime)
    assert isinstance(Unset, type)
