"""Schemathesis hooks for this API, loaded through schemathesis.toml (`hooks`) by scripts/fuzz
and by the property tests.

A token acts for one merchant organisation, and creating an event for any other `merchantId`
is a 403 by design: with random merchant ids nothing would ever be created, and the stateful
links (create -> get -> refund) would never be followed. So every positive case of a create or
a batch create is made for the token's merchant, PAYGENTIC_MERCHANT_ID.

Negative cases keep their generated merchant ids (they are rejected either way). This is a
hook and not a `parameters` override in schemathesis.toml because schemathesis 4.32.5 marks a
negative body as positive when an override replaces the one mutation it recorded, although
the body may still be invalid elsewhere (about 1 in 70 negative creates), and then reports the
API's 400 as a failure.

The schema's `date-time` admits instants that fall outside the years 0001-9999 once read in UTC
('0001-01-01T01:00:00+02:03' is in year 0); the API refuses them (400, as openapi.yaml says of
`timestamp`) and no JSON Schema can say so. A positive create keeps its wall time with the
offset replaced by UTC, which is then inside the range.

A list has rules of the same kind, between its parameters: at least one of the filters
`customerId`, `merchantId`, `consumerId`, `subscriptionId`, and `startTime` not after
`endTime`. A positive list case is made to keep them (the token's merchant as the filter when
it has none, the two times swapped when they are the wrong way round), so that schemathesis.toml
need not accept a 400 for a valid list: a deployment that refuses a documented list parameter
then fails `positive_data_acceptance` with the case, instead of passing with a warning.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import schemathesis
from dateutil.parser import isoparse
from schemathesis import Case, GenerationMode, HookContext

MERCHANT_ID = os.environ.get("PAYGENTIC_MERCHANT_ID", "")
if not MERCHANT_ID:
    raise RuntimeError("Set PAYGENTIC_MERCHANT_ID to the merchant organisation the token acts for.")


@schemathesis.hook
def map_case(context: HookContext, case: Case[Any]) -> Case[Any]:
    if case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return case
    operation_id = case.operation.definition.raw.get("operationId")
    body = case.body
    if operation_id == "createUsageEvent" and isinstance(body, dict):
        body["merchantId"] = MERCHANT_ID
        stamp = body.get("timestamp")
        if isinstance(stamp, str):
            body["timestamp"] = within_utc_years(stamp)
    elif operation_id == "listUsageEvents" and isinstance(case.query, dict):
        keep_list_rules(case.query)
    elif operation_id == "batchCreateUsageEvents" and isinstance(body, dict):
        events = body.get("events")
        for event in events if isinstance(events, list) else []:
            if isinstance(event, dict):
                event["merchantId"] = MERCHANT_ID
    return case


LIST_FILTERS = ("customerId", "merchantId", "consumerId", "subscriptionId")


def keep_list_rules(query: dict[str, Any]) -> None:
    """A schema-valid list query made to keep the rules between its parameters (in place)."""
    if not any(name in query for name in LIST_FILTERS):
        query["merchantId"] = MERCHANT_ID
    for name in ("startTime", "endTime"):
        if isinstance(query.get(name), str):
            query[name] = within_utc_years(query[name])
    start, end = instant(query.get("startTime")), instant(query.get("endTime"))
    if start is not None and end is not None and start > end:
        query["startTime"], query["endTime"] = query["endTime"], query["startTime"]


def instant(stamp: Any) -> datetime.datetime | None:
    """A date-time with an offset as an instant, or None for anything else."""
    if not isinstance(stamp, str):
        return None
    try:
        moment = isoparse(stamp)
        return moment.astimezone(datetime.UTC) if moment.utcoffset() is not None else None
    except (ValueError, OverflowError):
        return None


def within_utc_years(stamp: str) -> str:
    """`stamp`, or, if it is an instant before year 1 or after year 9999 in UTC, its wall time
    in UTC instead (text the API cannot read is left as it is: not this hook's business)."""
    try:
        moment = isoparse(stamp)
    except (ValueError, OverflowError):
        return stamp
    if moment.utcoffset() is None:
        return stamp
    try:
        moment.astimezone(datetime.UTC)
    except OverflowError:
        return moment.replace(tzinfo=datetime.UTC).isoformat()
    return stamp
