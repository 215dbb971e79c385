"""from_dict reads every field in one `try`; only when that fails does _from_dict_located read
the object again, field by field, for the error's path. Both must say the same.

from_dict also reads a nested model whose fields are plain values inline (no call to its
from_dict, see model_property.py.jinja), where _from_dict_located calls it: the same answer
must build the same model both ways."""

from __future__ import annotations

import copy
import sys
from collections import Counter
from types import FrameType
from typing import Any

import pytest

from paygentic_client._runtime.parsing import located_error
from paygentic_client.errors import ResponseValidationError
from paygentic_client.models import (
    BatchUsageEventResponse,
    Billing,
    Refund,
    UsageEvent,
    UsageEventMetadata,
    UsageEventProperty,
    ValidationError,
)
from paygentic_client.types import UNSET

EVENT: dict[str, Any] = {
    "id": "usg_1",
    "object": "usageEvent",
    "customerId": "cus_1",
    "merchantId": "org_1",
    "subscriptionId": "sub_1",
    "timestamp": "2024-01-15T10:30:01.001Z",
    "createdAt": "2024-01-15T10:30:02.001Z",
    "properties": [{"billableMetricId": "bm_1", "quantity": 3, "price": None}],
    "billing": {"currency": "USD", "price": 5},
    "dispute": {
        "id": "dsp_1",
        "object": "dispute",
        "usageEventId": "usg_1",
        "customerId": "cus_1",
        "merchantId": "org_1",
        "status": "pending",
        "createdAt": "2024-01-15T11:30:01.001Z",
        "updatedAt": "2024-01-15T11:30:01.001Z",
    },
}


def _broken(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    event = copy.deepcopy(EVENT)
    target: Any = event
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return event


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("subscriptionId",), 7, "subscriptionId"),
        (("properties", 0, "quantity"), "3", "properties[0].quantity"),
        (("billing", "price"), "5", "billing.price"),
        (("dispute", "status"), 3, "dispute.status"),
        (("dispute", "createdAt"), None, "dispute.createdAt"),
    ],
)
def test_a_failure_in_the_one_try_is_found_again_with_its_path(
    path: tuple[str | int, ...], value: object, expected: str
) -> None:
    body = {
        "object": "batchUsageEvents",
        "successful": [EVENT, _broken(path, value)],
        "failed": [],
        "summary": {"total": 2, "successful": 2, "failed": 0},
    }
    with pytest.raises(ResponseValidationError) as raised:
        BatchUsageEventResponse.from_dict(body)
    assert raised.value.path == f"successful[1].{expected}"
    with pytest.raises(ResponseValidationError) as located:
        UsageEvent._from_dict_located(_broken(path, value))
    assert str(located.value) == str(
        pytest.raises(ResponseValidationError, UsageEvent.from_dict, _broken(path, value)).value
    )


def test_the_fast_read_and_the_located_read_build_the_same_model() -> None:
    assert UsageEvent.from_dict(EVENT) == UsageEvent._from_dict_located(EVENT)


def test_a_located_read_that_does_not_fail_still_gives_a_typed_error() -> None:
    # Not expected (both reads fail the same way), but never a bare KeyError.
    error = located_error(KeyError("id"), lambda data: None, {})
    assert isinstance(error, ResponseValidationError)
    assert "KeyError" in str(error)


def _batch(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "batchUsageEvents",
        "successful": list(events),
        "failed": [],
        "summary": {"total": len(events), "successful": len(events), "failed": 0},
    }


def test_nested_models_read_inline_are_read_as_their_own_from_dict_reads_them() -> None:
    # An optional field absent and an unknown one present in the same nested object: as many
    # keys as the schema's fields, so only the count of the fields present finds the unknown.
    event = copy.deepcopy(EVENT)
    event["properties"] = [
        {"billableMetricId": "bm_1", "quantity": 3, "price": "0.5"},
        {"billableMetricId": "bm_2", "quantity": 2.5, "tier": "gold"},
    ]
    event["billing"] = {"currency": "USD", "price": 5, "totalTax": None, "vat": {"rate": 20}}
    event["refund"] = {"refundedAt": "2024-01-15T12:30:01.001Z", "channel": "card"}
    event["metadata"] = {"region": "eu-west-1"}
    body = _batch(EVENT, event)
    body["summary"]["pending"] = 0

    parsed = BatchUsageEventResponse.from_dict(body)

    assert parsed == BatchUsageEventResponse._from_dict_located(body)
    read = parsed.successful[1]
    assert read.properties == [UsageEventProperty.from_dict(p) for p in event["properties"]]
    assert read.properties[1].price is UNSET
    assert read.properties[1].additional_properties == {"tier": "gold"}
    assert read.properties[0].additional_properties == {}
    assert read.billing == Billing.from_dict(event["billing"])
    assert isinstance(read.billing, Billing)
    assert (read.billing.invoice_id, read.billing.total_tax) == (UNSET, None)
    assert read.billing.additional_properties == {"vat": {"rate": 20}}
    assert read.refund == Refund.from_dict(event["refund"])
    assert isinstance(read.refund, Refund)
    assert (read.refund.reason, read.refund.additional_properties) == (UNSET, {"channel": "card"})
    assert read.metadata == UsageEventMetadata.from_dict(event["metadata"])
    assert parsed.summary.additional_properties == {"pending": 0}
    assert parsed.to_dict()["successful"][1]["billing"]["vat"] == {"rate": 20}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("properties", 0), "bm_2", "properties[0]"),
        (("properties", 0, "price"), 5, "properties[0].price"),
        (("properties", 0, "quantity"), True, "properties[0].quantity"),
        (("billing", "price"), 5.0, "billing.price"),
        (("billing",), [], "billing"),
        (("refund",), {"reason": "duplicate"}, "refund.refundedAt"),
        (("metadata",), {"region": 1}, "metadata.region"),
    ],
)
def test_a_nested_value_read_inline_that_is_wrong_is_found_with_its_path(
    path: tuple[str | int, ...], value: object, expected: str
) -> None:
    with pytest.raises(ResponseValidationError) as raised:
        BatchUsageEventResponse.from_dict(_batch(EVENT, _broken(path, value)))
    assert raised.value.path == f"successful[1].{expected}"


def test_a_validation_error_reads_its_details_inline_as_their_own_from_dict() -> None:
    body = {
        "error": "validation_error",
        "message": "Invalid request.",
        "errors": [
            {"field": "customerId", "message": "required", "code": None},
            {"field": "quantity", "message": "negative", "hint": "use 0"},
        ],
    }
    parsed = ValidationError.from_dict(body)
    assert parsed == ValidationError._from_dict_located(body)
    assert parsed.errors[1].additional_properties == {"hint": "use 0"}
    with pytest.raises(ResponseValidationError) as raised:
        ValidationError.from_dict({**body, "errors": [{"field": "x", "message": 3}]})
    assert raised.value.path == "errors[0].message"


def test_parsing_a_batch_calls_from_dict_once_per_event_not_per_nested_object() -> None:
    # Why: a Python call per nested object (two properties, billing, refund, metadata) cost
    # more than all the lenient checks (scripts/bench-parse-cost); those are read inline.
    event = copy.deepcopy(EVENT)
    event["refund"] = {"refundedAt": "2024-01-15T12:30:01.001Z", "reason": None}
    event["metadata"] = {"region": "eu-west-1"}
    event["dispute"] = None
    body = _batch(event, event, event)
    calls: Counter[str] = Counter()

    def profile(frame: FrameType, what: str, arg: object) -> None:
        if what == "call" and frame.f_code.co_name == "from_dict":
            calls[frame.f_code.co_filename.rsplit("/", 1)[-1]] += 1

    sys.setprofile(profile)
    try:
        BatchUsageEventResponse.from_dict(body)
    finally:
        sys.setprofile(None)
    assert calls == {"batch_usage_event_response.py": 1, "usage_event.py": 3}
