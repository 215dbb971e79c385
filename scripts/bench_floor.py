"""The floor of a parse into the attrs models: what no template can go below.

`batch_usage_events` builds the same models as `BatchUsageEventResponse.from_dict(
decode_json(raw)).successful`, but as little Python as can build them: one function per
nested model, every attribute stored straight from the decoded dict, and none of the
generated code's work beyond that (no check of the `object` constants, no look-up of the
dispute status's enum member, no test of a union's type, no `UNSET` for an absent key, no copy
of the metadata dict). It reads only the bench's bodies, where every key is present.

scripts/bench times it against `json.loads` next to the client's own parse. If this floor is
itself near the target, the gap left is the cost of building attrs objects in Python, not of
the generated code: closing it takes a model layer in C (msgspec's Structs or pydantic-core),
which is a change of the attrs design.
"""

from __future__ import annotations

import datetime
from typing import Any

from paygentic_client._runtime.jsonbody import decode_json
from paygentic_client._runtime.parsing import NO_UNKNOWN_FIELDS
from paygentic_client.models import Billing, Dispute, Refund, UsageEvent, UsageEventMetadata
from paygentic_client.models.usage_event_property import UsageEventProperty

_new = object.__new__
# Every response model keeps the fields it does not know; the bench's bodies have none.
_NONE = NO_UNKNOWN_FIELDS
_fromisoformat = datetime.datetime.fromisoformat


def batch_usage_events(raw: bytes) -> list[UsageEvent]:
    """The `successful` events of a batch answer, as the floor builds them."""
    return list(map(_usage_event, decode_json(raw)["successful"]))


def _usage_event(d: dict[str, Any]) -> UsageEvent:
    event = _new(UsageEvent)
    event.id = d["id"]
    event.object_ = d["object"]
    event.customer_id = d["customerId"]
    event.merchant_id = d["merchantId"]
    event.subscription_id = d["subscriptionId"]
    event.timestamp = _fromisoformat(d["timestamp"])
    event.created_at = _fromisoformat(d["createdAt"])
    event.properties = list(map(_property, d["properties"]))
    event.idempotency_key = d["idempotencyKey"]
    event.description = d["description"]
    event.consumer_id = d["consumerId"]
    event.entitlement_id = d["entitlementId"]
    event.metadata = None if (metadata := d["metadata"]) is None else _metadata(metadata)
    event.billing = None if (billing := d["billing"]) is None else _billing(billing)
    event.refund = None if (refund := d["refund"]) is None else _refund(refund)
    event.dispute = None if (dispute := d["dispute"]) is None else _dispute(dispute)
    event.additional_properties = _NONE
    return event


def _property(d: dict[str, Any]) -> UsageEventProperty:
    item = _new(UsageEventProperty)
    item.billable_metric_id = d["billableMetricId"]
    item.quantity = d["quantity"]
    item.price = d["price"]
    item.additional_properties = _NONE
    return item


def _metadata(d: dict[str, Any]) -> UsageEventMetadata:
    metadata = _new(UsageEventMetadata)
    metadata.additional_properties = d
    return metadata


def _billing(d: dict[str, Any]) -> Billing:
    billing = _new(Billing)
    billing.billing_event_id = d["billingEventId"]
    billing.currency = d["currency"]
    billing.invoice_id = d["invoiceId"]
    billing.price = d["price"]
    billing.total_tax = d["totalTax"]
    billing.total_amount = d["totalAmount"]
    billing.additional_properties = _NONE
    return billing


def _refund(d: dict[str, Any]) -> Refund:
    refund = _new(Refund)
    refund.reason = d["reason"]
    refund.refunded_at = _fromisoformat(d["refundedAt"])
    refund.additional_properties = _NONE
    return refund


def _dispute(d: dict[str, Any]) -> Dispute:
    dispute = _new(Dispute)
    dispute.id = d["id"]
    dispute.object_ = d["object"]
    dispute.usage_event_id = d["usageEventId"]
    dispute.customer_id = d["customerId"]
    dispute.merchant_id = d["merchantId"]
    # The str, not the enum member: equal to it (a StrEnum), and the look-up is the generated
    # code's work that the floor leaves out.
    dispute.status = d["status"]
    dispute.created_at = _fromisoformat(d["createdAt"])
    dispute.updated_at = _fromisoformat(d["updatedAt"])
    dispute.customer_message = d["customerMessage"]
    dispute.merchant_message = d["merchantMessage"]
    dispute.additional_properties = _NONE
    dispute.disputed_amount = d["disputedAmount"]
    resolved_at = d["resolvedAt"]
    dispute.resolved_at = None if resolved_at is None else _fromisoformat(resolved_at)
    return dispute
