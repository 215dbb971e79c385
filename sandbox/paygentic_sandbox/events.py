"""From a validated CreateUsageEventRequest to the event the server stores and returns."""

from __future__ import annotations

import functools
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from paygentic_sandbox import jsontext, money, spec, timestamps
from paygentic_sandbox.spec import FieldError
from paygentic_sandbox.store import NewEvent

# The request fields this module has a rule for; any other field the spec declares (a spec
# changed after this server was written) is stored and returned as it was sent, wherever the
# response schema declares a field of that name (see `passthrough`).
EVENT_RULES = frozenset(
    {"idempotencyKey", "customerId", "merchantId", "timestamp", "properties", "entitlementId"}
    | {"metadata"}
)
PROPERTY_RULES = frozenset({"billableMetricId", "quantity", "price"})


@dataclass(frozen=True)
class Passthrough:
    """Declared request fields without a rule: those a response shows (`event`, `property`)
    and those it has no place for (`unreturned`, as `Schema.field` names)."""

    event: frozenset[str]
    property: frozenset[str]
    unreturned: tuple[str, ...]


@spec.derived
def passthrough() -> Passthrough:
    event = spec.declared_properties("CreateUsageEventRequest") - EVENT_RULES
    prop = spec.declared_properties("CreateUsageEventRequestProperty") - PROPERTY_RULES
    shown_event = event & spec.declared_properties("UsageEvent")
    shown_property = prop & spec.declared_properties("UsageEventProperty")
    unreturned = [f"CreateUsageEventRequest.{n}" for n in sorted(event - shown_event)]
    unreturned += [f"CreateUsageEventRequestProperty.{n}" for n in sorted(prop - shown_property)]
    return Passthrough(shown_event, shown_property, tuple(unreturned))


class EventRejected(ValueError):
    """A request that the schema accepts but the server cannot take, e.g. a quantity with
    a million digits."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(str(errors[0]))
        self.errors = errors


class _RandomHex:
    """Hex digits from the operating system's CSPRNG (as `secrets` uses), drawn 4 KiB at a
    time: one `os.urandom` call per few hundred ids instead of one per id, which was a tenth
    of the time it takes to build an event."""

    _POOL_BYTES = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refill()
        # A forked child must not hand out the digits its parent also hands out.
        os.register_at_fork(after_in_child=self._refill)

    def _refill(self) -> None:
        self._pool = os.urandom(self._POOL_BYTES).hex()
        self._used = 0

    def take(self, digits: int) -> str:
        if digits > 2 * self._POOL_BYTES:  # a batch's worth: a pool would not hold it
            return os.urandom((digits + 1) // 2).hex()[:digits]
        with self._lock:
            if self._used + digits > len(self._pool):
                self._refill()
            start = self._used
            self._used += digits
            return self._pool[start : self._used]


_random_hex = _RandomHex()


class _AscendingTicks:
    """A strictly increasing clock (nanoseconds) for event ids that sort in creation order:
    new rows go to the end of the id index instead of a random page of it, which keeps a
    1000-event commit small."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def reserve(self, count: int) -> int:
        """The first of `count` consecutive ticks that no other caller gets."""
        with self._lock:
            first = max(self._last + 1, time.time_ns())
            self._last = first + count - 1
        return first


_ticks = _AscendingTicks()

_EVENT_ID_RANDOM_DIGITS = 8
_BILLING_ID_RANDOM_DIGITS = 20


def new_ids(count: int) -> list[tuple[str, str]]:
    """(event id, billing event id) for each of `count` events: one clock reading, one lock
    and one draw of random digits for a whole batch, instead of two of each per event."""
    first = _ticks.reserve(count)
    step = _EVENT_ID_RANDOM_DIGITS + _BILLING_ID_RANDOM_DIGITS
    digits = _random_hex.take(step * count)
    ids = []
    for index, start in enumerate(range(0, step * count, step)):
        middle = start + _EVENT_ID_RANDOM_DIGITS
        ids.append(
            (
                f"usg_{first + index:016x}{digits[start:middle]}",
                "bev_" + digits[middle : start + step],
            )
        )
    return ids


def _seeded(prefix: str) -> Any:
    """SHA-256 that has hashed `prefix` and the separator: the start of every seed."""
    return hashlib.sha256(prefix.encode() + b"\0")


# The seeds' common starts, hashed once; `.copy()` resumes from them.
_CONSUMER_SEED = _seeded("org_")
_SUBSCRIPTION_SEED = _seeded("sub_")


@functools.lru_cache(maxsize=65536)
def consumer_and_subscription(merchant_id: str, customer_id: str) -> tuple[str, str]:
    """The derived consumerId and subscriptionId of a customer (one cache entry for both):
    ids that are the same for every event of one customer of one merchant, as the sandbox
    has no subscription or consumer records. Each is its prefix and the start of
    SHA-256("{prefix}\0{merchant_id}\0{customer_id}"); the customer part is encoded
    once for both."""
    rest = f"{merchant_id}\0{customer_id}".encode("utf-8", "surrogatepass")
    consumer = _CONSUMER_SEED.copy()
    consumer.update(rest)
    subscription = _SUBSCRIPTION_SEED.copy()
    subscription.update(rest)
    return "org_" + consumer.hexdigest()[:20], "sub_" + subscription.hexdigest()[:20]


def build(request: dict[str, Any], created_at: str, ids: tuple[str, str]) -> NewEvent:
    """The event for a request that passed the schema (raises EventRejected); `ids` is one
    of `new_ids`' pairs."""
    try:
        timestamp_us, timestamp = _normalized_timestamp(request["timestamp"])
    except timestamps.InvalidTimestamp as exc:
        raise EventRejected([FieldError("timestamp", str(exc), "format")]) from None
    requested = request["properties"]
    properties = _properties(requested)
    merchant_id, customer_id = request["merchantId"], request["customerId"]
    consumer_id, subscription_id = consumer_and_subscription(merchant_id, customer_id)
    event_id, billing_event_id = ids
    key = request["idempotencyKey"]
    # Stored without the optional fields that have no value (description, dispute and refund
    # have none yet); shapes.Responses shows them as each server is configured to. Written
    # out here rather than by `Shape.omit`, which would double the cost of a batch.
    document = {
        "id": event_id,
        "object": "usageEvent",
        "idempotencyKey": key,
        "customerId": customer_id,
        "merchantId": merchant_id,
        "consumerId": consumer_id,
        "subscriptionId": subscription_id,
        "timestamp": timestamp,
        "createdAt": created_at,
        "properties": properties,
    }
    for name in ("entitlementId", "metadata"):
        if request.get(name) is not None:
            document[name] = request[name]
    billing = _billing(requested, billing_event_id)
    if billing is not None:
        document["billing"] = billing
    if not request.keys() <= EVENT_RULES:
        for name in passthrough().event & request.keys():
            document[name] = request[name]
    return NewEvent(
        id=event_id,
        merchant_id=merchant_id,
        idempotency_key=key,
        customer_id=customer_id,
        subscription_id=subscription_id,
        consumer_id=consumer_id,
        timestamp_us=timestamp_us,
        document=jsontext.dumps(document),
    )


# Events of one batch often share their timestamp.
_normalized_timestamp = functools.lru_cache(maxsize=4096)(timestamps.normalized)


def _properties(requested: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The properties as responses show them (one loop, no call per property: this runs
    for every property of every event)."""
    properties = []
    extra = passthrough().property
    for index, item in enumerate(requested):
        try:
            quantity = money.response_quantity(item["quantity"])
        except money.QuantityOutOfRange as exc:
            field = f"properties[{index}].quantity"
            raise EventRejected([FieldError(field, str(exc), "maximum")]) from None
        shown = {"billableMetricId": item["billableMetricId"], "quantity": quantity}
        if "price" in item:
            shown["price"] = item["price"]
        if not item.keys() <= PROPERTY_RULES:
            for name in extra & item.keys():
                shown[name] = item[name]
        properties.append(shown)
    return properties


def _billing(properties: list[dict[str, Any]], billing_event_id: str) -> dict[str, Any] | None:
    """Billed at once when every property carries a price (and there is one at least)."""
    lines: list[tuple[int | Decimal, str]] = []
    for item in properties:
        unit_price = item.get("price")
        if unit_price is None:
            return None
        lines.append((item["quantity"], unit_price))
    if not lines:
        return None
    price = money.billed_price(lines)
    return {
        "billingEventId": billing_event_id,
        "currency": "USD",
        "price": price,
        "totalTax": 0,
        "totalAmount": price,
    }
