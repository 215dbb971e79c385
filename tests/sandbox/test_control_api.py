"""The control API under /_sandbox/api/ (control.py), in process: new merchants only with
the control token, faults for one merchant's requests only, every event of a merchant; and
the pieces of the pytest plugin that need no process."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from paygentic_sandbox.app import SandboxApp, create_app
from paygentic_sandbox.faults import FaultPlan
from paygentic_sandbox.testing import Sandbox, flags
from support.asgi_client import Client
from support.sandbox_fixture import MERCHANT_ID, OTHER_TOKEN, TOKEN, TOKENS

CONTROL = "control_secret"


@pytest.fixture(scope="module")
def app() -> Iterator[SandboxApp]:
    app = create_app(tokens=TOKENS, control_token=CONTROL)
    yield app
    app.store.close()


@pytest.fixture
def api(app: SandboxApp) -> Iterator[Client]:
    client = Client(app)
    yield client
    client.close()
    app.merchant_faults.clear()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create(api: Client, token: str, merchant_id: str, key: str, customer: str = "cus_1") -> Any:
    body = {
        "idempotencyKey": key,
        "customerId": customer,
        "merchantId": merchant_id,
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(),
        "properties": [{"billableMetricId": "bm_calls", "quantity": 1}],
    }
    return api.post("/v0/usage", json=body, headers=bearer(token))


def test_a_new_merchant_needs_the_control_token(api: Client) -> None:
    assert api.post("/_sandbox/api/merchants").status_code == 401
    assert api.post("/_sandbox/api/merchants", headers=bearer(TOKEN)).status_code == 401
    made = api.post("/_sandbox/api/merchants", headers=bearer(CONTROL))
    assert made.status_code == 201
    token, merchant_id = made.json()["token"], made.json()["merchantId"]
    assert create(api, token, merchant_id, "k").status_code == 201
    # Its events are its own: the other merchants do not see them.
    assert len(api.get("/_sandbox/api/events", headers=bearer(token)).json()["data"]) == 1
    assert api.get("/_sandbox/api/events", headers=bearer(OTHER_TOKEN)).json()["data"] == []


def test_a_given_token_is_kept_and_cannot_change_merchant(api: Client) -> None:
    body = {"token": "tok_given", "merchantId": "org_given"}
    assert api.post("/_sandbox/api/merchants", json=body, headers=bearer(CONTROL)).json() == body
    again = api.post("/_sandbox/api/merchants", json=body, headers=bearer(CONTROL))
    assert again.status_code == 200
    moved = {"token": "tok_given", "merchantId": "org_elsewhere"}
    assert (
        api.post("/_sandbox/api/merchants", json=moved, headers=bearer(CONTROL)).status_code == 409
    )


def test_without_a_control_token_the_merchants_endpoint_is_off() -> None:
    app = create_app(tokens=TOKENS)
    api = Client(app)
    try:
        response = api.post("/_sandbox/api/merchants", headers=bearer(""))
        assert response.status_code == 404
        assert "--control-token" in response.json()["message"]
    finally:
        api.close()
        app.store.close()


def test_faults_apply_to_one_merchants_requests_until_deleted(api: Client) -> None:
    set_ = api.put("/_sandbox/api/faults", json={"faults": "503=1"}, headers=bearer(TOKEN))
    assert set_.json() == {"faults": "503=1", "scope": "merchant"}
    assert create(api, TOKEN, MERCHANT_ID, "f1").status_code == 503
    assert create(api, OTHER_TOKEN, "org_testmerchantb", "f1").status_code == 201
    # The control API is never faulted: a test can read what was stored inside the block.
    assert api.get("/_sandbox/api/events", headers=bearer(TOKEN)).status_code == 200
    assert api.delete("/_sandbox/api/faults", headers=bearer(TOKEN)).json()["scope"] == "server"
    assert create(api, TOKEN, MERCHANT_ID, "f1").status_code == 201


def test_a_bad_fault_spec_is_refused(api: Client) -> None:
    for body in (
        {"faults": "503=2"},
        {"faults": "nope=1"},
        {"faults": 1},
        {"faults": "", "seed": "1"},
    ):
        response = api.put("/_sandbox/api/faults", json=body, headers=bearer(TOKEN))
        assert response.status_code == 400, body
    assert api.get("/_sandbox/api/faults", headers=bearer("wrong")).status_code == 401


def test_events_filter_by_customer_in_list_order(api: Client) -> None:
    for key, customer in (("e1", "cus_x"), ("e2", "cus_y"), ("e3", "cus_x")):
        assert create(api, OTHER_TOKEN, "org_testmerchantb", key, customer).status_code == 201
    listed = api.get("/_sandbox/api/events?customerId=cus_x", headers=bearer(OTHER_TOKEN)).json()
    assert [event["idempotencyKey"] for event in listed["data"]] == ["e1", "e3"]


@pytest.mark.parametrize(
    "text",
    ["", "503=0.2", "drop-after-commit=0.1,503=0.2", "429=0.5,retry-after=0", "latency=0.01:0.05"],
)
def test_a_fault_plan_describes_itself_in_the_syntax_it_is_parsed_from(text: str) -> None:
    plan = FaultPlan.parse(text)
    assert FaultPlan.parse(plan.describe()) == plan


def test_options_unknown_to_sandbox_process_become_flags() -> None:
    options = {"faults": "503=1", "drift": 7, "access_log": True, "off": False, "db": None}
    assert flags(options) == ["--drift", "7", "--access-log"]


def test_a_sandbox_handle_never_shows_its_token() -> None:
    handle = Sandbox("http://127.0.0.1:1", "secret_token_value", "org_1", process=None)  # type: ignore[arg-type]
    assert "secret_token_value" not in repr(handle)
