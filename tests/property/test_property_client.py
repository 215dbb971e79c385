"""Through the client: for every operation, cases drawn from openapi.yaml by schemathesis are
turned into the generated request models (`from_dict`) and sent with the generated `sync` and
`asyncio` functions to the sandbox. The raw HTTP exchange is captured with an httpx event hook:

- the request the client sent is the drawn case (up to equal date-times);
- the response passes every default check of schemathesis;
- the model the client parsed (or the error model of the exception it raised) round-trips:
  its `to_dict()` is the response's JSON (up to equal date-times);
- `sync` and `asyncio` agree wherever the operation is idempotent.

And against a sandbox that answers as a newer API might (`--drift`, a few examples): a lenient
client reads every answer into values of its annotations' types, keeping what it does not
know; a strict one (`strict_responses=True`) refuses every success answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paygentic_sandbox import SandboxProcess
from paygentic_sandbox.drift import Drift
from schemathesis import Case
from support import spec_calls
from support.model_types import check_types
from support.property_support import (
    DRIFT_SEED,
    assert_same_json,
    budget,
    count_case,
    load_schema,
    scope_idempotency_keys,
)
from support.sandbox_fixture import AUTH, MERCHANT_ID, TOKEN

from paygentic_client import AuthenticatedClient, errors
from paygentic_client.api.usage_events import create_usage_event
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

schema = load_schema()

# A model with `to_dict()`: every success and error model of the client.
Model = Any


def _whole(value: Any) -> Any:
    # Schemathesis may draw an integer as a whole float such as 628.0.
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass
class Exchanges:
    """The raw responses (with their requests) the clients received, read in full."""

    responses: list[httpx.Response] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(response)

    async def arecord(self, response: httpx.Response) -> None:
        await response.aread()
        self.responses.append(response)

    def last(self) -> httpx.Response:
        assert len(self.responses) == 1, f"{len(self.responses)} responses for one call"
        return self.responses.pop()


@dataclass
class Outcome:
    """What one call of a generated function gave: its model, or its exception."""

    response: httpx.Response
    model: Model | None = None
    error: errors.ApiError | None = None
    # The answer held an event stored for another request under a key of this one.
    conflict: errors.IdempotencyConflictError | None = None
    # A strict client's refusal of an answer with what the spec does not define.
    refused: errors.ResponseValidationError | None = None


@dataclass
class Clients:
    url: str
    exchanges: Exchanges
    sync: AuthenticatedClient
    asynchronous: AuthenticatedClient
    loop: asyncio.AbstractEventLoop
    # Events of the token's merchant, so that get and refund also meet ids that exist.
    known_ids: list[str]


@pytest.fixture(scope="module")
def clients(client_sandbox: SandboxProcess) -> Iterator[Clients]:
    with _open_clients(client_sandbox.url) as opened:
        yield opened


@contextlib.contextmanager
def _open_clients(url: str, *, strict: bool = False) -> Iterator[Clients]:
    schema.config.update(base_url=url)
    exchanges = Exchanges()
    sync_client = AuthenticatedClient(
        base_url=url,
        token=TOKEN,
        httpx_args={"event_hooks": {"response": [exchanges.record]}},
        strict_responses=strict,
    )
    async_client = AuthenticatedClient(
        base_url=url,
        token=TOKEN,
        httpx_args={"event_hooks": {"response": [exchanges.arecord]}},
        strict_responses=strict,
    )
    loop = asyncio.new_event_loop()
    try:
        with sync_client:
            # Made leniently: a strict client refuses the drifted answers of its creates.
            lenient = sync_client.with_options(strict_responses=False)
            known_ids = [_create_event(lenient).id for _ in range(8)]
            exchanges.responses.clear()
            yield Clients(url, exchanges, sync_client, async_client, loop, known_ids)
    finally:
        loop.run_until_complete(async_client.get_async_httpx_client().aclose())
        loop.close()


def _create_event(client: AuthenticatedClient) -> Any:
    return create_usage_event.sync(
        client=client,
        body=CreateUsageEventRequest(
            idempotency_key=f"known-{uuid.uuid4().hex}",
            customer_id="cus_property",
            merchant_id=MERCHANT_ID,
            timestamp=datetime.datetime.now(datetime.UTC),
            properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_x", quantity=1)],
        ),
    )


def _call(clients: Clients, case: Case[Any], *, use_async: bool) -> Outcome:
    try:
        if use_async:
            model = clients.loop.run_until_complete(
                spec_calls.call_async(clients.asynchronous, case)
            )
        else:
            model = spec_calls.call_sync(clients.sync, case)
    except errors.ApiError as error:
        return Outcome(clients.exchanges.last(), error=error)
    except errors.IdempotencyConflictError as conflict:
        return Outcome(clients.exchanges.last(), conflict=conflict)
    return Outcome(clients.exchanges.last(), model=model)


def _check_outcome(clients: Clients, case: Case[Any], outcome: Outcome) -> None:
    response = outcome.response
    _assert_request_is_the_case(case, response.request)
    case.validate_response(response, headers=AUTH, transport_kwargs={"base_url": clients.url})
    if outcome.conflict is not None:
        _assert_a_key_was_reused(case, response)
    elif outcome.error is None:
        assert 200 <= response.status_code < 300
        assert outcome.model is not None
        assert_same_json(outcome.model.to_dict(), response.json())
    else:
        assert outcome.error.status_code == response.status_code
        assert not 200 <= response.status_code < 300
        assert outcome.error.parsed is not None, f"{response.status_code}: {response.text}"
        assert_same_json(outcome.error.parsed.to_dict(), response.json())


def _assert_a_key_was_reused(case: Case[Any], response: httpx.Response) -> None:
    """A conflict is raised only where a key really was answered for another request: a
    batch that repeats a key, or a create the server says it replayed."""
    assert 200 <= response.status_code < 300
    if case.operation.definition.raw["operationId"] == "batchCreateUsageEvents":
        body: Any = case.body
        keys = [event.get("idempotencyKey") for event in body["events"]]
        assert len(set(keys)) < len(keys), "a conflict in a batch without a repeated key"
    else:
        assert response.headers.get("idempotent-replayed") == "true"


def _assert_request_is_the_case(case: Case[Any], request: httpx.Request) -> None:
    assert request.url.path == case.formatted_path
    if request.content:
        assert_same_json(json.loads(request.content), case.body)
    if case.operation.definition.raw["operationId"] == "listUsageEvents":
        sent = dict(request.url.params)
        for name, value in (case.query or {}).items():
            assert_same_json(sent[name], value if isinstance(value, str) else str(_whole(value)))


def _with_known_id(case: Case[Any], known_id: str | None) -> Case[Any]:
    if known_id is not None and case.path_parameters:
        case.path_parameters["id"] = known_id
    return case


# Every operation of the spec, called through the module and arguments the spec names.
OPERATION_IDS = spec_calls.operation_ids()


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_the_client_and_the_server_agree(clients: Clients, operation_id: str) -> None:
    operation = schema.find_operation_by_id(operation_id)
    test_name = f"test_the_client_and_the_server_agree[{operation_id}]"

    @settings(
        max_examples=budget(40),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        case=operation.as_strategy(),
        known_id=st.none() | st.sampled_from(clients.known_ids),
    )
    def run(case: Case[Any], known_id: str | None) -> None:
        count_case(test_name)
        case = _with_known_id(case, known_id)
        # Keys never used before, even when Hypothesis replays the example: it must get the
        # same answers.
        scope_idempotency_keys(case.body, uuid.uuid4().hex)
        first = _call(clients, case, use_async=False)
        _check_outcome(clients, case, first)
        second = _call(clients, case, use_async=True)
        _check_outcome(clients, case, second)
        if spec_calls.is_idempotent(operation_id):
            assert second.response.status_code == first.response.status_code
            assert_same_json(second.response.json(), first.response.json())

    run()


# Against a sandbox that answers as a newer API might (`--drift`): few examples, as each one
# only adds what a drifted answer changes to what the test above checks at length.
DRIFT = Drift(DRIFT_SEED)


@pytest.fixture(scope="module", params=["lenient", "strict"])
def drift_clients(
    request: pytest.FixtureRequest, drift_sandbox: SandboxProcess
) -> Iterator[Clients]:
    with _open_clients(drift_sandbox.url, strict=request.param == "strict") as opened:
        yield opened


def _call_drifted(clients: Clients, case: Case[Any], *, use_async: bool) -> Outcome:
    """_call, which also keeps the ResponseValidationError of a strict client."""
    try:
        return _call(clients, case, use_async=use_async)
    except errors.ResponseValidationError as refused:
        return Outcome(clients.exchanges.last(), refused=refused)


def _check_drifted(clients: Clients, case: Case[Any], outcome: Outcome) -> None:
    """A lenient client reads every answer, into values of its annotations' types that keep
    what it does not know (to_dict() gives the answer back); a strict one refuses every
    success answer, naming a field the spec does not define, and reads error answers."""
    response = outcome.response
    _assert_request_is_the_case(case, response.request)
    success = 200 <= response.status_code < 300
    if clients.sync.strict_responses and success:
        refused = outcome.refused
        assert refused is not None, f"a strict client read {response.text}"
        assert refused.status_code == response.status_code
        assert refused.path.rpartition(".")[2] in (DRIFT.scalar_key, DRIFT.object_key, "status")
        return
    assert outcome.refused is None, f"{response.status_code}: {outcome.refused}"
    if outcome.conflict is not None:
        _assert_a_key_was_reused(case, response)
        return
    assert (outcome.error is None) == success, f"{response.status_code}: {outcome.error}"
    parsed = outcome.error.parsed if outcome.error is not None else outcome.model
    assert parsed is not None, f"{response.status_code}: {response.text}"
    check_types(parsed, type(parsed), "answer")
    assert parsed.additional_properties[DRIFT.scalar_key] == DRIFT_SEED
    assert_same_json(parsed.to_dict(), response.json())


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_the_client_reads_a_drifted_sandbox(drift_clients: Clients, operation_id: str) -> None:
    operation = schema.find_operation_by_id(operation_id)
    strictness = "strict" if drift_clients.sync.strict_responses else "lenient"
    test_name = f"test_the_client_reads_a_drifted_sandbox[{strictness}-{operation_id}]"

    @settings(
        max_examples=budget(6),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        case=operation.as_strategy(),
        known_id=st.none() | st.sampled_from(drift_clients.known_ids),
    )
    def run(case: Case[Any], known_id: str | None) -> None:
        count_case(test_name)
        case = _with_known_id(case, known_id)
        scope_idempotency_keys(case.body, uuid.uuid4().hex)
        for use_async in (False, True):
            outcome = _call_drifted(drift_clients, case, use_async=use_async)
            _check_drifted(drift_clients, case, outcome)

    run()
