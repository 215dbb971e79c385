"""Where a token or customer data could leak, and does not: an exception built from a hostile
server's answer, DEBUG log lines, repr(client), and what goes to an HTTP proxy (documented
in docs/client/configuration.md: the token goes to a proxy named by HTTP(S)_PROXY, unless
trust_env=False). The servers here are real ones on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from support.client_harness import BASE_URL, INSTANT_RETRIES, OPERATIONS, TOKEN

from paygentic_client import AuthenticatedClient, errors
from paygentic_client._runtime import logs
from paygentic_client.api.usage_events import create_usage_event, get_usage_event, list_usage_events

CUSTOMER_ID = "cus_abc123xyz"  # the customer the list call filters by (client_harness)


class RecordingServer(ThreadingHTTPServer):
    """Answers every request with a 401 that echoes the Authorization header back, in a
    header of its own, an `Authorization` header and the body (a hostile or misconfigured
    server); records each request's target and Authorization header. As an HTTP proxy it
    receives the absolute URL as the target."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.seen: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class EchoHandler(BaseHTTPRequestHandler):
    server: RecordingServer

    def do_GET(self) -> None:
        authorization = self.headers.get("Authorization", "")
        self.server.seen.append((self.path, authorization))
        body = json.dumps(
            {
                "error": "unauthorized",
                "message": f"token not accepted: {authorization}",
                "details": {"received": {"Authorization": authorization}},
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Received-Authorization", authorization)
        self.send_header("Authorization", authorization)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serving() -> Iterator[RecordingServer]:
    server = RecordingServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def hostile_server() -> Iterator[RecordingServer]:
    yield from serving()


@pytest.fixture
def proxy() -> Iterator[RecordingServer]:
    yield from serving()


def test_an_api_errors_headers_body_and_parsed_model_keep_no_token(
    hostile_server: RecordingServer,
) -> None:
    with (
        AuthenticatedClient(base_url=hostile_server.url, token=TOKEN, max_retries=0) as client,
        pytest.raises(errors.AuthenticationError) as raised,
    ):
        get_usage_event.sync("usg_1", client=client)

    assert hostile_server.seen == [("/v0/usage/usg_1", f"Bearer {TOKEN}")]  # it was echoed
    error = raised.value
    assert TOKEN not in repr(dict(error.headers)) and TOKEN not in error.content.decode()
    assert error.headers["x-received-authorization"] == "Bearer [REDACTED]"
    assert error.headers["authorization"] == "[REDACTED]"
    assert error.parsed is not None and TOKEN not in repr(error.parsed.to_dict())
    assert json.loads(error.content)["message"] == "token not accepted: Bearer [REDACTED]"
    assert TOKEN not in str(error) and TOKEN not in repr(error.args)


def test_debug_lines_show_query_keys_not_values(caplog: pytest.LogCaptureFixture) -> None:
    lines = logged_list_call(caplog)

    assert lines and not any(CUSTOMER_ID in line for line in lines)
    assert any(
        "GET /v0/usage?startTime=REDACTED&endTime=REDACTED&limit=REDACTED&offset=REDACTED"
        "&customerId=REDACTED status=200" in line
        for line in lines
    )


def test_paygentic_log_bodies_adds_query_values_and_bodies_but_never_the_token(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(logs.BODIES_VARIABLE, "1")
    lines = logged_list_call(caplog)
    lines += logged_echoing_create(caplog)

    assert any(f"customerId={CUSTOMER_ID}" in line for line in lines)
    # The create's request body, and the response that echoed the token back.
    assert any('"idempotencyKey"' in line and line.startswith("request POST") for line in lines)
    assert any("echo: Bearer [REDACTED]" in line for line in lines)
    assert not any(TOKEN in line for line in lines)


def logged_list_call(caplog: pytest.LogCaptureFixture) -> list[str]:
    def answer(request: httpx.Request) -> httpx.Response:
        page = {"object": "list", "data": [], "pagination": {"limit": 10, "offset": 0, "total": 0}}
        return httpx.Response(200, json=page)

    with caplog.at_level(logging.DEBUG, logger=logs.LOGGER_NAME), mock_client(answer) as client:
        list_usage_events.sync(client=client, **OPERATIONS["listUsageEvents"].kwargs())
    lines = [record.getMessage() for record in caplog.records]
    caplog.clear()
    return lines


def logged_echoing_create(caplog: pytest.LogCaptureFixture) -> list[str]:
    def answer(request: httpx.Request) -> httpx.Response:
        echo = request.headers["authorization"]
        return httpx.Response(500, json={"error": "internal", "message": f"echo: {echo}"})

    with (
        caplog.at_level(logging.DEBUG, logger=logs.LOGGER_NAME),
        mock_client(answer, max_retries=0) as client,
        pytest.raises(errors.InternalServerError),
    ):
        create_usage_event.sync(client=client, **OPERATIONS["createUsageEvent"].kwargs())
    return [record.getMessage() for record in caplog.records]


def mock_client(handler: Any, **options: Any) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=BASE_URL,
        token=TOKEN,
        retry_policy=INSTANT_RETRIES,
        httpx_args={"transport": httpx.MockTransport(handler)},
        **options,
    )


def test_a_connection_errors_message_shows_query_keys_not_values() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with (
        mock_client(refuse, max_retries=0) as client,
        pytest.raises(errors.ApiConnectionError) as e,
    ):
        list_usage_events.sync(client=client, **OPERATIONS["listUsageEvents"].kwargs())

    assert "customerId=REDACTED" in str(e.value) and CUSTOMER_ID not in str(e.value)


def test_repr_of_a_client_hides_the_password_of_its_base_url() -> None:
    client = AuthenticatedClient(base_url="https://me:hunter2@api.test.invalid", token=TOKEN)

    assert "hunter2" not in repr(client) and TOKEN not in repr(client)
    assert "https://me:[REDACTED]@api.test.invalid" in repr(client)


@pytest.fixture
def proxy_environment(monkeypatch: pytest.MonkeyPatch, proxy: RecordingServer) -> RecordingServer:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    return proxy


def test_the_token_goes_to_a_proxy_named_by_http_proxy(proxy_environment: RecordingServer) -> None:
    # httpx honours HTTP(S)_PROXY (trust_env defaults to True): the proxy sees the request
    # with its Authorization header. The host is never resolved: only the proxy is reached.
    with AuthenticatedClient(base_url="http://api.paygentic.test", token=TOKEN) as client:
        response = get_usage_event.sync_detailed("usg_1", client=client, max_retries=0)

    assert response.status_code == 401
    assert proxy_environment.seen == [
        ("http://api.paygentic.test/v0/usage/usg_1", f"Bearer {TOKEN}")
    ]


def test_trust_env_false_ignores_the_proxy_variables(
    proxy_environment: RecordingServer, hostile_server: RecordingServer
) -> None:
    with AuthenticatedClient(
        base_url=hostile_server.url, token=TOKEN, httpx_args={"trust_env": False}
    ) as client:
        get_usage_event.sync_detailed("usg_1", client=client, max_retries=0)

    assert proxy_environment.seen == []
    assert hostile_server.seen == [("/v0/usage/usg_1", f"Bearer {TOKEN}")]
