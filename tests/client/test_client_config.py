"""How the clients are built: default server, no token in repr, typing marker."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from support.client_harness import OPERATIONS, TOKEN, FakeApi, call_async, call_sync
from support.spec_support import SPEC

import paygentic_client
from paygentic_client import AuthenticatedClient, Client


def token_windows(token: str, size: int = 4) -> set[str]:
    return {token[i : i + size] for i in range(len(token) - size + 1)}


def assert_no_part_of_the_token(text: str) -> None:
    leaked = {window for window in token_windows(TOKEN) if window in text}
    assert not leaked, f"parts of the token in {text!r}: {leaked}"


def test_the_repr_of_a_client_holds_no_part_of_the_token() -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN)
    assert_no_part_of_the_token(repr(client))
    assert_no_part_of_the_token(str(client))


def test_the_repr_holds_no_token_after_a_request_or_when_passed_as_a_header() -> None:
    api = FakeApi.json(200, SPEC["components"]["examples"]["BilledUsageEvent"]["value"])
    client = api.client()
    call_sync(OPERATIONS["getUsageEvent"], "sync", client)
    # Building the httpx client puts the Authorization header into the client's headers.
    assert api.requests[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert_no_part_of_the_token(repr(client))
    assert "[REDACTED]" in repr(client)

    plain = Client(headers={"Authorization": f"Bearer {TOKEN}", "X-Trace": "t1"})
    assert_no_part_of_the_token(repr(plain))
    assert "t1" in repr(plain)


def test_without_a_base_url_requests_go_to_the_production_server_of_the_spec() -> None:
    """Sent, sync and async, through a MockTransport: the URL is read off the request."""
    production = httpx.URL(SPEC["servers"][0]["url"])
    api = FakeApi.json(200, SPEC["components"]["examples"]["BilledUsageEvent"]["value"])
    mock = {"transport": httpx.MockTransport(api.handle)}
    operation = OPERATIONS["getUsageEvent"]
    call_sync(operation, "sync", AuthenticatedClient(token=TOKEN, httpx_args=mock))
    asyncio.run(call_async(operation, "asyncio", AuthenticatedClient(token=TOKEN, httpx_args=mock)))
    with Client(httpx_args=mock) as plain:  # no token: an unauthenticated client
        plain.get_httpx_client().get(operation.path)

    assert len(api.requests) == 3
    for request in api.requests:
        assert (request.url.scheme, request.url.host) == (production.scheme, production.host)
        assert request.url.path == operation.path


def test_the_package_ships_py_typed() -> None:
    assert (Path(paygentic_client.__file__).parent / "py.typed").is_file()
