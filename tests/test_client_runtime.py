"""The client over real sockets, its logging, configuration from the environment and defaults.

`flaky_server` is a local HTTP server (127.0.0.1, free port) that drops the connection
without answering on the first requests, like a server that fails after committing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from client_harness import INSTANT_RETRIES, OPERATIONS, TOKEN, FakeApi, call_sync
from spec_support import SPEC
from test_client_config import assert_no_part_of_the_token

from paygentic_client import AuthenticatedClient, errors
from paygentic_client._runtime import logs
from paygentic_client._runtime.config import DEFAULT_TIMEOUT, USER_AGENT
from paygentic_client.api.usage_events import create_usage_event, get_usage_event

EVENT = SPEC["components"]["examples"]["BilledUsageEvent"]["value"]


class FlakyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FlakyHandler)
        self.drops = 0  # how many of the next requests get no answer
        self.bodies: list[bytes] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FlakyHandler(BaseHTTPRequestHandler):
    server: FlakyServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append(body)
        if self.server.drops > 0:
            self.server.drops -= 1
            self.close_connection = True  # close without a response
            return
        self.answer(201, EVENT)

    def do_GET(self) -> None:
        self.answer(404, {"error": "not_found", "message": "no such event"})

    def answer(self, status: int, body: Any) -> None:
        content = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[FlakyServer]:
    server = FlakyServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def real_client(server: FlakyServer) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=server.url, token=TOKEN, retry_policy=INSTANT_RETRIES)


def create_kwargs() -> dict[str, Any]:
    return OPERATIONS["createUsageEvent"].kwargs()


def test_dropped_connections_are_retried_over_real_sockets(flaky_server: FlakyServer) -> None:
    flaky_server.drops = 2
    with real_client(flaky_server) as client:
        response = create_usage_event.sync_detailed(client=client, **create_kwargs())
    assert (response.status_code, response.attempts) == (201, 3)
    assert len(set(flaky_server.bodies)) == 1 and len(flaky_server.bodies) == 3


def test_dropped_connections_are_retried_over_real_sockets_async(
    flaky_server: FlakyServer,
) -> None:
    flaky_server.drops = 2

    async def create() -> Any:
        async with real_client(flaky_server) as client:
            return await create_usage_event.asyncio_detailed(client=client, **create_kwargs())

    response = asyncio.run(create())
    assert (response.status_code, response.attempts) == (201, 3)
    assert len(set(flaky_server.bodies)) == 1 and len(flaky_server.bodies) == 3


def test_no_log_line_at_debug_holds_the_token(
    flaky_server: FlakyServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything logs at DEBUG (httpx, httpcore, ours): retries and errors."""
    flaky_server.drops = 1
    with caplog.at_level(logging.DEBUG), real_client(flaky_server) as client:
        create_usage_event.sync(client=client, **create_kwargs())
        with pytest.raises(errors.NotFoundError) as raised:
            get_usage_event.sync("usg_0", client=client)
    refused = AuthenticatedClient(
        base_url="http://127.0.0.1:9", token=TOKEN, max_retries=1, retry_policy=INSTANT_RETRIES
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(errors.ApiConnectionError) as failed:
        get_usage_event.sync("usg_0", client=refused)

    ours = [r.getMessage() for r in caplog.records if r.name == logs.LOGGER_NAME]
    assert "request POST /v0/usage attempt=1" in ours
    assert any(line.startswith("response POST /v0/usage status=201 attempt=2 ") for line in ours)
    assert any(
        line.startswith("response GET /v0/usage/usg_0 status=404 attempt=1") for line in ours
    )
    assert any("error=ConnectError" in line and "attempt=2" in line for line in ours)
    for record in caplog.records:
        assert_no_part_of_the_token(record.getMessage())
    assert_no_part_of_the_token(str(raised.value))
    assert_no_part_of_the_token(str(failed.value))
    assert "connection refused by 127.0.0.1:9" in str(failed.value)


def test_paygentic_log_turns_the_logger_on(monkeypatch: pytest.MonkeyPatch) -> None:
    logger = logging.getLogger(logs.LOGGER_NAME)
    level, handlers = logger.level, list(logger.handlers)
    try:
        logs.configure_from_env({"PAYGENTIC_LOG": "debug"})
        assert logger.isEnabledFor(logging.DEBUG)
        assert len(logger.handlers) == 1
        with pytest.raises(ValueError, match="PAYGENTIC_LOG='loud'"):
            logs.configure_from_env({"PAYGENTIC_LOG": "loud"})
    finally:
        logger.setLevel(level)
        logger.handlers[:] = handlers


def test_without_paygentic_log_the_logger_is_left_alone() -> None:
    logger = logging.getLogger(logs.LOGGER_NAME)
    level = logger.level
    logs.configure_from_env({})
    assert logger.level == level


def test_from_env_reads_the_token_and_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", TOKEN)
    monkeypatch.setenv("PAYGENTIC_BASE_URL", "http://127.0.0.1:8000")
    client = AuthenticatedClient.from_env(max_retries=1)
    assert client.token == TOKEN
    assert client.get_httpx_client().base_url == "http://127.0.0.1:8000"
    other = AuthenticatedClient.from_env(base_url="http://127.0.0.1:9000")
    assert other.get_httpx_client().base_url == "http://127.0.0.1:9000"


def test_from_env_defaults_to_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", TOKEN)
    monkeypatch.delenv("PAYGENTIC_BASE_URL", raising=False)
    client = AuthenticatedClient.from_env()
    assert client.get_httpx_client().base_url == SPEC["servers"][0]["url"]


def test_from_env_without_a_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYGENTIC_BEARER_AUTH", raising=False)
    with pytest.raises(errors.ConfigurationError, match="PAYGENTIC_BEARER_AUTH is not set"):
        AuthenticatedClient.from_env()
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", "  ")
    with pytest.raises(errors.ConfigurationError):
        AuthenticatedClient.from_env()


def test_requests_name_the_package_and_its_version() -> None:
    api = FakeApi.json(200, EVENT)
    call_sync(OPERATIONS["getUsageEvent"], "sync", api.client())
    assert api.requests[0].headers["user-agent"] == USER_AGENT
    assert USER_AGENT == "paygentic-client/0.1.0"

    custom = AuthenticatedClient(token=TOKEN, headers={"User-Agent": "mine/1"})
    assert custom.get_httpx_client().headers["user-agent"] == "mine/1"


def test_the_default_timeouts_suit_a_large_batch_and_can_be_changed() -> None:
    assert httpx.Timeout(60.0, connect=5.0) == DEFAULT_TIMEOUT
    assert AuthenticatedClient(token=TOKEN).get_httpx_client().timeout == DEFAULT_TIMEOUT
    timeout = httpx.Timeout(120.0, connect=2.0)
    client = AuthenticatedClient(token=TOKEN, timeout=timeout)
    assert client.get_async_httpx_client().timeout == timeout


def test_the_context_managers_close_the_connections() -> None:
    client = AuthenticatedClient(token=TOKEN)
    with client:
        pass
    assert client.get_httpx_client().is_closed

    async def use() -> AuthenticatedClient:
        async with AuthenticatedClient(token=TOKEN) as client:
            pass
        return client

    assert asyncio.run(use()).get_async_httpx_client().is_closed
