"""The sandbox's billing arithmetic against a plain Decimal oracle.

`billed_price` sums in integer fractions for speed; this checks it against the definition,
Σ quantity × price × 10^9 rounded half-even, computed in Decimal with more precision than
any input here can need.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from paygentic_sandbox.money import billed_price

_ORACLE = decimal.Context(prec=5000, traps=[decimal.Inexact, decimal.InvalidOperation])

# As the schema allows them: UnitPrice is ^[0-9]{1,15}(\.[0-9]{1,18})?$, quantity >= 1.
prices = st.from_regex(r"\A[0-9]{1,15}(\.[0-9]{1,18})?\Z")
quantities = st.one_of(
    st.integers(min_value=1, max_value=10**40),
    st.decimals(min_value=1, max_value=Decimal("1e30"), places=None, allow_nan=False).map(
        lambda d: +d if d.is_finite() else Decimal(1)
    ),
    st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent, _ORACLE),
        st.integers(min_value=10**25, max_value=10**60),
        st.integers(min_value=-60, max_value=-25),
    ),
)


def oracle(lines: list[tuple[int | Decimal, str]]) -> int:
    total = Decimal(0)
    for quantity, price in lines:
        total = _ORACLE.add(total, _ORACLE.multiply(Decimal(quantity), Decimal(price)))
    atomic = _ORACLE.multiply(total, Decimal(10**9))
    return int(atomic.to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


@given(st.lists(st.tuples(quantities, prices), min_size=1, max_size=6))
def test_billed_price_is_the_exact_sum_rounded_half_even(
    lines: list[tuple[int | Decimal, str]],
) -> None:
    assert billed_price(lines) == oracle(lines)


def test_ties_round_to_even() -> None:
    # 5 × 1e-10 dollars = 0.5 atomic units, 15 × 1e-10 = 1.5, 25 × 1e-10 = 2.5.
    assert billed_price([(5, "0.0000000001")]) == 0
    assert billed_price([(15, "0.0000000001")]) == 2
    assert billed_price([(25, "0.0000000001")]) == 2
    assert billed_price([(Decimal("2.5"), "0.0000000001"), (3, "0.0000000001")]) == 1
