"""from_dict reads every field in one `try`; only when that fails does _from_dict_located read
the object again, field by field, for the error's path. Both must say the same."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from paygentic_client._runtime.parsing import located_error
from paygentic_client.errors import ResponseValidationError
from paygentic_client.models import BatchUsageEventResponse, UsageEvent

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
