"""How the clients are built: default server, no token in repr, typing marker."""

from __future__ import annotations

from pathlib import Path

from client_harness import OPERATIONS, TOKEN, FakeApi, call_sync
from spec_support import SPEC

import paygentic_client
from paygentic_client import AuthenticatedClient, Client


def token_windows(token: str, size: int = 4) -> set[str]:
    return {token[i : i + size] for i in range(len(token) - size + 1)}


def assert_no_part_of_the_token(text: str) -> None:
    leaked = {window for window in token_windows(TOKEN) if window in text}
    assert not leaked, f"parts of the token in {text!r}: {leaked}"


def test_the_repr_of_a_client_holds_no_part_of_the_token() -> None:
    client = AuthenticatedClient(token=TOKEN)
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


def test_the_default_base_url_is_the_production_server_of_the_spec() -> None:
    production = SPEC["servers"][0]["url"]
    client = AuthenticatedClient(token=TOKEN)

    assert client.get_httpx_client().base_url == production
    assert Client().get_async_httpx_client().base_url == production


def test_the_package_ships_py_typed() -> None:
    assert (Path(paygentic_client.__file__).parent / "py.typed").is_file()
