"""decode_json is exactly json.loads: the same values of the same types, or the same error.

The bodies are generated as JSON text, so that they hold what a Python value cannot say
(duplicate keys, `-0`, `1e400`, escapes of lone surrogates) and what orjson reads
differently from json.loads (integers beyond 64 bits, NaN and Infinity literals).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from paygentic_client._runtime.jsonbody import decode_json, may_hold_a_long_integer
from paygentic_client.api.usage_events import create_usage_event
from paygentic_client.ingest.core import parse_batch_answer
from paygentic_client.models import Error, ErrorDetails

# --- JSON text ------------------------------------------------------------------------------

_digits = st.text("0123456789", min_size=1, max_size=45)
_integers = st.one_of(
    st.integers().map(str),
    # Around the 64-bit edges, where orjson switches to floats.
    st.integers(min_value=-(2**64) - 5, max_value=2**64 + 5)
    .filter(lambda n: abs(n) > 2**62)
    .map(str),
    st.builds(
        lambda sign, digits: sign + digits.lstrip("0") or "0", st.sampled_from(["", "-"]), _digits
    ),
    st.just("-0"),
)
_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds(
        lambda sign, whole, fraction, exponent: (
            f"{sign}{whole.lstrip('0') or '0'}{'.' + fraction if fraction else ''}{exponent}"
        ),
        st.sampled_from(["", "-"]),
        _digits,
        st.text("0123456789", max_size=30),
        st.sampled_from(["", "e400", "E-400", "e+308", "e309", "e-324", "e5", "E+0"]),
    ),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "-0.0", "0e0"]),
)
_escapes = st.sampled_from(
    [r"\ud800", r"\udfff", r"\ud83d\ude00", r"\ude00\ud83d", r"\u0000", r"\"", r"\\", r"\/", r"\b"]
    + [r"\f", r"\n", r"\r", r"\t", r"\u00e9", r"\uFFFF"]
)
_string_text = st.lists(
    st.one_of(
        st.text(st.characters(exclude_characters='"\\', exclude_categories=["Cs"]), max_size=8),
        _escapes,
    ),
    max_size=5,
).map(lambda parts: '"' + "".join(parts) + '"')
_scalars = st.one_of(_integers, _floats, _string_text, st.sampled_from(["true", "false", "null"]))
_whitespace = st.text(" \t\n\r", max_size=2)


def _array(items: list[str]) -> str:
    return "[" + ",".join(items) + "]"


def _object(pairs: list[tuple[str, str]]) -> str:
    return "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"


_keys = st.one_of(st.sampled_from(['"a"', '"b"', '"price"']), _string_text)  # repeats: duplicates
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5).map(_array),
        st.lists(st.tuples(_keys, inner), max_size=5).map(_object),
        st.builds(lambda ws, value: ws + value + ws, _whitespace, inner),
    ),
    max_leaves=30,
)
_deep = st.builds(
    lambda depth, kind, leaf: (
        ("[" * depth + leaf + "]" * depth) if kind else ('{"a":' * depth + leaf + "}" * depth)
    ),
    st.integers(min_value=1000, max_value=1100),
    st.booleans(),
    _scalars,
)


def _encoded(text: str, how: str) -> bytes:
    if how == "utf-8":
        # As json.loads reads bytes: lone surrogates as their 3-byte (surrogatepass) form.
        return text.encode("utf-8", "surrogatepass")
    if how == "bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    return text.encode(how, "surrogatepass")


def _mutated(body: bytes, position: int, byte: int) -> bytes:
    # One byte replaced: mostly invalid JSON or invalid UTF-8, sometimes still valid.
    if not body:
        return bytes([byte])
    position %= len(body)
    return body[:position] + bytes([byte]) + body[position + 1 :]


_bodies = st.one_of(
    st.builds(_encoded, _values, st.sampled_from(["utf-8", "utf-8", "utf-8", "bom", "utf-16"])),
    st.builds(_encoded, _deep, st.just("utf-8")),
    st.builds(
        _mutated,
        st.builds(_encoded, _values, st.just("utf-8")),
        st.integers(min_value=0),
        st.integers(min_value=0, max_value=255),
    ),
)

# --- exact equality -------------------------------------------------------------------------


def _same(left: Any, right: Any) -> bool:
    """Equal and of the same types all the way down; dict keys in the same order; floats by
    repr (so that -0.0 differs from 0.0 and NaN equals NaN). A loop, not recursion: the
    deep bodies nest further than Python's recursion limit."""
    pending = [(left, right)]
    while pending:
        a, b = pending.pop()
        if type(a) is not type(b):
            return False
        if isinstance(a, dict):
            if list(a) != list(b):
                return False
            pending += [(a[key], b[key]) for key in a]
        elif isinstance(a, list):
            if len(a) != len(b):
                return False
            pending += zip(a, b, strict=True)
        elif isinstance(a, float):
            if repr(a) != repr(b):
                return False
        elif a != b:
            return False
    return True


def _outcome(decode: Any, body: bytes) -> tuple[str, Any]:
    try:
        return "value", decode(body)
    except (ValueError, RecursionError) as error:
        return "error", type(error)


# A thousand generated bodies take ~10 s: the slow tier (scripts/test), not the inner loop.
@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies)
@example(b"18446744073709551616")
@example(b"-9223372036854775809")
@example(b'{"price":123456789012345678901234567890}')
@example(b"[NaN,Infinity,-Infinity]")
@example(b'"\\ud800"')
@example(b'"\xed\xa0\x80"')
@example(b"1e400")
@example(b"-0")
@example(b'{"a":1,"b":2,"a":3}')
@example(b"\xef\xbb\xbf{}")
@example(b"[" * 1100 + b"]" * 1100)
def test_decode_json_is_json_loads(body: bytes) -> None:
    expected = _outcome(json.loads, body)
    actual = _outcome(decode_json, body)
    assert actual[0] == expected[0], (body, actual, expected)
    if expected[0] == "value":
        assert _same(actual[1], expected[1]), (body, actual, expected)
    else:
        assert actual[1] is expected[1], (body, actual, expected)


def test_an_integer_beyond_64_bits_stays_an_integer() -> None:
    # orjson alone reads it as the float 1.8446744073709552e+19.
    assert decode_json(b'{"totalAmount":18446744073709551616}') == {
        "totalAmount": 18446744073709551616
    }
    assert type(decode_json(b"[-9223372036854775809]")[0]) is int


def test_the_ingester_reads_batch_answers_exactly() -> None:
    event = {"id": "usg_1", "billing": {"totalAmount": 2**64 + 1}}
    body = {"object": "batchUsageEvents", "successful": [event], "failed": []}
    answer = parse_batch_answer(json.dumps(body).encode())
    assert answer is not None
    assert answer.successful[0]["billing"]["totalAmount"] == 2**64 + 1


def test_generated_operations_decode_exactly() -> None:
    # Every JSON response of a generated operation is decoded by decode_json
    # (scripts/templates/endpoint_macros.py.jinja); orjson alone would give a float here.
    body = json.dumps({"message": "too big", "details": {"limit": 2**64 + 1}}).encode()
    error = create_usage_event._parse_response(httpx.Response(401, content=body))
    assert isinstance(error, Error) and isinstance(error.details, ErrorDetails)
    assert error.details["limit"] == 2**64 + 1 and type(error.details["limit"]) is int


@pytest.mark.parametrize("number", [b"18446744073709551616", b"-9223372036854775809"])
@pytest.mark.parametrize("offset", range(8))
def test_a_long_integer_is_exact_wherever_it_starts(number: bytes, offset: int) -> None:
    # The pre-check reads every 4th byte: the integer must be caught at each alignment.
    body = b"[" + b" " * offset + number + b"]"
    assert _same(decode_json(body), json.loads(body))
    assert type(decode_json(body)[0]) is int


# What may start a number: the start of the text, or after `[`, `:`, `,` or whitespace; then
# the bytes a number is written with, up to a run of 19 digits.
_NUMBER_WITH_A_LONG_RUN = re.compile(rb"(?:^|(?<=[\[:, \t\n\r]))[0-9+\-.eE]*[0-9]{19}")


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.text("0123456789", max_size=25), st.text('a"-.e_:[ ', max_size=3))))
def test_the_pre_check_finds_every_long_run_of_digits_that_may_be_a_number(
    parts: list[str],
) -> None:
    body = "".join(parts).encode()
    if _NUMBER_WITH_A_LONG_RUN.search(body):
        assert may_hold_a_long_integer(body)
    # Not a number of 19 characters or more: orjson reads it (its digit runs are in strings).
    if not re.search(rb"[0-9+\-.eE]{19}", body):
        assert not may_hold_a_long_integer(body)


@pytest.mark.parametrize(
    "body",
    [
        b'{"id":"usg_18ef083d3e7fa4208403266c","billingEventId":"bev_5f9412345678901234567890"}',
        b'["1234567890123456789012"]',
        b'{"1234567890123456789012":1}',
        b'["e1234567890123456789012", "x-1234567890123456789012"]',
    ],
)
def test_a_long_run_of_digits_inside_a_string_is_read_by_orjson(body: bytes) -> None:
    # A random hex id holds 19 decimal digits in a row now and then: not a number, so the
    # body need not go to json.loads (1.7x orjson's time on a batch answer).
    assert not may_hold_a_long_integer(body)
    assert _same(decode_json(body), json.loads(body))


@pytest.mark.parametrize(
    "body",
    [
        b"[1234567890123456789012]",
        b'{"a": -1234567890123456789012}',
        b"[1.5,\n1234567890123456789012]",
        b"[0.1234567890123456789012]",
        b"[1e1234567890123456789012]",
        b"[" + b"1." + b"0" * 100 + b"1234567890123456789012]",
    ],
)
def test_a_long_run_of_digits_that_may_be_a_number_goes_to_json_loads(body: bytes) -> None:
    assert may_hold_a_long_integer(body)
