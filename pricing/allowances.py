"""Included usage (allowances) consumed before paid usage, and caps on a period's charges.

The order for one event, fixed here because CGRateS users were bitten by free minutes and
connect fees interacting in surprising ways:

1. the used units are rounded up to the increments first (`billed_units`): an allowance is
   consumed in *billed* units, so a 61 s call under "60 s then 6 s" uses 66 s of free minutes;
2. the allowance takes what it can of those billed units (`consume`); the paid remainder is
   charged as it is, not rounded to the increments again;
3. an event left with paid units pays the connection fee and its usage, then the minimum and
   maximum apply to that total (`pricing.increments`): a partly free call still pays its fee;
4. a fully free event (every billed unit from the allowance) pays nothing: no connection fee
   and no minimum, unless the tariff says its fee is due anyway (`connection_when_free`), in
   which case it pays the fee alone (still clamped by the maximum);
5. after rounding, the charge goes through the period's cap (`apply_cap`).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from pricing.increments import billed_units, event_charge_exact
from pricing.rounding import EXACT

__all__ = ["AllowanceRating", "apply_cap", "cap_delta", "consume", "rate_with_allowance"]


def consume(remaining: int, units: int) -> tuple[int, int]:
    """(free, paid): as many of `units` as the allowance's `remaining` covers, then the rest."""
    if remaining < 0 or units < 0:
        raise ValueError(f"remaining and units must be >= 0, got {remaining}, {units}")
    free = min(remaining, units)
    return free, units - free


class AllowanceRating(NamedTuple):
    """One event rated against an allowance: the exact charge and where the units went."""

    billed: int
    free: int
    paid: int
    charge: Fraction


def rate_with_allowance(
    used: int,
    remaining: int,
    *,
    first: int,
    next: int,  # the domain's word, as in billed_units
    price: Decimal,
    per_units: int,
    connection: Decimal = Decimal(0),
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    connection_when_free: bool = False,
) -> AllowanceRating:
    """Increments, then the allowance, then fee + usage, min and max (module docstring)."""
    billed = billed_units(used, first, next)
    free, paid = consume(remaining, billed)
    if paid:
        amount = event_charge_exact(
            paid, price, per_units, connection=connection, minimum=minimum, maximum=maximum
        )
        return AllowanceRating(billed, free, paid, amount)
    # Validate the rate's figures even when nothing is paid, so errors do not hide in
    # allowances.
    event_charge_exact(0, price, per_units, connection=connection, minimum=minimum, maximum=maximum)
    amount = Fraction(connection) if connection_when_free and billed else Fraction(0)
    if maximum is not None:
        amount = min(amount, Fraction(maximum))
    return AllowanceRating(billed, free, 0, amount)


def apply_cap(spent_before: Decimal, charge: Decimal, cap: Decimal) -> tuple[Decimal, Decimal]:
    """(charged, spent_after): the part of `charge` that fits under `cap` given what the
    period has already paid; a period already at (or above) its cap pays nothing more."""
    if charge < 0 or spent_before < 0 or cap < 0:
        raise ValueError("charge, spent and cap must be >= 0 (credits: use cap_delta)")
    room = max(EXACT.subtract(cap, spent_before), Decimal(0))
    charged = min(charge, room)
    return charged, EXACT.add(spent_before, charged)


def cap_delta(total_before: Decimal, total_after: Decimal, cap: Decimal) -> Decimal:
    """How much a change of a period's *uncapped* total changes what it pays under `cap`:
    min(after, cap) - min(before, cap). Works for credits too (volume tiers re-pricing down)."""
    if cap < 0:
        raise ValueError(f"cap must be >= 0, got {cap}")
    return EXACT.subtract(min(total_after, cap), min(total_before, cap))
