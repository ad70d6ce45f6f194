"""Graduated and volume tiers over a period's usage.

Tiers are half-open [low, high) in usage units; the last is open-ended (`high=None`):
`0 GB .. 5 GB` then `5 GB ..` puts the 5 GB-th byte in the second tier.

- Graduated: every unit is priced at the tier it falls in. `graduated_charge(before, used)`
  prices the units [before, before + used) of the period, so a batch split anywhere costs
  exactly the same: charge(b, x) + charge(b + x, y) == charge(b, x + y) (tested).
- Volume: all units at the price of the tier the period's *total* falls in. Pricing usage
  incrementally therefore re-prices the whole period: `volume_delta(before, used)` is
  volume_charge(before + used) - volume_charge(before), which is negative (a credit) when the
  total crosses into a cheaper tier; the deltas of a period always sum to the charge of its
  final total. Caps on such deltas use `pricing.allowances.cap_delta`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from typing import NamedTuple

from pricing.rounding import to_decimal

__all__ = [
    "MAX_TIERS",
    "Tier",
    "graduated_charge",
    "graduated_charge_exact",
    "tier_problems",
    "volume_charge",
    "volume_charge_exact",
    "volume_delta",
]

MAX_TIERS = 100


class Tier(NamedTuple):
    """Units [low, high) at `price` per `per_units` units (0.29 per MB in bytes: per 1048576)."""

    low: int
    high: int | None
    price: Decimal
    per_units: int


def tier_problems(tiers: Sequence[Tier]) -> list[str]:
    """Human-readable reasons the tiers are unusable: they must start at 0, follow each other
    without gaps or overlaps, and only the last may (and must) be open-ended."""
    if not tiers:
        return ["no tiers"]
    if len(tiers) > MAX_TIERS:
        return [f"at most {MAX_TIERS} tiers, got {len(tiers)}"]
    found: list[str] = []
    if tiers[0].low != 0:
        found.append(f"tier 1 starts at {tiers[0].low}, not 0")
    for number, tier in enumerate(tiers, start=1):
        if tier.high is not None and tier.high <= tier.low:
            found.append(f"tier {number} is empty or reversed ({tier.low} .. {tier.high})")
        if tier.per_units < 1:
            found.append(f"tier {number} is priced per {tier.per_units} units")
        if not tier.price.is_finite() or tier.price < 0:
            found.append(f"tier {number} has price {tier.price}")
        if tier.high is None and number < len(tiers):
            found.append(f"tier {number} is open-ended but is not the last")
    if tiers[-1].high is not None:
        found.append(f"the last tier ends at {tiers[-1].high}: usage above it has no price")
    for number, (before, after) in enumerate(pairwise(tiers), start=2):
        if before.high is None:
            continue
        if after.low > before.high:
            found.append(
                f"gap between tier {number - 1} and tier {number}: "
                f"{before.high} .. {after.low} has no price"
            )
        elif after.low < before.high:
            found.append(f"tier {number} overlaps tier {number - 1} from {after.low}")
    return found


def _checked(tiers: Sequence[Tier], *amounts: int) -> None:
    if any(amount < 0 for amount in amounts):
        raise ValueError(f"usage must be >= 0, got {amounts}")
    problems = tier_problems(tiers)
    if problems:
        raise ValueError("; ".join(problems))


def graduated_charge_exact(
    before: int, used: int, tiers: Sequence[Tier]
) -> tuple[Fraction, list[tuple[int, int]]]:
    """The exact charge of usage [before, before + used) and the units in each tier touched
    as (tier index, units), in tier order."""
    _checked(tiers, before, used)
    end = before + used
    total = Fraction(0)
    parts: list[tuple[int, int]] = []
    for index, tier in enumerate(tiers):  # bounded: MAX_TIERS
        high = end if tier.high is None else min(end, tier.high)
        units = high - max(before, tier.low)
        if units > 0:
            total += Fraction(tier.price) * units / tier.per_units
            parts.append((index, units))
    return total, parts


def graduated_charge(
    before: int, used: int, tiers: Sequence[Tier]
) -> tuple[Decimal, list[tuple[int, int]]]:
    """`graduated_charge_exact` as an exact Decimal (InexactAmountError if non-terminating)."""
    total, parts = graduated_charge_exact(before, used, tiers)
    return to_decimal(total), parts


def _tier_of(total: int, tiers: Sequence[Tier]) -> int:
    for index, tier in enumerate(tiers):  # bounded: MAX_TIERS
        if tier.high is None or total < tier.high:
            return index
    raise ValueError(f"{total} is above the last tier")  # unreachable once validated


def volume_charge_exact(total: int, tiers: Sequence[Tier]) -> tuple[Fraction, int]:
    """(exact charge of all `total` units at its tier's price, that tier's index)."""
    _checked(tiers, total)
    index = _tier_of(total, tiers)
    tier = tiers[index]
    return Fraction(tier.price) * total / tier.per_units, index


def volume_charge(total: int, tiers: Sequence[Tier]) -> tuple[Decimal, int]:
    """`volume_charge_exact` as an exact Decimal (InexactAmountError if non-terminating)."""
    amount, index = volume_charge_exact(total, tiers)
    return to_decimal(amount), index


def volume_delta(before: int, used: int, tiers: Sequence[Tier]) -> Decimal:
    """What `used` more units change a volume-priced period's charge by (may be negative)."""
    _checked(tiers, before, used)
    after, _ = volume_charge_exact(before + used, tiers)
    previous, _ = volume_charge_exact(before, tiers)
    return to_decimal(after - previous)
