"""Stable idempotency keys derived from an event's content, for callers without a natural key.

The key is ``"pgk_"`` followed by the hex SHA-256 of a canonical JSON document of what the
event bills: customerId, merchantId, entitlementId, every property (billableMetricId,
quantity, price, in the order given), the timestamp converted to UTC, and the metadata.
The idempotencyKey itself, if any, is not part of it.

Canonical means: keys sorted, no whitespace, UTF-8; a whole-number quantity counts the same
whether written 3 or 3.0; the timestamp is written as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` after
conversion to UTC, so ``10:30:00+01:00`` and ``09:30:00Z`` are the same instant and the same
key. Nothing depends on the process (no ``hash()``, no dict order), so the same event gives
the same key in every run, process and machine.

A consequence to keep in mind: two events with identical content get the same key and are
billed once. When two identical usages really happened (two identical calls in the same
microsecond), give them keys of your own.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..models.create_usage_event_request import CreateUsageEventRequest

KEY_PREFIX = "pgk_"


def derive_idempotency_key(event: CreateUsageEventRequest | Mapping[str, Any]) -> str:
    """The stable idempotency key of an event's content (see the module docstring).

    event: a CreateUsageEventRequest, or its JSON form (camelCase keys, as in the API); its
    own idempotencyKey is ignored.
    """
    document = event.to_dict() if isinstance(event, CreateUsageEventRequest) else dict(event)
    canonical = json.dumps(
        _billed_content(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return KEY_PREFIX + hashlib.sha256(canonical.encode()).hexdigest()


def _billed_content(document: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "customerId": document.get("customerId"),
        "merchantId": document.get("merchantId"),
        "entitlementId": document.get("entitlementId"),
        "timestamp": _utc_timestamp(document.get("timestamp")),
        "properties": [_canonical_property(p) for p in document.get("properties") or ()],
        "metadata": dict(document.get("metadata") or {}),
    }


def _canonical_property(prop: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "billableMetricId": prop.get("billableMetricId"),
        "quantity": _canonical_number(prop.get("quantity")),
        "price": prop.get("price"),
    }


def _canonical_number(value: Any) -> Any:
    # 3 and 3.0 are the same quantity; JSON would write them differently.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _utc_timestamp(value: Any) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value  # not a timestamp: hash it as written
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("the event's timestamp has no UTC offset; it is ambiguous")
        return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value
