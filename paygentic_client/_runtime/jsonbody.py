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
  integers): a body with 19 or more digits in a row that may be part of a number goes to
  json.loads (a run inside a string, such as a random hex id, cannot be);
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
# The shortest integer orjson may not hold: 2**64 has 20 digits, -2**63 - 1 has 19.
_LONG_RUN = 19
# One pass of bytes.translate (C speed, ~1 ns a byte; a regular expression over the same body
# takes 15 times as long) marks the bytes a number is written with as 1 and those after which
# a value may start (`[`, `:`, `,`, whitespace) as 2; every other byte is 0. In valid JSON a
# number always starts at the start of the text or after a 2, so a number with a run of 19
# digits shows as a 2 and 19 ones, or 19 ones at the start. A run of digits inside a string
# (a random hex id holds 19 decimal digits in a row in about one batch answer in 6) follows a
# quote, a letter or `_`: not one. A long fraction or exponent (no integer) shows as one too:
# json.loads reads those bodies, which is exact (only slower).
_NUMBER_BYTES = b"0123456789+-.eE"
_BEFORE_A_VALUE = b"[:, \t\n\r"
_MARKS = bytes(
    0x31 if byte in _NUMBER_BYTES else 0x32 if byte in _BEFORE_A_VALUE else 0x30
    for byte in range(256)
)
_LONG_NUMBER_AT_START = b"1" * _LONG_RUN
_LONG_NUMBER = b"2" + _LONG_NUMBER_AT_START


def may_hold_a_long_integer(content: bytes) -> bool:
    """True if content may hold a number with 19 or more digits in a row: the bodies orjson may
    read differently from json.loads (not those whose only long runs of digits are inside
    strings)."""
    marks = content.translate(_MARKS)
    return _LONG_NUMBER in marks or marks.startswith(_LONG_NUMBER_AT_START)


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
