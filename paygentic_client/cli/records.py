"""Reading usage events from import files (NDJSON and CSV) into CreateUsageEventRequests.

NDJSON: one CreateUsageEventRequest per line, in the API's JSON form (camelCase keys).
Blank lines are skipped.

CSV: a header row, then one event per row with one property per row:

    column            required  content
    idempotencyKey    no        the event's key; derived from its content when empty
    customerId        yes
    merchantId        yes
    timestamp         yes       see "timestamps" below
    billableMetricId  yes
    quantity          yes       a number >= 1 (fractions allowed)
    price             no        price per unit in dollars as a decimal, e.g. 0.125
    entitlementId     no
    metadata          no        a JSON object of string values, e.g. {"model": "opus"}

An event with several properties is written as NDJSON (CSV has one property per row).

Timestamps are read leniently (python-dateutil's ISO 8601 parser): `2024-01-15 10:30:00`
with a space for the `T`, an offset without a colon (`+0100`) or `Z`, fractions of a
second. One without an offset is ambiguous and is rejected, unless the caller says it is in
UTC (`assume_utc`, the `--assume-utc` flag).

Lines without an idempotencyKey get derive_idempotency_key's stable key, so importing the
same file again never bills twice.

Files are read as UTF-8 with errors="surrogateescape" (open_source): a byte that is not
UTF-8 becomes a lone surrogate instead of aborting the whole read, and the line (for CSV:
the record, which may span lines inside quotes) that holds one is reported as not UTF-8.
Valid UTF-8 never decodes to a lone surrogate, so the check is exact.
"""

from __future__ import annotations

import csv
import datetime
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from dateutil.parser import isoparse

from ..errors import PaygenticError
from ..ingest.idempotency import derive_idempotency_key
from ..models.create_usage_event_request import CreateUsageEventRequest

CSV_COLUMNS = (
    "idempotencyKey",
    "customerId",
    "merchantId",
    "timestamp",
    "billableMetricId",
    "quantity",
    "price",
    "entitlementId",
    "metadata",
)
CSV_REQUIRED = ("customerId", "merchantId", "timestamp", "billableMetricId", "quantity")
_EVENT_FIELDS = frozenset(
    {
        "idempotencyKey",
        "customerId",
        "merchantId",
        "timestamp",
        "properties",
        "entitlementId",
        "metadata",
    }
)
_PROPERTY_FIELDS = frozenset({"billableMetricId", "quantity", "price"})
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")
# What surrogateescape turns the bytes 0x80-0xFF of invalid UTF-8 into.
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
MAX_PROPERTIES = 100


class RecordError(PaygenticError, ValueError):
    """A line of an import file that is not a valid usage event; the message says why."""


def open_source(path: Path) -> IO[str]:
    """An import file for reading, with invalid UTF-8 kept as surrogates (module docstring)."""
    return path.open(newline="", encoding="utf-8", errors="surrogateescape")


def not_utf8(texts: Iterable[str | None]) -> RecordError | None:
    """The error for text read by open_source that held invalid UTF-8, else None."""
    for text in texts:
        found = _ESCAPED_BYTE.search(text) if text else None
        if found:
            byte = ord(found.group()) - 0xDC00
            return RecordError(f"not valid UTF-8 (byte 0x{byte:02x}); save the file as UTF-8")
    return None


def read_ndjson(stream: IO[str]) -> Iterator[tuple[int, Mapping[str, Any] | RecordError]]:
    """(line number, JSON object or the reason it is not one) for each non-blank line."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        undecodable = not_utf8([line])
        if undecodable:
            yield number, undecodable
            continue
        try:
            document = json.loads(line)
        except ValueError as error:
            yield number, RecordError(f"not valid JSON: {error}")
            continue
        if not isinstance(document, dict):
            yield number, RecordError("not a JSON object")
        else:
            yield number, document


def read_csv(stream: IO[str]) -> Iterator[tuple[int, Mapping[str, Any] | RecordError]]:
    """(line number, the row as an event's JSON form or the reason it is not one)."""
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    undecodable = not_utf8(header)
    if undecodable:
        raise RecordError(f"CSV header: {undecodable}")
    unknown = [column for column in header if column not in CSV_COLUMNS]
    missing = [column for column in CSV_REQUIRED if column not in header]
    if unknown or missing:
        raise RecordError(
            f"CSV header: unknown columns {unknown}, missing columns {missing}; "
            f"the columns are {', '.join(CSV_COLUMNS)}"
        )
    for row in reader:
        # A record's line_num is its last line: a quoted cell may hold line breaks.
        undecodable = not_utf8(_cells(row))
        if undecodable:
            yield reader.line_num, undecodable
            continue
        try:
            yield reader.line_num, _csv_event(row)
        except RecordError as error:
            yield reader.line_num, error


def _cells(row: Mapping[str | None, Any]) -> Iterator[str | None]:
    """Every cell of a DictReader row, the surplus ones (a list under None) included."""
    for value in row.values():
        if isinstance(value, list):
            yield from value
        else:
            yield value


def _csv_event(row: Mapping[str, str | None]) -> dict[str, Any]:
    cells = {name: (value or "").strip() for name, value in row.items() if name is not None}
    if None in row:
        raise RecordError("more cells than columns")
    prop: dict[str, Any] = {
        "billableMetricId": cells["billableMetricId"],
        "quantity": _csv_number(cells["quantity"]),
    }
    if cells.get("price"):
        prop["price"] = cells["price"]
    event: dict[str, Any] = {
        "customerId": cells["customerId"],
        "merchantId": cells["merchantId"],
        "timestamp": cells["timestamp"],
        "properties": [prop],
    }
    for optional in ("idempotencyKey", "entitlementId"):
        if cells.get(optional):
            event[optional] = cells[optional]
    if cells.get("metadata"):
        try:
            event["metadata"] = json.loads(cells["metadata"])
        except ValueError:
            raise RecordError("metadata: not a JSON object") from None
    return event


def _csv_number(text: str) -> float | int | str:
    try:
        number = float(text)
    except ValueError:
        return text  # reported by the validation as "not a number"
    return int(number) if number.is_integer() else number


def to_event(document: Mapping[str, Any], *, assume_utc: bool = False) -> CreateUsageEventRequest:
    """The CreateUsageEventRequest of a record, with its timestamp normalised (to UTC) and a
    derived idempotencyKey if it has none. Raises RecordError saying what is wrong."""
    unknown = sorted(set(document) - _EVENT_FIELDS)
    if unknown:
        raise RecordError(f"unknown field {unknown[0]!r}")
    # null means absent for the optional fields (the API's own documents write it so).
    event = {name: value for name, value in document.items() if value is not None}
    for name in ("customerId", "merchantId"):
        _require_text(event, name)
    event["timestamp"] = normalise_timestamp(event.get("timestamp"), assume_utc=assume_utc)
    event["properties"] = _properties(event.get("properties"))
    _check_metadata(event.get("metadata"))
    if "entitlementId" in event:
        _require_text(event, "entitlementId")
    if "idempotencyKey" in event:
        _require_text(event, "idempotencyKey")
    else:
        event["idempotencyKey"] = derive_idempotency_key(event)
    return CreateUsageEventRequest.from_dict(event)


def normalise_timestamp(value: Any, *, assume_utc: bool = False) -> str:
    """An RFC 3339 timestamp in UTC for a lenient ISO 8601 one (see the module docstring)."""
    if not isinstance(value, str) or not value.strip():
        raise RecordError("timestamp: missing (an ISO 8601 date and time is required)")
    try:
        moment = isoparse(value.strip())
    except (ValueError, OverflowError) as error:
        raise RecordError(f"timestamp: {value!r} is not an ISO 8601 date-time ({error})") from None
    if moment.tzinfo is None:
        if not assume_utc:
            raise RecordError(
                f"timestamp: {value!r} has no UTC offset (add Z or +HH:MM, or import with "
                "--assume-utc)"
            )
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def _require_text(event: Mapping[str, Any], name: str) -> None:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise RecordError(f"{name}: a non-empty string is required")


def _properties(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise RecordError("properties: a non-empty list is required")
    if len(value) > MAX_PROPERTIES:
        raise RecordError(f"properties: at most {MAX_PROPERTIES} per event")
    return [_property(index, prop) for index, prop in enumerate(value)]


def _property(index: int, prop: Any) -> dict[str, Any]:
    where = f"properties[{index}]"
    if not isinstance(prop, dict):
        raise RecordError(f"{where}: an object is required")
    unknown = sorted(set(prop) - _PROPERTY_FIELDS)
    if unknown:
        raise RecordError(f"{where}: unknown field {unknown[0]!r}")
    _require_text(prop, "billableMetricId")
    quantity = prop.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int | float):
        raise RecordError(f"{where}.quantity: a number is required")
    if quantity < 1:
        raise RecordError(f"{where}.quantity: must be at least 1")
    price = prop.get("price")
    if price is not None and not (isinstance(price, str) and _DECIMAL.match(price)):
        raise RecordError(f'{where}.price: a decimal number in a string is required, e.g. "0.125"')
    return {name: value for name, value in prop.items() if value is not None}


def _check_metadata(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise RecordError("metadata: an object of string values is required")
