"""The charge of an event: its exact total rounded as the tariff declares, or, when nothing
is declared, exact when it terminates within 9 decimals and else half-even to 9 decimals
(the wire's precision, google.type.Money).

On a block's scale the total is an integer of 1/scale; a declared rounding to `places`
gives an integer q of 10**-places with the floor-then-adjust rule of
`pricing.rounding.round_exact`.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import gcd
from typing import Any

import numpy as np

from pricing.rounding import EXACT, RoundingMode, round_exact, to_decimal
from pricing.steps import Lines

__all__ = [
    "MODES",
    "WIRE_DECIMALS",
    "pow10",
    "reference",
    "source",
    "trim_vector",
    "unrounded",
    "unrounded_scaled",
    "vector",
]

WIRE_DECIMALS = 9  # google.type.Money carries nanos
WIRE_SCALE = 10**WIRE_DECIMALS
_FITS = 2**62

#: The modes in the order the vector form codes them.
MODES = tuple(RoundingMode)


def reference(exact: Fraction, mode: RoundingMode | None, places: int) -> Decimal:
    """The charge of an exact total (`mode` None: nothing declared, `places` unused)."""
    if mode is not None:
        return round_exact(exact, mode, places)
    try:
        value = to_decimal(exact)
    except ValueError:
        return round_exact(exact, RoundingMode.HALF_EVEN, WIRE_DECIMALS)
    if value.as_tuple().exponent < -WIRE_DECIMALS:  # type: ignore[operator]  # finer than the wire
        return round_exact(exact, RoundingMode.HALF_EVEN, WIRE_DECIMALS)
    return value


def source(mode: RoundingMode, places: int, scale: int) -> Lines:
    """`q` = `total` (an integer of 1/scale) rounded to `places` decimals, as an integer."""
    lines: Lines = [
        (0, f"scaled = total * {10**places}"),
        (0, f"q = scaled // {scale}  # floor, as pricing.rounding.round_exact"),
        (0, f"rest = scaled - q * {scale}"),
    ]
    up = {
        RoundingMode.CEILING: "rest",
        RoundingMode.DOWN: "rest and scaled < 0",
        RoundingMode.UP: "rest and scaled >= 0",
        RoundingMode.HALF_UP: "rest + rest > {s} or (rest + rest == {s} and scaled >= 0)",
        RoundingMode.HALF_EVEN: "rest + rest > {s} or (rest + rest == {s} and q % 2 == 1)",
    }
    if mode in up:
        lines += [(0, f"if {up[mode].format(s=scale)}:  # {mode.value}"), (1, "q += 1")]
    return lines


def unrounded(exact: Fraction) -> Decimal:
    """`reference(exact, None, 0)` counting the factors 2 with bit tricks instead of a
    division loop (the scalar form of the undeclared rounding)."""
    return _unrounded(exact.numerator, exact.denominator)


def unrounded_scaled(total: int, scale: int) -> Decimal:
    """`unrounded(Fraction(total, scale))` without building the Fraction (scale > 0)."""
    common = gcd(total, scale)
    if common != 1:
        total //= common
        scale //= common
    return _unrounded(total, scale)


def _unrounded(num: int, den: int) -> Decimal:
    """`unrounded` of num / den in lowest terms, den > 0."""
    twos = (den & -den).bit_length() - 1
    rest = den >> twos
    fives = 0
    while rest % 5 == 0:  # bounded: rest shrinks each step
        rest //= 5
        fives += 1
    digits = max(twos, fives)
    if rest != 1 or digits > WIRE_DECIMALS:  # round_exact's half-even, without Fractions
        q, r = divmod(num * WIRE_SCALE, den)
        if r and (r + r > den or (r + r == den and q & 1)):
            q += 1
        return Decimal(q).scaleb(-WIRE_DECIMALS, context=EXACT)
    return Decimal(num * 10**digits // den).scaleb(-digits, context=EXACT)


def pow10(places: Any) -> Any:
    """10**places per row, as Python integers."""
    return np.array([10**p for p in range(40)], dtype=object)[places]


def vector(value: Any, scale: Any, decimals: Any, modes: Any) -> tuple[Any, Any]:
    """value/scale rounded to `decimals` places per row (modes: indexes into `MODES`), as
    `pricing.rounding.round_exact`: (rounded, whether anything was dropped), exact integers.
    The undeclared rounding is HALF_EVEN to 9 places, then `trim_vector`."""
    top = int(np.abs(value).max(initial=0)) * 10 ** int(decimals.max(initial=0))
    if value.dtype == object or scale.dtype == object or top >= _FITS:
        num = value.astype(object) * pow10(decimals)
        den = scale.astype(object)
    else:
        num = value * (np.int64(10) ** decimals)
        den = scale
    q = num // den
    r = num - q * den
    negative = num < 0
    twice = 2 * r
    half = twice == den
    above = twice > den
    up = np.zeros(len(value), dtype=np.bool_)
    for code, mode in enumerate(MODES):
        rows = modes == code
        if not rows.any() or mode is RoundingMode.FLOOR:
            continue
        if mode is RoundingMode.CEILING:
            choice = np.ones(len(value), dtype=np.bool_)
        elif mode is RoundingMode.DOWN:
            choice = negative
        elif mode is RoundingMode.UP:
            choice = ~negative
        elif mode is RoundingMode.HALF_UP:
            choice = above | (half & ~negative)
        else:
            choice = above | (half & (q % 2 == 1))
        up |= rows & np.asarray(choice, dtype=np.bool_)
    dropped = np.asarray(r != 0, dtype=np.bool_)
    return q + (up & dropped), dropped


def trim_vector(amount: Any, decimals: Any, floor: Any) -> tuple[Any, Any]:
    """Amounts of 10**-decimals with trailing zeros dropped down to `floor` places: a
    declared rounding keeps its places, an unrounded charge only those it needs (as
    `to_decimal` writes it)."""
    amount = amount.copy()
    have = decimals.copy()
    for _ in range(40):  # bounded: a scale has at most ~40 places
        drop = np.asarray((have > floor) & (amount % 10 == 0), dtype=np.bool_)
        if not drop.any():
            break
        amount[drop] //= 10
        have[drop] -= 1
    return amount, have
