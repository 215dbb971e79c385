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
    elif operation_id == "batchCreateUsageEvents" and isinstance(body, dict):
        events = body.get("events")
        for event in events if isinstance(events, list) else []:
            if isinstance(event, dict):
                event["merchantId"] = MERCHANT_ID
    return case


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
