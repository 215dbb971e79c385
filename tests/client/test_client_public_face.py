"""The public face: one error tree, per-call options, with_options, and the generated
modules' public hooks (issue 11)."""

from __future__ import annotations

import asyncio
import typing
from typing import Any

import httpx
import pytest
from support.client_harness import BASE_URL, INSTANT_RETRIES, OPERATIONS, TOKEN, FakeApi, Operation

import paygentic_client
from paygentic_client import AuthenticatedClient, errors
from paygentic_client.api.usage_events import list_usage_events

SYNC_FUNCTIONS = ["sync", "sync_detailed"]
ASYNC_FUNCTIONS = ["asyncio", "asyncio_detailed"]


def refusing_client(max_retries: int = 1, timeout: bool = False) -> AuthenticatedClient:
    """A client whose every attempt fails with no response."""

    def refuse(request: httpx.Request) -> httpx.Response:
        if timeout:
            raise httpx.ReadTimeout("timed out", request=request)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    return AuthenticatedClient(
        base_url="http://127.0.0.1:9",
        token=TOKEN,
        max_retries=max_retries,
        retry_policy=INSTANT_RETRIES,
        httpx_args={"transport": httpx.MockTransport(refuse)},
    )


async def _async_refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def call(operation: Operation, function: str, client: AuthenticatedClient, **options: Any) -> Any:
    kwargs = {**operation.kwargs(), **options}
    result = getattr(operation.module, function)(client=client, **kwargs)
    if asyncio.iscoroutine(result):
        return asyncio.run(result)
    return result


@pytest.mark.parametrize("function", SYNC_FUNCTIONS)
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=lambda op: op.operation_id)
def test_every_sync_function_raises_api_connection_error(
    operation: Operation, function: str
) -> None:
    with pytest.raises(errors.ApiConnectionError) as raised:
        call(operation, function, refusing_client())
    assert isinstance(raised.value, errors.PaygenticError)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert "connection refused by 127.0.0.1:9" in str(raised.value)
    assert "2 attempts" in str(raised.value)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("function", ASYNC_FUNCTIONS)
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=lambda op: op.operation_id)
def test_every_async_function_raises_api_connection_error(
    operation: Operation, function: str
) -> None:
    async def main() -> None:
        client = AuthenticatedClient(
            base_url="http://127.0.0.1:9",
            token=TOKEN,
            max_retries=0,
            httpx_args={"transport": httpx.MockTransport(_async_refuse)},
        )
        async with client:
            await getattr(operation.module, function)(client=client, **operation.kwargs())

    with pytest.raises(errors.ApiConnectionError) as raised:
        asyncio.run(main())
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("function", ["sync", "sync_detailed", "asyncio", "asyncio_detailed"])
def test_a_timeout_is_an_api_timeout_error(function: str) -> None:
    operation = OPERATIONS["getUsageEvent"]
    client = refusing_client(timeout=True)
    if function.startswith("asyncio"):

        async def timeout(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("timed out", request=request)

        client.set_async_httpx_client(
            httpx.AsyncClient(base_url=BASE_URL, transport=httpx.MockTransport(timeout))
        )
    with pytest.raises(errors.ApiTimeoutError) as raised:
        call(operation, function, client)
    assert isinstance(raised.value, errors.ApiConnectionError)
    assert isinstance(raised.value.__cause__, httpx.ReadTimeout)


def test_the_all_iterators_raise_api_connection_error() -> None:
    kwargs = OPERATIONS["listUsageEvents"].kwargs()
    with pytest.raises(errors.ApiConnectionError):
        list(list_usage_events.sync_all(client=refusing_client(), **kwargs))

    async def main() -> None:
        client = AuthenticatedClient(
            base_url="http://127.0.0.1:9",
            token=TOKEN,
            max_retries=0,
            httpx_args={"transport": httpx.MockTransport(_async_refuse)},
        )
        async with client:
            async for _ in list_usage_events.asyncio_all(client=client, **kwargs):
                pass

    with pytest.raises(errors.ApiConnectionError):
        asyncio.run(main())


def test_one_root_catches_every_error_of_the_sdk() -> None:
    roots = {name: getattr(errors, name) for name in errors.__all__}
    for name, cls in roots.items():
        assert issubclass(cls, errors.PaygenticError), name
    assert issubclass(errors.ApiTimeoutError, errors.ApiConnectionError)
    assert issubclass(errors.ConfigurationError, ValueError)
    assert paygentic_client.ApiError is errors.ApiError
    assert paygentic_client.__version__ == paygentic_client._runtime.config.version()


# --- per-call options -----------------------------------------------------------------------


def recording_api() -> tuple[FakeApi, AuthenticatedClient]:
    api = FakeApi.json(503, {})
    return api, api.client()


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=lambda op: op.operation_id)
def test_max_retries_for_one_call(operation: Operation) -> None:
    api, client = recording_api()
    with pytest.raises(errors.InternalServerError):
        call(operation, "sync", client, max_retries=0)
    assert len(api.requests) == 1
    with pytest.raises(errors.InternalServerError):
        call(operation, "sync", client)
    assert len(api.requests) == 1 + 4  # the client's default: 3 retries


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=lambda op: op.operation_id)
def test_extra_headers_and_timeout_for_one_call(operation: Operation) -> None:
    api, client = recording_api()
    with pytest.raises(errors.InternalServerError):
        call(operation, "sync", client, max_retries=0, timeout=2.5, extra_headers={"X-Trace": "t1"})
    with pytest.raises(errors.InternalServerError):
        call(operation, "sync", client, max_retries=0)
    first, second = api.requests
    assert first.headers["x-trace"] == "t1"
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    # "timeout" is httpx's documented request extension: what the transport applies.
    assert first.extensions["timeout"] == httpx.Timeout(2.5).as_dict()
    assert "x-trace" not in second.headers
    assert second.extensions["timeout"] == httpx.Timeout(60.0, connect=5.0).as_dict()


def test_a_negative_max_retries_is_refused_before_sending() -> None:
    api, client = recording_api()
    with pytest.raises(ValueError, match="max_retries"):
        call(OPERATIONS["getUsageEvent"], "sync", client, max_retries=-1)
    with pytest.raises(ValueError, match="max_retries"):
        client.with_options(max_retries=-1)
    with pytest.raises(ValueError, match="max_retries"):
        AuthenticatedClient(base_url=BASE_URL, token=TOKEN, max_retries=-2)
    assert api.requests == []


def test_with_options_shares_the_pool_and_leaves_the_original_alone() -> None:
    api, client = recording_api()
    patient = client.with_options(timeout=90.0, max_retries=0, headers={"X-Team": "billing"})
    assert patient.get_httpx_client() is client.get_httpx_client()
    assert client.max_retries == 3 and patient.max_retries == 0
    operation = OPERATIONS["getUsageEvent"]
    with pytest.raises(errors.InternalServerError):
        call(operation, "sync", patient)
    assert len(api.requests) == 1
    assert api.requests[0].headers["x-team"] == "billing"
    assert api.requests[0].extensions["timeout"] == httpx.Timeout(90.0).as_dict()
    with pytest.raises(errors.InternalServerError):
        call(operation, "sync", client)
    assert len(api.requests) == 1 + 4
    assert all("x-team" not in request.headers for request in api.requests[1:])
    # A per-call option still beats the copy's own.
    with pytest.raises(errors.InternalServerError):
        call(operation, "sync", patient, extra_headers={"X-Team": "ops"}, timeout=1.0)
    assert api.requests[-1].headers["x-team"] == "ops"
    assert "X-Team" not in repr(client)


def test_with_options_copies_share_the_async_pool_too() -> None:
    client = AuthenticatedClient(base_url=BASE_URL, token=TOKEN)
    copy = client.with_options(max_retries=1)
    assert copy.get_async_httpx_client() is client.get_async_httpx_client()


# --- the generated modules' public hooks ------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=lambda op: op.operation_id)
def test_generated_return_types_name_each_member_once(operation: Operation) -> None:
    for function in ("build_response", "sync_detailed"):
        returned = typing.get_type_hints(getattr(operation.module, function))["return"]
        members = typing.get_args(typing.get_args(returned)[0])
        assert len(members) == len(set(members)), (function, members)


def test_the_batch_module_offers_what_the_ingester_needs() -> None:
    from paygentic_client.api.usage_events import batch_create_usage_events as batch

    assert batch.PATH == "/v0/usage/batch"
    assert 207 in batch.DOCUMENTED_STATUSES and 400 in batch.DOCUMENTED_STATUSES
    response = httpx.Response(401, json={"error": "unauthorized", "message": "no"})
    assert batch.build_response(response).status_code == 401
