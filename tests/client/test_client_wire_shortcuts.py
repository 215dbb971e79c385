"""The three places where the client does less work than httpx would, and sends the same thing.

- _runtime/jsonbody.py: bodies encoded by orjson, falling back to httpx's json.dumps settings;
- _runtime/urls.py: fixed paths joined to the base URL once, not re-parsed per request;
- _runtime/connections.py: responses without Set-Cookie skip the stdlib cookie jar;
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import math
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from support.client_harness import BASE_URL, OPERATIONS, TOKEN, FakeApi, call_async, call_sync

from paygentic_client import AuthenticatedClient
from paygentic_client._runtime.jsonbody import encode_json
from paygentic_client._runtime.urls import FixedPathUrl, join_base_url
from paygentic_client.api.usage_events import create_usage_event
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

# --- JSON bodies ---------------------------------------------------------------------------


def httpx_json_body(value: Any) -> bytes:
    """The bytes httpx itself sends for `json=value`."""
    return httpx.Request("POST", BASE_URL, json=value).content


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(json_values)
def test_a_body_decodes_to_what_httpx_would_have_sent(value: Any) -> None:
    # Floats may be spelt differently (orjson "1e16", json "1e+16"): the decoded values agree.
    # (In a list: httpx sends no body at all for json=None.)
    assert json.loads(encode_json([value])) == json.loads(httpx_json_body([value]))


def test_an_ordinary_body_is_byte_identical_to_httpx() -> None:
    value = {"idempotencyKey": "k1", "quantity": 2.5, "metadata": {"région": "eu-west-1"}}
    assert encode_json(value) == httpx_json_body(value)


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_non_finite_quantity_is_refused_not_sent_as_null(number: float) -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        encode_json({"properties": [{"quantity": number}]})


def test_integers_beyond_64_bits_are_sent_exactly() -> None:
    assert encode_json({"n": 2**70}) == b'{"n":1180591620717411303424}'


def test_a_real_null_is_sent_as_null() -> None:
    assert encode_json({"price": None, "note": "null"}) == b'{"price":null,"note":"null"}'


def test_create_refuses_a_nan_quantity_before_sending() -> None:
    api = FakeApi.json(201, {})
    event = CreateUsageEventRequest.from_dict(
        {
            "idempotencyKey": "k1",
            "customerId": "cus_1",
            "merchantId": "org_1",
            "timestamp": "2024-01-15T10:30:00Z",
            "properties": [{"billableMetricId": "bm_1", "quantity": 1}],
        }
    )
    event.properties = [
        CreateUsageEventRequestProperty(billable_metric_id="bm_1", quantity=math.nan)
    ]
    with api.client() as client, pytest.raises(ValueError, match="JSON compliant"):
        create_usage_event.sync(client=client, body=event)
    assert api.requests == []


@pytest.mark.parametrize(
    "operation_id", ["createUsageEvent", "refundUsageEvent", "batchCreateUsageEvents"]
)
def test_every_body_goes_out_as_json_with_its_content_type(operation_id: str) -> None:
    operation = OPERATIONS[operation_id]
    api = FakeApi.json(500, {})
    with api.client() as client:
        call_sync(operation, "sync_detailed", client)
    request = api.requests[0]
    assert request.headers["content-type"] == "application/json"
    assert request.content == httpx_json_body(operation.kwargs()["body"].to_dict())


# --- URLs -----------------------------------------------------------------------------------

BASES = [
    "https://api.example.com",
    "https://api.example.com/",
    "https://api.example.com/prefix",
    "https://api.example.com/prefix/",
    "http://127.0.0.1:8080/a/b",
    "https://api.example.com/v?x=1",
]


@pytest.mark.parametrize("base_url", BASES)
@pytest.mark.parametrize("path", ["/v0/usage", "v0/usage/batch", "/v0/usage?limit=1"])
def test_a_fixed_path_joins_like_httpx_joins_it(base_url: str, path: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        assert join_base_url(client.base_url, path) == client.build_request("GET", path).url
        assert FixedPathUrl(path).on(client) == client.build_request("GET", path).url


def test_an_absolute_path_is_left_as_it_is() -> None:
    with httpx.Client(base_url=BASE_URL) as client:
        assert FixedPathUrl("https://other.example/x").on(client) == "https://other.example/x"


def test_a_fixed_path_follows_a_change_of_base_url() -> None:
    url = FixedPathUrl("/v0/usage")
    with (
        httpx.Client(base_url="https://a.example/api") as first,
        httpx.Client(base_url="https://b.example") as second,
    ):
        assert url.on(first) == "https://a.example/api/v0/usage"
        assert url.on(second) == "https://b.example/v0/usage"
        assert url.on(first) == "https://a.example/api/v0/usage"
        first.base_url = httpx.URL("https://c.example/")
        assert url.on(first) == "https://c.example/v0/usage"


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_every_operation_reaches_its_path_under_a_base_url_with_a_path(operation_id: str) -> None:
    operation = OPERATIONS[operation_id]
    api = FakeApi.json(500, {})
    # One client: its sync and async httpx clients are separate, and so are their URLs.
    client = AuthenticatedClient(
        base_url="https://api.test.invalid/gateway/",
        token=TOKEN,
        httpx_args={"transport": httpx.MockTransport(api.handle)},
        max_retries=0,
    )

    async def call() -> None:
        async with client:
            await call_async(operation, "asyncio_detailed", client)

    with client:
        call_sync(operation, "sync_detailed", client)
    asyncio.run(call())
    assert [request.url.path for request in api.requests] == ["/gateway" + operation.path] * 2


# --- cookies --------------------------------------------------------------------------------


def cookie_client(api: FakeApi, **options: Any) -> httpx.Client:
    client = AuthenticatedClient(
        base_url=BASE_URL,
        token=TOKEN,
        httpx_args={"transport": httpx.MockTransport(api.handle)},
        **options,
    )
    return client.get_httpx_client()


def test_a_response_without_set_cookie_skips_the_stdlib_jar(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed: list[object] = []
    original = http.cookiejar.CookieJar.extract_cookies

    def recording(self: http.cookiejar.CookieJar, response: Any, request: Any) -> None:
        parsed.append(response)
        original(self, response, request)

    monkeypatch.setattr(http.cookiejar.CookieJar, "extract_cookies", recording)
    api = FakeApi.json(200, {})
    client = cookie_client(api)
    client.get("/v0/usage/usg_1")
    assert parsed == []
    api.headers["set-cookie"] = "session=abc; Path=/"
    client.get("/v0/usage/usg_1")
    assert len(parsed) == 1


def test_a_cookie_that_is_set_is_kept_and_sent_back() -> None:
    api = FakeApi.json(200, {}, headers={"set-cookie": "session=abc; Path=/"})
    client = cookie_client(api)
    client.get("/v0/usage/usg_1")
    client.get("/v0/usage/usg_2")
    assert client.cookies.get("session") == "abc"
    assert api.requests[1].headers["cookie"] == "session=abc"


def test_cookies_given_to_the_client_are_kept() -> None:
    api = FakeApi.json(200, {})
    cookie_client(api, cookies={"region": "eu"}).get("/v0/usage/usg_1")
    assert api.requests[0].headers["cookie"] == "region=eu"
