"""Exact rounding of money and exact conversions to the wire (google.type.Money) and back.

Amounts stay exact (Decimal, or Fraction where a rate divides by a unit that does not
terminate in base ten) until the tariff's declared rounding; this module is the only place a
value is rounded, so a preview and the real charge cannot round differently.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

__all__ = [
    "EXACT",
    "MAX_DECIMALS",
    "InexactAmountError",
    "RoundingMode",
    "from_units_nanos",
    "round_amount",
    "round_exact",
    "to_decimal",
    "to_units_nanos",
]

#: Decimal context for exact arithmetic: any result that would need rounding raises
#: (Inexact/Rounded are traps), so a product or sum is either exact or an error, never drift.
EXACT = decimal.Context(
    prec=120,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999_999,
    Emax=999_999,
    traps=[
        decimal.InvalidOperation,
        decimal.DivisionByZero,
        decimal.Overflow,
        decimal.Underflow,
        decimal.Inexact,
        decimal.Rounded,
    ],
)

#: Most decimals a rounding may keep (Money carries nanos: 9 is the useful maximum).
MAX_DECIMALS = 18

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_NANOS = 1_000_000_000


class InexactAmountError(ValueError):
    """An exact amount is not a terminating decimal (e.g. 0.10 per minute for 1 s = 1/600)."""


class RoundingMode(StrEnum):
    """The DSL's rounding modes. `half_up` rounds halves away from zero (commercial rounding:
    -2.5 -> -3); `down` is toward zero, `up` away from zero."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"
    UP = "up"
    CEILING = "ceiling"
    FLOOR = "floor"


_DECIMAL_ROUNDING: dict[RoundingMode, str] = {
    RoundingMode.HALF_UP: decimal.ROUND_HALF_UP,
    RoundingMode.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    RoundingMode.DOWN: decimal.ROUND_DOWN,
    RoundingMode.UP: decimal.ROUND_UP,
    RoundingMode.CEILING: decimal.ROUND_CEILING,
    RoundingMode.FLOOR: decimal.ROUND_FLOOR,
}


def _check_decimals(decimals: int) -> None:
    if not 0 <= decimals <= MAX_DECIMALS:
        raise ValueError(f"decimals must be 0..{MAX_DECIMALS}, got {decimals}")


def round_amount(amount: Decimal, mode: RoundingMode, decimals: int) -> Decimal:
    """Round `amount` to `decimals` fractional digits; the result has exactly that exponent
    (round_amount(1, HALF_UP, 2) == Decimal("1.00")), whatever the ambient context."""
    _check_decimals(decimals)
    if not amount.is_finite():
        raise ValueError(f"cannot round {amount}")
    # Enough precision for every digit of the result plus a carry: quantize never rounds
    # beyond the requested exponent.
    prec = max(1, amount.adjusted() + decimals + 2)
    ctx = decimal.Context(prec=prec, rounding=_DECIMAL_ROUNDING[RoundingMode(mode)])
    ctx.traps[decimal.InvalidOperation] = True
    result = amount.quantize(Decimal(1).scaleb(-decimals), context=ctx)
    return result.copy_abs() if result.is_zero() else result  # never print "-0.00"


def round_exact(value: Fraction | Decimal | int, mode: RoundingMode, decimals: int) -> Decimal:
    """Round an exact rational to `decimals` digits with integer arithmetic only; agrees with
    `round_amount` on every Decimal (tested), and also rounds non-terminating values (1/600)."""
    _check_decimals(decimals)
    frac = Fraction(value)
    scaled = frac * 10**decimals
    num, den = scaled.numerator, scaled.denominator  # den > 0
    q, r = divmod(num, den)  # floor division: q <= scaled < q + 1
    if r:
        mode = RoundingMode(mode)
        negative = num < 0
        twice = 2 * r
        if mode is RoundingMode.FLOOR:
            up = False
        elif mode is RoundingMode.CEILING:
            up = True
        elif mode is RoundingMode.DOWN:
            up = negative  # toward zero: a negative floor moves up
        elif mode is RoundingMode.UP:
            up = not negative
        elif twice != den:
            up = twice > den
        elif mode is RoundingMode.HALF_UP:
            up = not negative
        else:  # HALF_EVEN
            up = q % 2 == 1
        q += up
    return Decimal(q).scaleb(-decimals, context=EXACT)


def to_decimal(value: Fraction | Decimal | int) -> Decimal:
    """The exact Decimal of a rational, or InexactAmountError when its expansion does not
    terminate (the denominator has a prime factor other than 2 and 5)."""
    if isinstance(value, Decimal):
        return value
    frac = Fraction(value)
    den = frac.denominator
    twos = fives = 0
    while den % 2 == 0:  # bounded: den halves each step
        den //= 2
        twos += 1
    while den % 5 == 0:  # bounded: den shrinks each step
        den //= 5
        fives += 1
    if den != 1:
        raise InexactAmountError(f"{frac} is not a terminating decimal")
    digits = max(twos, fives)
    scaled = frac * 10**digits
    return Decimal(scaled.numerator).scaleb(-digits, context=EXACT)


def to_units_nanos(amount: Decimal) -> tuple[int, int]:
    """(units, nanos) as google.type.Money wants them: units int64, nanos int32 of the same
    sign, |nanos| < 1e9. Refuses values needing more than 9 fractional digits or outside
    int64 units (trailing zeros are fine: 1.5000000000 is 1.5)."""
    if not amount.is_finite():
        raise ValueError(f"{amount} is not a money amount")
    if amount and amount.adjusted() > 19:  # > 1e20: out of int64 before any big arithmetic
        raise ValueError(f"{amount} is out of the int64 range of Money.units")
    sign, digit_tuple, exponent = amount.as_tuple()
    assert isinstance(exponent, int)
    coefficient = int("".join(map(str, digit_tuple)) or "0")
    shift = exponent + 9
    if shift >= 0:
        total = coefficient * 10**shift
    else:
        if -shift > len(digit_tuple):  # more zeros to drop than digits: non-zero is too fine
            if coefficient:
                raise ValueError(f"{amount} has more than 9 fractional digits")
            total = 0
        else:
            total, rest = divmod(coefficient, 10**-shift)
            if rest:
                raise ValueError(f"{amount} has more than 9 fractional digits")
    units, nanos = divmod(total, _NANOS)
    if sign:
        units, nanos = -units, -nanos
    if not _INT64_MIN <= units <= _INT64_MAX:
        raise ValueError(f"{amount} is out of the int64 range of Money.units")
    return units, nanos


def from_units_nanos(units: int, nanos: int) -> Decimal:
    """The exact amount of a google.type.Money (units, nanos), validating the Money rules;
    trailing fractional zeros are dropped (1, 500000000 -> 1.5; 100, 0 -> 100)."""
    if not _INT64_MIN <= units <= _INT64_MAX:
        raise ValueError(f"units {units} is out of the int64 range")
    if not -_NANOS < nanos < _NANOS:
        raise ValueError(f"nanos {nanos} must be within -999,999,999..999,999,999")
    if (units > 0 and nanos < 0) or (units < 0 and nanos > 0):
        raise ValueError(f"units {units} and nanos {nanos} must have the same sign")
    total = units * _NANOS + nanos
    digits = 9
    while digits and total % 10 == 0:  # bounded by 9
        total //= 10
        digits -= 1
    return Decimal(total).scaleb(-digits, context=EXACT)
