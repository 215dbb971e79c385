"""Quantities and billing amounts, in exact decimal arithmetic.

Quantities arrive as JSON numbers, parsed to `int` or `Decimal` (never `float`), so that
`billing.price` = Σ quantity × unit price × 10^9 is exact before its one rounding
(half-even, to an integer number of atomic units).
"""

from __future__ import annotations

import decimal
from collections.abc import Iterable
from decimal import Decimal

ATOMIC_UNITS_PER_DOLLAR = 10**9

# The schema sets no maximum on a quantity, but a number like 1e999999999 would take the
# server's memory to turn into an integer. Anything with more digits than this is refused.
MAX_QUANTITY_DIGITS = 1000

# Enough precision that no product or sum of quantities and prices within the limits above
# is ever rounded: the only rounding is the final one to atomic units.
_EXACT = decimal.Context(prec=3 * MAX_QUANTITY_DIGITS, traps=[decimal.InvalidOperation])


class QuantityOutOfRange(ValueError):
    pass


def response_quantity(quantity: int | Decimal) -> int | float:
    """The JSON number a response shows: exact when integral, else the nearest double."""
    if isinstance(quantity, int):
        if quantity.bit_length() > MAX_QUANTITY_DIGITS * 4:
            raise QuantityOutOfRange("quantity has too many digits")
        return quantity
    sign, digits, exponent = quantity.as_tuple()
    if not isinstance(exponent, int) or quantity.adjusted() > MAX_QUANTITY_DIGITS:
        raise QuantityOutOfRange("quantity is too large")
    if len(digits) > MAX_QUANTITY_DIGITS:
        raise QuantityOutOfRange("quantity has too many digits")
    if quantity == quantity.to_integral_value():
        return int(quantity)
    approximate = float(quantity)
    if approximate == float("inf"):
        raise QuantityOutOfRange("a fractional quantity must be below 1e308")
    return approximate


def billed_price(lines: Iterable[tuple[int | Decimal, str]]) -> int:
    """Σ quantity × unit price (dollars) in atomic units, rounded half-even."""
    # The context's own methods: exact, and cheaper than switching the thread's context.
    total = Decimal(0)
    for quantity, price in lines:
        total = _EXACT.add(total, _EXACT.multiply(Decimal(quantity), Decimal(price)))
    atomic = _EXACT.multiply(total, Decimal(ATOMIC_UNITS_PER_DOLLAR))
    return int(atomic.to_integral_value(rounding=decimal.ROUND_HALF_EVEN))
