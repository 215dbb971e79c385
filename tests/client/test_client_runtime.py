"""The client over real sockets, its logging, configuration from the environment and defaults.

`flaky_server` is a local HTTP server (127.0.0.1, free port) that drops the connection
without answering on the first requests, like a server that fails after committing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from typing import Any

import httpx
import pytest
from support.client_harness import (
    INSTANT_RETRIES,
    OPERATIONS,
    TOKEN,
    FakeApi,
    call_async,
    call_sync,
)
from support.spec_support import SPEC
from test_client_config import assert_no_part_of_the_token

import paygentic_client
from paygentic_client import AuthenticatedClient, errors
from paygentic_client._runtime import logs
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


@pytest.fixture
def quiet_logger() -> Iterator[logging.Logger]:
    """The package's logger in a known state, WARNING and no handler, restored afterwards."""
    logger = logging.getLogger(logs.LOGGER_NAME)
    level, handlers = logger.level, list(logger.handlers)
    logger.setLevel(logging.WARNING)
    logger.handlers[:] = []
    try:
        yield logger
    finally:
        logger.setLevel(level)
        logger.handlers[:] = handlers


def fetch_one_event() -> None:
    api = FakeApi.json(200, EVENT)
    call_sync(OPERATIONS["getUsageEvent"], "sync", api.client())


def test_paygentic_log_writes_the_request_lines_to_stderr(
    quiet_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    fetch_one_event()
    assert capsys.readouterr().err == ""  # off before

    logs.configure_from_env({"PAYGENTIC_LOG": "debug"})
    fetch_one_event()
    err = capsys.readouterr().err
    assert "paygentic_client DEBUG request GET /v0/usage/usg_9f8e7d6c5b4a attempt=1" in err
    assert "response GET /v0/usage/usg_9f8e7d6c5b4a status=200 attempt=1" in err
    assert_no_part_of_the_token(err)

    logs.configure_from_env({"PAYGENTIC_LOG": "debug"})  # once: no second handler
    fetch_one_event()
    assert capsys.readouterr().err.count("request GET") == 1

    logs.configure_from_env({"PAYGENTIC_LOG": "info"})
    fetch_one_event()
    assert capsys.readouterr().err == ""


def test_paygentic_log_rejects_a_level_it_does_not_know(quiet_logger: logging.Logger) -> None:
    with pytest.raises(ValueError, match="PAYGENTIC_LOG='loud'"):
        logs.configure_from_env({"PAYGENTIC_LOG": "loud"})
    assert (quiet_logger.level, quiet_logger.handlers) == (logging.WARNING, [])


def test_an_application_handler_keeps_the_lines(
    quiet_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    """With a handler of the application's own, PAYGENTIC_LOG sets the level and adds none."""
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    quiet_logger.addHandler(handler)
    logs.configure_from_env({"PAYGENTIC_LOG": "debug"})
    fetch_one_event()
    assert quiet_logger.handlers == [handler]
    assert any(line.startswith("request GET /v0/usage/") for line in seen)
    assert capsys.readouterr().err == ""


def test_without_paygentic_log_nothing_changes(
    quiet_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    logs.configure_from_env({})
    logs.configure_from_env({"PAYGENTIC_LOG": "  "})
    fetch_one_event()
    assert (quiet_logger.level, quiet_logger.handlers) == (logging.WARNING, [])
    assert capsys.readouterr().err == ""


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
    api = FakeApi.json(200, EVENT)
    client = AuthenticatedClient.from_env(httpx_args={"transport": httpx.MockTransport(api.handle)})
    call_sync(OPERATIONS["getUsageEvent"], "sync", client)
    assert api.requests[0].url.host == httpx.URL(SPEC["servers"][0]["url"]).host


def test_from_env_without_a_token_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PAYGENTIC_BEARER_AUTH", raising=False)
    with pytest.raises(errors.ConfigurationError, match="PAYGENTIC_BEARER_AUTH is not set"):
        AuthenticatedClient.from_env()
    monkeypatch.setenv("PAYGENTIC_BEARER_AUTH", "  ")
    with pytest.raises(errors.ConfigurationError):
        AuthenticatedClient.from_env()


def sent_user_agents(**options: Any) -> list[str]:
    """The User-Agent of a sync and an async request of a client built with `options`."""
    api = FakeApi.json(200, EVENT)
    mock = {"transport": httpx.MockTransport(api.handle)}
    client = AuthenticatedClient(
        base_url="http://127.0.0.1:9", token=TOKEN, httpx_args=mock, **options
    )
    call_sync(OPERATIONS["getUsageEvent"], "sync", client)
    asyncio.run(call_async(OPERATIONS["getUsageEvent"], "asyncio", client))
    return [request.headers["user-agent"] for request in api.requests]


def test_requests_name_the_package_and_its_installed_version() -> None:
    installed = metadata.version("paygentic-client")
    assert paygentic_client.__version__ == installed
    assert sent_user_agents() == [f"paygentic-client/{installed}"] * 2


def test_a_user_agent_of_ones_own_is_sent_instead() -> None:
    assert sent_user_agents(headers={"User-Agent": "mine/1"}) == ["mine/1"] * 2


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback port whose connections the kernel accepts and nobody ever answers."""
    with socket.create_server(("127.0.0.1", 0), backlog=16) as listener:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.timeout(15)  # without a working timeout the request would wait forever
def test_a_timeout_of_ones_own_fires_sync_and_async(silent_server: str) -> None:
    client = AuthenticatedClient(
        base_url=silent_server, token=TOKEN, timeout=httpx.Timeout(0.3), max_retries=0
    )
    no_answer = (httpx.TimeoutException, errors.ApiTimeoutError)
    started = time.monotonic()
    with pytest.raises(no_answer):
        call_sync(OPERATIONS["getUsageEvent"], "sync", client)
    with pytest.raises(no_answer):
        asyncio.run(call_async(OPERATIONS["getUsageEvent"], "asyncio", client))
    assert time.monotonic() - started >= 0.6  # each waited its 0.3 s, not less


def test_by_default_every_request_has_a_bounded_timeout_connect_shorter_than_read() -> None:
    """The default lets a large batch take its time but never waits forever; a connect
    that hangs fails long before a slow answer would."""
    api = FakeApi.json(200, EVENT)
    client = AuthenticatedClient(
        base_url="http://127.0.0.1:9",
        token=TOKEN,
        httpx_args={"transport": httpx.MockTransport(api.handle)},
    )
    call_sync(OPERATIONS["getUsageEvent"], "sync", client)
    asyncio.run(call_async(OPERATIONS["getUsageEvent"], "asyncio", client))
    for request in api.requests:
        timeout = request.extensions["timeout"]
        assert all(isinstance(timeout[k], float) and timeout[k] > 0 for k in timeout), timeout
        assert timeout["connect"] < timeout["read"]
        assert timeout["read"] >= 30  # a batch of 1000 events is written and stored in seconds


def test_the_context_managers_close_the_connections() -> None:
    client = AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN)
    with client:
        pass
    assert client.get_httpx_client().is_closed

    async def use() -> AuthenticatedClient:
        async with AuthenticatedClient(base_url="http://127.0.0.1:9", token=TOKEN) as client:
            pass
        return client

    assert asyncio.run(use()).get_async_httpx_client().is_closed
