"""The models parse everything production sends: nulls, absent fields, nested objects."""

from __future__ import annotations

import datetime
from typing import Any

import attrs
import pytest
from support.client_harness import OPERATIONS, FakeApi, call_sync
from support.spec_support import SPEC, optional_fields, python_name

from paygentic_client._runtime.parsing import is_known
from paygentic_client.errors import ResponseValidationError
from paygentic_client.models import Billing, Dispute, DisputeStatus, Refund, UsageEvent
from paygentic_client.types import UNSET

EXAMPLES = SPEC["components"]["examples"]


def test_nulls_in_optional_fields_and_nested_objects_parse_as_none() -> None:
    body = EXAMPLES["UnbilledUsageEvent"]["value"]
    api = FakeApi.json(200, body)

    event = call_sync(OPERATIONS["getUsageEvent"], "sync", api.client())

    assert isinstance(event, UsageEvent)
    nulls = [name for name, value in body.items() if value is None]
    assert len(nulls) >= 5  # the example sends null for most optional fields, as production's
    for name in nulls:
        assert getattr(event, python_name(name)) is None, name
    (prop,) = event.properties
    assert (prop.billable_metric_id, prop.quantity, prop.price) == ("bm_gpu_hours", 2.5, None)
    assert event.timestamp == datetime.datetime(2024, 2, 1, 14, 45, 30, tzinfo=datetime.UTC)


def test_nested_objects_parse_with_their_own_nulls() -> None:
    event = UsageEvent.from_dict(EXAMPLES["RefundedDisputedUsageEvent"]["value"])

    assert isinstance(event.billing, Billing)
    assert (event.billing.price, event.billing.total_amount) == (160000000, 160000000)
    assert isinstance(event.refund, Refund)
    assert event.refund.reason is None
    assert isinstance(event.dispute, Dispute)
    assert event.dispute.status is DisputeStatus.ACCEPTED
    assert event.dispute.merchant_message is None
    assert event.dispute.resolved_at == datetime.datetime(2024, 3, 5, 12, tzinfo=datetime.UTC)

    billed = UsageEvent.from_dict(EXAMPLES["BilledUsageEvent"]["value"])
    assert isinstance(billed.billing, Billing)
    assert billed.billing.invoice_id is None


def test_absent_optional_fields_parse_as_unset() -> None:
    body = {
        key: value
        for key, value in EXAMPLES["UnbilledUsageEvent"]["value"].items()
        if key in {"id", "object", "customerId", "merchantId", "subscriptionId"}
        or key in {"properties", "timestamp", "createdAt"}
    }

    event = UsageEvent.from_dict(body)

    for name in optional_fields("UsageEvent"):
        assert getattr(event, python_name(name)) is UNSET, name
    assert event.to_dict() == {**body, "timestamp": "2024-02-01T14:45:30+00:00"} | {
        "createdAt": "2024-02-01T14:45:31+00:00"
    }


def test_every_field_lands_in_its_own_attribute() -> None:
    # from_dict sets each attribute by name on an object made without attrs' __init__: a value
    # in the wrong attribute would show here, because every field of every nested model
    # carries a distinct value.
    at = "2024-03-05T12:00:00+00:00"
    body = {
        "id": "usg_1",
        "object": "usageEvent",
        "customerId": "cus_1",
        "merchantId": "org_1",
        "subscriptionId": "sub_1",
        "timestamp": "2024-03-01T08:00:00.500000+00:00",
        "createdAt": "2024-03-01T08:00:01+00:00",
        "properties": [{"billableMetricId": "bm_1", "quantity": 2.5, "price": "0.125"}],
        "idempotencyKey": "key_1",
        "description": "described",
        "consumerId": "org_consumer",
        "entitlementId": "com_1",
        "metadata": {"region": "eu"},
        "billing": {
            "billingEventId": "bev_1",
            "currency": "USD",
            "invoiceId": "inv_1",
            "price": 1,
            "totalTax": 2,
            "totalAmount": 3,
        },
        "refund": {"refundedAt": at, "reason": "dup"},
        "dispute": {
            "id": "dsp_1",
            "object": "dispute",
            "usageEventId": "usg_1",
            "customerId": "cus_2",
            "merchantId": "org_2",
            "status": "accepted",
            "createdAt": "2024-03-02T10:00:00+00:00",
            "updatedAt": "2024-03-03T10:00:00+00:00",
            "customerMessage": "too much",
            "merchantMessage": "sorry",
            "disputedAmount": "1.50",
            "resolvedAt": at,
        },
    }

    # The fields the spec declares: one it no longer has is left out, a string one it added
    # gets a distinct value of its own.
    declared = SPEC["components"]["schemas"]["UsageEvent"]["properties"]
    body = {name: value for name, value in body.items() if name in declared}
    for name, schema in declared.items():
        kinds = schema.get("type", [])
        if name not in body and "string" in kinds and "format" not in schema:
            body[name] = f"{name}_value"

    event = UsageEvent.from_dict(body)

    assert event.to_dict() == body
    for name, value in body.items():
        if (
            isinstance(value, str)
            and "format" not in declared[name]
            and "const" not in declared[name]
        ):
            assert getattr(event, python_name(name)) == value, name
    assert (event.customer_id, event.merchant_id, event.consumer_id) == (
        "cus_1",
        "org_1",
        "org_consumer",
    )
    assert isinstance(event.billing, Billing)
    assert (event.billing.price, event.billing.total_tax, event.billing.total_amount) == (1, 2, 3)


def test_a_parsed_model_equals_one_built_by_its_constructor() -> None:
    # from_dict skips attrs' __init__, so it must set every attribute itself: attrs.evolve
    # reads them all (an unset one raises AttributeError) and builds a copy through __init__.
    minimal = {
        "id": "usg_1",
        "object": "usageEvent",
        "customerId": "cus_1",
        "merchantId": "org_1",
        "subscriptionId": "sub_1",
        "timestamp": "2024-03-01T08:00:00Z",
        "createdAt": "2024-03-01T08:00:01Z",
        "properties": [{"billableMetricId": "bm_1", "quantity": 1}],
        "refund": {"refundedAt": "2024-03-02T08:00:00Z"},
    }
    event = UsageEvent.from_dict(minimal)
    assert attrs.evolve(event) == event
    assert attrs.evolve(event.properties[0]) == event.properties[0]
    assert isinstance(event.refund, Refund)
    assert attrs.evolve(event.refund) == event.refund
    assert event.refund.reason is UNSET


def _dispute_with_status(status: object) -> dict[str, object]:
    dispute = dict(EXAMPLES["RefundedDisputedUsageEvent"]["value"]["dispute"])
    dispute["status"] = status
    return dispute


@pytest.mark.parametrize("member", list(DisputeStatus))
def test_an_enum_value_parses_as_its_member(member: DisputeStatus) -> None:
    assert Dispute.from_dict(_dispute_with_status(member.value)).status is member


@pytest.mark.parametrize("status", ["refunded", "ACCEPTED"])
def test_a_string_that_is_not_a_member_is_kept_as_an_unknown_value(status: str) -> None:
    parsed = Dispute.from_dict(_dispute_with_status(status)).status
    assert isinstance(parsed, DisputeStatus) and parsed == status and str(parsed) == status
    assert parsed not in list(DisputeStatus)
    # An unknown value joins no member list: as many members as the spec lists.
    assert len(DisputeStatus) == len(SPEC["components"]["schemas"]["DisputeStatus"]["enum"])
    assert not is_known(parsed) and all(is_known(member) for member in DisputeStatus)


@pytest.mark.parametrize("status", [None, 1, ["accepted"], {}])
def test_a_value_that_is_not_a_string_raises_the_enums_own_error_with_its_path(
    status: Any,
) -> None:
    with pytest.raises(ValueError) as expected:
        DisputeStatus(status)
    with pytest.raises(ResponseValidationError) as raised:
        Dispute.from_dict(_dispute_with_status(status))
    assert raised.value.path == "status" and str(expected.value) in raised.value.reason


def test_an_absent_field_reads_unset_in_a_repr() -> None:
    """`print(event.billing)` of an unbilled event shows UNSET, not an object address."""
    event = UsageEvent.from_dict(
        {
            "id": "usg_1",
            "object": "usageEvent",
            "customerId": "cus_1",
            "merchantId": "org_1",
            "subscriptionId": "sub_1",
            "properties": [],
            "timestamp": "2024-01-15T10:30:00Z",
            "createdAt": "2024-01-15T10:30:01Z",
        }
    )
    assert repr(event.billing) == str(event.billing) == "UNSET"
    assert "billing=UNSET" in repr(event)


def test_the_models_of_nullable_objects_have_domain_names_and_keep_the_old_ones() -> None:
    from paygentic_client import models

    assert models.ErrorDetails.__name__ == "ErrorDetails"
    assert models.UsageEventMetadata.__name__ == "UsageEventMetadata"
    assert not [name for name in models.__all__ if "Type0" in name]
    # Names of 0.2.0, kept importable.
    assert models.ErrorDetailsType0 is models.ErrorDetails
    assert models.UsageEventMetadataType0 is models.UsageEventMetadata
