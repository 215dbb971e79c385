"""Quantities and billing amounts, in exact arithmetic.

Quantities arrive as JSON numbers, parsed to `int` or `Decimal` (never `float`), so that
`billing.price` = Σ quantity × unit price × 10^9 is exact before its one rounding
(half-even, to an integer number of atomic units).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from decimal import Decimal

ATOMIC_UNITS_PER_DOLLAR = 10**9

# The schema sets no maximum on a quantity, but a number like 1e999999999 would take the
# server's memory to turn into an integer. A quantity is refused when, written out in plain
# decimal notation (no exponent, no trailing zeros after the point), it has more digits than
# this: 10**999 and 1e999 have 1000 digits and pass, 10**1000 does not.
MAX_QUANTITY_DIGITS = 1000
_INTEGER_LIMIT = 10**MAX_QUANTITY_DIGITS


class QuantityOutOfRange(ValueError):
    pass


def response_quantity(quantity: int | Decimal) -> int | float:
    """The JSON number a response shows: exact when integral, else the nearest double."""
    if isinstance(quantity, int):
        if not -_INTEGER_LIMIT < quantity < _INTEGER_LIMIT:
            raise QuantityOutOfRange(_TOO_MANY_DIGITS)
        return quantity
    if not quantity.is_finite():
        raise QuantityOutOfRange("quantity is too large")
    if not _surely_in_range(quantity):
        _check_digits(quantity)
    if quantity == quantity.to_integral_value():
        return int(quantity)
    approximate = float(quantity)
    if approximate == float("inf"):
        raise QuantityOutOfRange("a fractional quantity must be below 1e308")
    return approximate


_TOO_MANY_DIGITS = f"quantity has more than {MAX_QUANTITY_DIGITS} digits"


def _surely_in_range(quantity: Decimal) -> bool:
    """A cheap test that passes every ordinary quantity: text without an exponent shows
    every digit the number has (and maybe a sign, a point and trailing zeros), so its length
    bounds the digit count. (`as_tuple` builds a named tuple of digits; it was most of a
    batch's property work.)"""
    text = str(quantity)
    return len(text) <= MAX_QUANTITY_DIGITS and "E" not in text


def plain_digits(quantity: Decimal) -> int:
    """The number of digits of a finite quantity written out without an exponent: those of
    its integer part (at least one, the 0 of 0.5) and those of its fraction after dropping
    trailing zeros (which do not change the number)."""
    _, digits, exponent = quantity.as_tuple()
    assert isinstance(exponent, int)  # finite
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing_zeros == len(digits):  # zero itself
        return 1
    exponent += trailing_zeros
    integer_digits = max(quantity.adjusted() + 1, 1)
    return integer_digits + max(-exponent, 0)


def _check_digits(quantity: Decimal) -> None:
    """The exact range check, for a finite quantity that `_surely_in_range` did not pass."""
    # The number of digits bounds both the integer `billing` needs and, below 1 (which
    # the schema refuses), `billed_price`'s denominators.
    if plain_digits(quantity) > MAX_QUANTITY_DIGITS:
        raise QuantityOutOfRange(_TOO_MANY_DIGITS)


def billed_price(lines: Iterable[tuple[int | Decimal, str]]) -> int:
    """Σ quantity × unit price (dollars) in atomic units, rounded half-even.

    Exact rational arithmetic on integers: every quantity and price is a fraction whose
    denominator divides a power of ten, so the sum is kept over the least common multiple
    of the denominators, which divides the largest of those powers of ten and so stays
    small. Three times cheaper than the same sum in Decimal with a context precise enough
    to be exact."""
    numerator, denominator = 0, 1
    for quantity, price in lines:
        quantity_numerator, quantity_denominator = _ratio(quantity)
        price_numerator, price_denominator = _unit_price(price)
        line_denominator = quantity_denominator * price_denominator
        common = math.lcm(denominator, line_denominator)
        numerator = numerator * (common // denominator) + (
            quantity_numerator * price_numerator * (common // line_denominator)
        )
        denominator = common
    return _round_half_even(numerator * ATOMIC_UNITS_PER_DOLLAR, denominator)


def _ratio(quantity: int | Decimal) -> tuple[int, int]:
    """A quantity that `response_quantity` accepted, as numerator and denominator."""
    if isinstance(quantity, int):
        return quantity, 1
    return quantity.as_integer_ratio()


@functools.lru_cache(maxsize=4096)
def _unit_price(price: str) -> tuple[int, int]:
    """A price string as numerator and denominator; a merchant's prices repeat."""
    return Decimal(price).as_integer_ratio()


def _round_half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) to the nearest integer, ties to even."""
    whole, remainder = divmod(numerator, denominator)  # floor, so 0 <= remainder
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and whole % 2 == 1):
        whole += 1
    return whole
