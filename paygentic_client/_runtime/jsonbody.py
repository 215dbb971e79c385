"""JSON bodies to and from bytes: orjson's speed with the json module's exact answers.

httpx's `json=` encodes with `json.dumps` (~6 µs for a create body; orjson takes ~0.3 µs).
orjson differs from it in two ways that matter to a billing client, and both fall back to
`json.dumps` with httpx's own settings, so a body is never sent differently from what httpx
would have sent:
- orjson writes NaN and ±Infinity as `null`, which would turn a broken quantity into a
  different, silently wrong request; json.dumps refuses them with a ValueError.
- orjson refuses integers beyond 64 bits; json.dumps writes them exactly.
A body may hold datetimes (to_wire_dict() leaves those that orjson writes exactly as
isoformat() does, see timestamps.wire_datetime); the json.dumps fallback writes them with
timestamps.isoformat, so both write the same text.

Responses are decoded by `decode_json`, which gives exactly what `json.loads` gives (httpx's
`response.json()` is `json.loads(response.content)`); orjson takes about 40% of its time.
Where orjson would answer differently it is not asked, or its refusal sends the body to
`json.loads`:
- an integer beyond 64 bits becomes a float without an error (billing amounts are
  integers): a body with 19 or more digits in a row goes to json.loads, whatever they are;
- NaN, ±Infinity, numbers beyond the float range (1e400), lone surrogates (escaped, or
  encoded as json's `surrogatepass` reads them), a BOM, UTF-16/32 and nesting deeper than
  1024 are refused by orjson, and json.loads then gives its value or its own exception.
tests/client/test_jsonbody.py checks the equality, type for type, over generated bodies.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any, Final

import orjson

from .timestamps import isoformat

# The header that goes with an encoded body (httpx sets it itself only for `json=`); the
# ingesters send their ready-made batch bodies with it.
JSON_CONTENT_TYPE: Final[Mapping[str, str]] = {"Content-Type": "application/json"}


def encode_json(value: Any) -> bytes:
    """`value` as the compact UTF-8 JSON that httpx's `json=` would send; ValueError for NaN
    or ±Infinity, TypeError for what JSON cannot represent."""
    try:
        body = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return _encode_like_httpx(value)
    # A `null` may be an orjson NaN; the rare body with a real null (or the text "null") pays
    # for a second, strict encoding rather than risk sending one.
    if b"null" in body:
        return _encode_like_httpx(value)
    return body


_orjson_loads = orjson.loads
_OrjsonDecodeError = orjson.JSONDecodeError
# Digits to 1, every other byte to 0: a long run of digits is then one bytes.find (C speed,
# ~0.5 ns a byte; a regular expression over the same body takes 15 times as long).
_DIGITS_ONLY = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
# The shortest run of digits that may be an integer orjson cannot hold: 2**64 has 20 digits,
# -2**63 - 1 has 19.
_LONG_RUN = 19
_LONG_DIGIT_RUN = b"1" * _LONG_RUN
# The full scan (translate + find) was ~0.15x of a json.loads; every 4th byte first halves
# it. 19 consecutive bytes hold at least 19 // 4 = 4 multiples of 4, consecutive in
# content[::4]: a body without 4 digits in a row there has no run of 19 (most bodies), and one
# with them gets the full scan.
_SAMPLE_STEP = 4
_SAMPLED_DIGIT_RUN = b"1" * (_LONG_RUN // _SAMPLE_STEP)


def may_hold_a_long_integer(content: bytes) -> bool:
    """True if content has 19 or more digits in a row: the bodies orjson may read differently
    from json.loads."""
    if _SAMPLED_DIGIT_RUN not in content[::_SAMPLE_STEP].translate(_DIGITS_ONLY):
        return False
    return _LONG_DIGIT_RUN in content.translate(_DIGITS_ONLY)


def decode_json(content: bytes) -> Any:
    """Exactly `json.loads(content)`: the same value, of the same types, or the same error."""
    if may_hold_a_long_integer(content):
        return json.loads(content)
    try:
        return _orjson_loads(content)
    except _OrjsonDecodeError:
        return json.loads(content)


def _encode_like_httpx(value: Any) -> bytes:
    """httpx 0.28's own encoding of a `json=` body, of the body's datetimes too: those that
    to_wire_dict() leaves for orjson (timestamps.wire_datetime) are written as orjson writes
    them, isoformat()'s text."""
    return json.dumps(
        value,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
        default=_isoformat_datetime,
    ).encode()


def _isoformat_datetime(value: object) -> str:
    """json.dumps' `default`: a datetime as isoformat() writes it; json.dumps' own TypeError for
    anything else."""
    if isinstance(value, datetime.datetime):
        return isoformat(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
