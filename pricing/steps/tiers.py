"""The usage charge from tiers on the period's tier counter (its paid units so far).

Graduated tiers price each unit in the tier it falls in; volume tiers price all of the
period's units at the tier its total falls in, so an event is charged the change of the
period's charge (a credit when the total crosses into a cheaper tier). On the block's scale
a tier is (low, high, multiplier): units [low, high) at `multiplier` each (high None = open).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from pricing.steps import Lines
from pricing.tiers import Tier, graduated_charge_exact, volume_charge_exact

__all__ = ["ScaledTier", "reference", "source", "vector"]


class ScaledTier(NamedTuple):
    """One tier on a block's integer money scale."""

    low: int
    high: int | None
    multiplier: int


def reference(graduated: bool, before: int, paid: int, tiers: Sequence[Tier]) -> Fraction:
    """The exact usage charge of `paid` more units after `before` (`pricing.tiers`)."""
    if graduated:
        return graduated_charge_exact(before, paid, tiers)[0]
    after_charge, _ = volume_charge_exact(before + paid, tiers)
    before_charge, _ = volume_charge_exact(before, tiers)
    return after_charge - before_charge


def _volume(tiers: Sequence[ScaledTier], total: str, target: str) -> Lines:
    lines: Lines = []
    for index, tier in enumerate(tiers):  # checked: contiguous from 0, only the last open
        if tier.high is None:
            if index:
                lines.append((0, "else:"))
            lines.append((1 if index else 0, f"{target} = {tier.multiplier} * {total}"))
            return lines
        lines.append((0, f"{'elif' if index else 'if'} {total} < {tier.high}:"))
        lines.append((1, f"{target} = {tier.multiplier} * {total}"))
    return lines


def source(graduated: bool, tiers: Sequence[ScaledTier]) -> Lines:
    """`amount` = the usage charge of the units [before, end), on the scale."""
    if not graduated:
        return [*_volume(tiers, "end", "amount"), *_volume(tiers, "before", "was"),
                (0, "amount -= was")]  # fmt: skip
    lines: Lines = [(0, "amount = 0")]
    for tier in tiers:
        low = "before" if tier.low == 0 else f"(before if before > {tier.low} else {tier.low})"
        high = "end" if tier.high is None else f"(end if end < {tier.high} else {tier.high})"
        lines += [(0, f"units = {high} - {low}"), (0, "if units > 0:"),
                  (1, f"amount += {tier.multiplier} * units")]  # fmt: skip
    return lines


def vector(graduated: bool, tiers: Sequence[ScaledTier], before: Any, paid: Any) -> Any:
    """Per row, the usage charge of `paid` units after `before` (Python integers)."""
    lows = np.array([t.low for t in tiers], dtype=object)
    mults = np.array([t.multiplier for t in tiers], dtype=object)
    below = [0]
    for tier in tiers[:-1]:
        assert tier.high is not None  # checked: only the last tier is open
        below.append(below[-1] + (tier.high - tier.low) * tier.multiplier)
    charged_below = np.array(below, dtype=object)
    low_values = np.array([t.low for t in tiers], dtype=np.int64)

    def price(units: Any) -> Any:
        k = np.searchsorted(low_values, units, side="right") - 1
        if graduated:
            return charged_below[k] + (units.astype(object) - lows[k]) * mults[k]
        return units.astype(object) * mults[k]

    return price(before + paid) - price(before)
