"""JSON text of server-made values (events, errors): orjson for speed, the json module for
what orjson cannot encode (integers beyond 64 bits, e.g. the billing of a huge quantity).
Decimals (request numbers with a fraction, returned as sent when the spec declares a field
the server has no rule for) become the nearest JSON number."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson


def _number(value: Any) -> int | float:
    if isinstance(value, Decimal) and value.is_finite():
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value, default=_number).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":"), default=_number)
