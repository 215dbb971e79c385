"""Catching an idempotency key reused for a different event.

The API answers a repeated idempotency key with the event it stored first (with
`Idempotent-Replayed: true` on a create), whatever the new request says. If a caller reuses a
key for another event (a key derived from too few fields, a counter reset after a deploy),
that answer is someone else's event and the new usage is silently not recorded. So every
created event the API returns is compared with what was sent for its key: the customer, the
merchant, the timestamp (as an instant) and the metrics with their quantities. A difference
raises IdempotencyConflictError, which shows both.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import IdempotencyConflictError
from ..models.batch_create_usage_events_request import BatchCreateUsageEventsRequest
from ..models.batch_usage_event_response import BatchUsageEventResponse
from ..models.create_usage_event_request import CreateUsageEventRequest
from ..models.usage_event import UsageEvent
from ..types import Unset
from .timestamps import fromisoformat

# (customerId, merchantId, timestamp, ((billableMetricId, quantity), ...)): what a usage event
# bills, and so what must match for a replayed answer to be this request's event.
Identity = tuple[str, str, datetime.datetime, tuple[tuple[str, Decimal], ...]]


def quantity(value: float) -> Decimal:
    """A quantity as the decimal its JSON text says: the API reads 6.92610336230911e16 as the
    integer 69261033623091100, which the float it came from is not exactly."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def identity_of(event: CreateUsageEventRequest | UsageEvent) -> Identity:
    """The identity of an event sent (a request) or stored (a UsageEvent): the same fields."""
    metrics = tuple((p.billable_metric_id, quantity(p.quantity)) for p in event.properties)
    return (event.customer_id, event.merchant_id, event.timestamp, metrics)


def identity_of_json(event: Mapping[str, Any]) -> Identity | None:
    """The identity of a created event as the API sent it, or None if it lacks a field."""
    try:
        properties = event["properties"]
        metrics = tuple((p["billableMetricId"], quantity(p["quantity"])) for p in properties)
        stamp = fromisoformat(event["timestamp"])
        return (event["customerId"], event["merchantId"], stamp, metrics)
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None


# What a request bills, in the shape a created event's JSON is read into for a cheap first
# comparison: customerId, merchantId, the timestamp as an instant (a datetime), then per metric
# its billableMetricId, whether its quantity is a float, and the quantity. Flat and of strings,
# numbers and datetimes only: the garbage collector stops tracking such a tuple on its first
# pass, where nested tuples (or a type object in them) kept ~3 tracked objects per queued
# event (scripts/bench-ingest).
SentFields = tuple[Any, ...]
_FIXED_FIELDS = 3  # customerId, merchantId, timestamp; then (metric, is float, quantity)s


def sent_fields(body: Mapping[str, Any]) -> SentFields:
    """The fields of a request body (CreateUsageEventRequest.to_wire_dict(), whose timestamp
    may still be a datetime, or to_dict()) that identity_of compares."""
    stamp = body["timestamp"]
    if not isinstance(stamp, datetime.datetime):
        stamp = fromisoformat(stamp)
    return _billed_fields(body["customerId"], body["merchantId"], stamp, body["properties"])


def _billed_fields(
    customer: Any, merchant: Any, stamp: Any, properties: Iterable[Mapping[str, Any]]
) -> SentFields:
    """SentFields from an event's JSON values (a request's, or a created event's)."""
    fields = [customer, merchant, stamp]
    for metric in properties:
        amount = metric["quantity"]
        fields += (metric["billableMetricId"], amount.__class__ is float, amount)
    return tuple(fields)


def conflict_with_json(key: str, sent: SentFields, created: Mapping[str, Any]) -> str | None:
    """conflict() for a request's fields and a created event as the API sent it (its JSON,
    decoded): the same verdict, without decimals or datetime parsing when the created event
    repeats the request's values (the common case; half the time of comparing identities)."""
    if _repeats(sent, created):
        return None
    customer, merchant, stamp = sent[:_FIXED_FIELDS]
    metrics, amounts = sent[_FIXED_FIELDS::3], sent[_FIXED_FIELDS + 2 :: 3]
    quantities = tuple([(m, quantity(a)) for m, a in zip(metrics, amounts, strict=True)])
    return conflict(key, (customer, merchant, stamp, quantities), identity_of_json(created))


def _repeats(sent: SentFields, created: Mapping[str, Any]) -> bool:
    """Whether the created event has the request's very values: equal strings, the same
    instant, quantities of the same value and both floats or neither. Their identities are
    then equal (equal floats have one repr); anything else (3.0 for 3, a missing field) is
    left to comparing identities."""
    # Field by field, returning at the first difference: what `sent == _billed_fields(...)`
    # of the created event answers, without building its list and tuple for every event of
    # every answer (an ingester's hot path: scripts/bench-ingest-instructions).
    try:
        if created["customerId"] != sent[0] or created["merchantId"] != sent[1]:
            return False
        if fromisoformat(created["timestamp"]) != sent[2]:
            return False
        properties = created["properties"]
        if len(properties) * 3 != len(sent) - _FIXED_FIELDS:
            return False
        at = _FIXED_FIELDS
        for metric in properties:
            amount = metric["quantity"]
            if (
                metric["billableMetricId"] != sent[at]
                or (amount.__class__ is float) != sent[at + 1]
                or amount != sent[at + 2]
            ):
                return False
            at += 3
    except (KeyError, TypeError, ValueError):
        return False
    return True


def conflict(key: str | Unset, sent: Identity, stored: Identity | None) -> str | None:
    """Why the stored event is not the one sent for this key, or None if it is."""
    if stored is None or stored == sent:
        return None
    return (
        f"idempotency key {key!r} was used before for another event: the API answered with "
        f"the event stored first ({describe(stored)}), not the one sent ({describe(sent)}); "
        "this usage was not recorded. Use a key that is unique to each event "
        "(see derive_idempotency_key)."
    )


def describe(identity: Identity) -> str:
    customer, merchant, stamp, metrics = identity
    quantities = ", ".join(f"{metric}={quantity}" for metric, quantity in metrics)
    return f"customer {customer}, merchant {merchant}, at {stamp.isoformat()}, {quantities}"


def check_create(sent: CreateUsageEventRequest, answer: UsageEvent) -> None:
    reason = conflict(sent.idempotency_key, identity_of(sent), identity_of(answer))
    if reason:
        raise IdempotencyConflictError(reason, idempotency_key=str(sent.idempotency_key))


def check_batch(sent: BatchCreateUsageEventsRequest, answer: BatchUsageEventResponse) -> None:
    by_key = {event.idempotency_key: event for event in answer.successful}
    reasons = _batch_conflicts(sent.events, by_key)
    if reasons:
        raise IdempotencyConflictError(
            f"{len(reasons)} event(s) of the batch: " + " | ".join(reasons),
            idempotency_key=None,
        )


def _batch_conflicts(
    events: Sequence[CreateUsageEventRequest], answered: Mapping[Any, UsageEvent]
) -> list[str]:
    reasons = []
    for event in events:
        stored = answered.get(event.idempotency_key)
        if stored is None:
            continue
        reason = conflict(event.idempotency_key, identity_of(event), identity_of(stored))
        if reason:
            reasons.append(reason)
    return reasons


def check_answer(body: object, answer: object) -> None:
    """Raise IdempotencyConflictError if a create or a batch create was answered with events
    stored for other requests; other operations have nothing to compare."""
    if isinstance(body, CreateUsageEventRequest) and isinstance(answer, UsageEvent):
        check_create(body, answer)
    elif isinstance(body, BatchCreateUsageEventsRequest) and isinstance(
        answer, BatchUsageEventResponse
    ):
        check_batch(body, answer)
