"""Billing increments and the money of one rated event.

Order of an event's charge (fixed here so every engine and every preview agree):

1. usage is rounded up to the increments (`billed_units`);
2. the usage charge is `billed * price / per_units`, exact (`charge_exact`);
3. the connection fee is added: `total = connection + usage`;
4. `minimum` then `maximum` apply to that total (`minimum <= maximum` is enforced, so the
   order of the two clamps cannot matter): a 0.05 connection fee plus 0.02 of usage under a
   0.10 minimum is 0.10; a maximum caps the fee too;
5. an event that bills no units (0 s, or everything covered by an allowance, see
   `pricing.allowances`) charges nothing: no connection fee, no minimum;
6. rounding comes after all of this (`pricing.rounding`), once, as the tariff declares.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from pricing.rounding import to_decimal

__all__ = [
    "apply_event_terms",
    "billed_units",
    "charge",
    "charge_exact",
    "event_charge",
    "event_charge_exact",
    "increments",
]


def increments(first: int | None = None, then: int | None = None) -> tuple[int, int]:
    """(first, next) for the DSL's forms: none -> (0, 1), every unit billed as used;
    `increments 60s` -> (60, 60), whole blocks of 60; `increments 60s then 6s` -> (60, 6)."""
    if first is None:
        if then is not None:
            raise ValueError("`then` needs a first increment")
        return 0, 1
    return first, first if then is None else then


def billed_units(used: int, first: int, next: int) -> int:
    """Usage rounded up to the increments: at least `first` units for any usage, then the rest
    in whole multiples of `next` ("60 s then 6 s": 1..60 -> 60, 61 -> 66, 0 -> 0).

    `first=0` bills in multiples of `next` from the start; `next=1` bills the rest exactly.
    """
    if used < 0 or first < 0 or next < 1:
        raise ValueError(f"need used >= 0, first >= 0, next >= 1; got {used}, {first}, {next}")
    if used == 0:
        return 0
    if used <= first:
        return first
    rest = used - first
    return first + -(-rest // next) * next


def _check_price(price: Decimal, per_units: int) -> None:
    if per_units < 1:
        raise ValueError(f"per_units must be >= 1, got {per_units}")
    if not price.is_finite():
        raise ValueError(f"price {price} is not finite")


def charge_exact(units: int, price: Decimal, per_units: int) -> Fraction:
    """`units * price / per_units` as an exact rational (0.10 per 60 s for 1 s is 1/600)."""
    _check_price(price, per_units)
    if units < 0:
        raise ValueError(f"units must be >= 0, got {units}")
    return Fraction(price) * units / per_units


def charge(units: int, price: Decimal, per_units: int) -> Decimal:
    """`units * price / per_units` exactly, never rounded; InexactAmountError (a ValueError)
    when the result does not terminate in base ten - use `charge_exact` and round it then."""
    return to_decimal(charge_exact(units, price, per_units))


def event_charge_exact(
    billed: int,
    price: Decimal,
    per_units: int,
    *,
    connection: Decimal = Decimal(0),
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Fraction:
    """Connection fee + usage charge, then the minimum, then the maximum (module docstring);
    zero billed units charge nothing at all."""
    usage = charge_exact(billed, price, per_units)
    return apply_event_terms(usage, billed, connection=connection, minimum=minimum, maximum=maximum)


def apply_event_terms(
    usage: Fraction,
    units: int,
    *,
    connection: Decimal = Decimal(0),
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Fraction:
    """The per-event terms around an already computed usage charge (from a rate or from
    tiers): fee + usage, then the minimum, then the maximum; zero paid units charge nothing.
    Raises ValueError for a negative fee or minimum, or a minimum above the maximum."""
    if connection < 0 or (minimum is not None and minimum < 0):
        raise ValueError("connection fee and minimum must be >= 0")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ValueError(f"minimum {minimum} is above maximum {maximum}")
    if units == 0:
        return Fraction(0)
    total = Fraction(connection) + usage
    if minimum is not None:
        total = max(total, Fraction(minimum))
    if maximum is not None:
        total = min(total, Fraction(maximum))
    return total


def event_charge(
    billed: int,
    price: Decimal,
    per_units: int,
    *,
    connection: Decimal = Decimal(0),
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal:
    """`event_charge_exact` as an exact Decimal (InexactAmountError if it does not terminate)."""
    return to_decimal(
        event_charge_exact(
            billed, price, per_units, connection=connection, minimum=minimum, maximum=maximum
        )
    )
