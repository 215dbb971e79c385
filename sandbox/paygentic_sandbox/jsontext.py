"""JSON text of server-made values (events, errors): orjson for speed, the json module for
what orjson cannot encode (integers beyond 64 bits, e.g. the billing of a huge quantity)."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":"))
