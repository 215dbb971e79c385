"""The ingesters' replay check (_runtime/replay.py: sent_fields, conflict_with_json) reads the
created event's JSON against the request's own fields, and gives the verdict and message that
comparing their identities gives (conflict of identity_of and identity_of_json): the shortcut
for an answer that repeats the request's values must never hide a difference. Sans-I/O."""

from __future__ import annotations

import datetime
import gc
import zoneinfo
from typing import Any

import pytest

from paygentic_client._runtime import replay
from paygentic_client._runtime.replay import (
    conflict,
    conflict_with_json,
    identity_of,
    identity_of_json,
    sent_fields,
)
from paygentic_client._runtime.timestamps import fromisoformat
from paygentic_client.models import CreateUsageEventRequest, CreateUsageEventRequestProperty

STAMP = datetime.datetime(2024, 5, 1, 9, 0, tzinfo=datetime.UTC)


def request(quantity: float = 3, at: datetime.datetime = STAMP) -> CreateUsageEventRequest:
    return CreateUsageEventRequest(
        idempotency_key="k1",
        customer_id="cus_1",
        merchant_id="org_1",
        timestamp=at,
        properties=[CreateUsageEventRequestProperty(billable_metric_id="bm_1", quantity=quantity)],
    )


def request2() -> CreateUsageEventRequest:
    """A request that bills two metrics: an integer and a float quantity."""
    two = request()
    two.properties = [
        CreateUsageEventRequestProperty(billable_metric_id="bm_1", quantity=3),
        CreateUsageEventRequestProperty(billable_metric_id="bm_2", quantity=1.5),
    ]
    return two


def echo(sent: CreateUsageEventRequest, **changes: Any) -> dict[str, Any]:
    """The created event as the sandbox writes it for `sent` (UTC as Z), with `changes`."""
    created: dict[str, Any] = {
        "id": "usg_1",
        "idempotencyKey": sent.idempotency_key,
        "customerId": sent.customer_id,
        "merchantId": sent.merchant_id,
        "timestamp": sent.timestamp.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"),
        "properties": [p.to_dict() for p in sent.properties],
    }
    created.update(changes)
    return created


BIG = 2**70  # beyond the floats' exact integers: 2.0**70 reads as another decimal

# name: (the request, how the created event differs from its echo, whether that is a conflict)
CASES: dict[str, tuple[CreateUsageEventRequest, dict[str, Any], bool]] = {
    "the echo": (request(), {}, False),
    "UTC written +00:00": (request(), {"timestamp": "2024-05-01T09:00:00+00:00"}, False),
    "the same instant elsewhere": (request(), {"timestamp": "2024-05-01T11:00:00+02:00"}, False),
    "another instant": (request(), {"timestamp": "2024-05-01T09:00:01Z"}, True),
    "another customer": (request(), {"customerId": "cus_2"}, True),
    "another merchant": (request(), {"merchantId": "org_2"}, True),
    "another metric": (
        request(),
        {"properties": [{"billableMetricId": "bm_2", "quantity": 3}]},
        True,
    ),
    "another quantity": (
        request(),
        {"properties": [{"billableMetricId": "bm_1", "quantity": 4}]},
        True,
    ),
    "3.0 for 3": (
        request(),
        {"properties": [{"billableMetricId": "bm_1", "quantity": 3.0}]},
        False,
    ),
    "a float read as its integer": (
        request(6.92610336230911e16),
        {"properties": [{"billableMetricId": "bm_1", "quantity": 69261033623091100}]},
        False,
    ),
    "an equal float that is another decimal": (
        request(BIG),
        {"properties": [{"billableMetricId": "bm_1", "quantity": float(BIG)}]},
        True,
    ),
    "the echo of two metrics": (request2(), {}, False),
    "another quantity of a second metric": (
        request2(),
        {
            "properties": [
                {"billableMetricId": "bm_1", "quantity": 3},
                {"billableMetricId": "bm_2", "quantity": 2.5},
            ]
        },
        True,
    ),
    "a property more": (
        request(),
        {"properties": [{"billableMetricId": "bm_1", "quantity": 3}] * 2},
        True,
    ),
    "no properties": (request(), {"properties": None}, False),  # unreadable: not compared
    "properties as an object": (request(), {"properties": {"billableMetricId": "bm_1"}}, False),
    "a zoneinfo timestamp": (
        request(at=STAMP.astimezone(zoneinfo.ZoneInfo("Europe/Paris"))),
        {},
        False,
    ),
}


@pytest.mark.parametrize("wire", [True, False], ids=["to_wire_dict", "to_dict"])
@pytest.mark.parametrize("case", CASES)
def test_the_check_of_the_json_gives_the_identities_verdict(case: str, wire: bool) -> None:
    sent, changes, conflicting = CASES[case]
    created = echo(sent, **changes)
    expected = conflict("k1", identity_of(sent), identity_of_json(created))
    assert (expected is not None) is conflicting
    body = sent.to_wire_dict() if wire else sent.to_dict()  # the ingesters send the wire dict
    assert conflict_with_json("k1", sent_fields(body), created) == expected


def test_a_conflict_names_both_events_and_what_to_do() -> None:
    """The whole message: what was stored, what was sent, every metric of each, and the fix."""
    sent, changes, _ = CASES["another quantity of a second metric"]
    reason = conflict_with_json("k1", sent_fields(sent.to_wire_dict()), echo(sent, **changes))
    assert reason == (
        "idempotency key 'k1' was used before for another event: the API answered with the "
        "event stored first (customer cus_1, merchant org_1, at 2024-05-01T09:00:00+00:00, "
        "bm_1=3, bm_2=2.5), not the one sent (customer cus_1, merchant org_1, at "
        "2024-05-01T09:00:00+00:00, bm_1=3, bm_2=1.5); this usage was not recorded. Use a key "
        "that is unique to each event (see derive_idempotency_key)."
    )


def test_what_a_request_bills_is_one_flat_tuple() -> None:
    """Flat, of strings, numbers and the datetime (the garbage collector stops tracking it);
    per metric its id, whether the quantity is a float, and the quantity."""
    fields = sent_fields(request2().to_wire_dict())
    assert fields == ("cus_1", "org_1", STAMP, "bm_1", False, 3, "bm_2", True, 1.5)
    assert sent_fields(request2().to_dict()) == fields
    gc.collect()  # a pass over the tuple: CPython then stops tracking it
    assert not gc.is_tracked(fields)


@pytest.mark.parametrize(
    "case",
    ["the echo", "UTC written +00:00", "the same instant elsewhere", "the echo of two metrics"],
)
def test_an_answer_that_repeats_the_request_takes_the_shortcut(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The common case is decided without building identities (Decimals, a datetime per
    event): half the cost of the check per created event."""
    sent, changes, _ = CASES[case]

    def not_asked(created: object) -> None:
        raise AssertionError("identities were compared")

    monkeypatch.setattr(replay, "identity_of_json", not_asked)
    created = echo(sent, **changes)
    assert conflict_with_json("k1", sent_fields(sent.to_wire_dict()), created) is None


SHAPES: dict[str, dict[str, Any]] = {
    "a metric more": {"properties": [{"billableMetricId": "bm_1", "quantity": 3}] * 2},
    "no metric": {"properties": []},
    "no timestamp": {"timestamp": None},
    "a timestamp that is not one": {"timestamp": "yesterday"},
    "no customer": {"customerId": None},
    "properties that are an object": {"properties": {"billableMetricId": "bm_1"}},
    "a metric without its quantity": {"properties": [{"billableMetricId": "bm_1"}]},
    "true for 1": {"properties": [{"billableMetricId": "bm_1", "quantity": True}]},
}


@pytest.mark.parametrize("case", [*CASES, *SHAPES])
def test_the_shortcut_answers_as_comparing_the_whole_fields_does(case: str) -> None:
    """_repeats compares field by field and stops at the first difference: for every case,
    the same answer as building the created event's fields and comparing them whole."""
    sent, changes, _ = CASES.get(case, (request(1), SHAPES.get(case, {}), False))
    created = echo(sent, **changes)
    for key, value in list(created.items()):
        if value is None:
            del created[key]
    fields = sent_fields(sent.to_wire_dict())
    try:
        whole = fields == replay._billed_fields(
            created["customerId"],
            created["merchantId"],
            fromisoformat(created["timestamp"]),
            created["properties"],
        )
    except (KeyError, TypeError, ValueError):
        whole = False
    assert replay._repeats(fields, created) is whole
