"""From a validated CreateUsageEventRequest to the event the server stores and returns."""

from __future__ import annotations

import hashlib
import secrets
from decimal import Decimal
from typing import Any

from paygentic_sandbox import money, timestamps
from paygentic_sandbox.spec import FieldError
from paygentic_sandbox.store import NewEvent


class EventRejected(ValueError):
    """A request that the schema accepts but the server cannot take, e.g. a quantity with
    a million digits."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(str(errors[0]))
        self.errors = errors


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(10)


def derived_id(prefix: str, merchant_id: str, customer_id: str) -> str:
    """An id that is the same for every event of one customer of one merchant: the sandbox
    has no subscription or consumer records, so it derives them."""
    seed = f"{prefix}\0{merchant_id}\0{customer_id}".encode("utf-8", "surrogatepass")
    return prefix + hashlib.sha256(seed).hexdigest()[:20]


def build(request: dict[str, Any], now_us: int) -> NewEvent:
    """The event for a request that passed the schema (raises EventRejected)."""
    try:
        timestamp_us, timestamp = timestamps.normalized(request["timestamp"])
    except timestamps.InvalidTimestamp as exc:
        raise EventRejected([FieldError("timestamp", str(exc), "format")]) from None
    properties = [_property(i, p) for i, p in enumerate(request["properties"])]
    merchant_id, customer_id = request["merchantId"], request["customerId"]
    event_id = new_id("usg_")
    document = {
        "id": event_id,
        "object": "usageEvent",
        "idempotencyKey": request["idempotencyKey"],
        "customerId": customer_id,
        "merchantId": merchant_id,
        "consumerId": derived_id("org_", merchant_id, customer_id),
        "subscriptionId": derived_id("sub_", merchant_id, customer_id),
        "entitlementId": request.get("entitlementId"),
        "description": None,
        "timestamp": timestamp,
        "createdAt": timestamps.format_utc(now_us),
        "properties": properties,
        "metadata": request.get("metadata"),
        "billing": _billing(request["properties"]),
        "dispute": None,
    }
    return NewEvent(
        id=event_id,
        merchant_id=merchant_id,
        idempotency_key=request["idempotencyKey"],
        customer_id=customer_id,
        subscription_id=document["subscriptionId"],
        consumer_id=document["consumerId"],
        timestamp_us=timestamp_us,
        document=document,
    )


def _property(index: int, requested: dict[str, Any]) -> dict[str, Any]:
    try:
        quantity = money.response_quantity(requested["quantity"])
    except money.QuantityOutOfRange as exc:
        field = f"properties[{index}].quantity"
        raise EventRejected([FieldError(field, str(exc), "maximum")]) from None
    return {
        "billableMetricId": requested["billableMetricId"],
        "quantity": quantity,
        "price": requested.get("price"),
    }


def _billing(properties: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Billed at once when every property carries a price (and there is one at least)."""
    if not properties or any("price" not in p for p in properties):
        return None
    lines: list[tuple[int | Decimal, str]] = [(p["quantity"], p["price"]) for p in properties]
    price = money.billed_price(lines)
    return {
        "billingEventId": new_id("bev_"),
        "currency": "USD",
        "invoiceId": None,
        "price": price,
        "totalTax": 0,
        "totalAmount": price,
    }
