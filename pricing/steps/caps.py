"""A period's cap: what an event pays under it, given the period's uncapped running total.

The cap counter holds the period's *uncapped* total, so an event moving it from `before` to
`after` pays min(after, cap) - min(before, cap): nothing once the period is at its cap, and
credits (volume tiers re-pricing down) come back as they went (`pricing.allowances.cap_delta`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from pricing.allowances import cap_delta
from pricing.rounding import EXACT
from pricing.steps import Lines
from pricing.steps.groups import compact, group_sums, running_before

__all__ = ["reference", "reference_run", "source", "vector"]


def reference(before: Decimal, charge: Decimal, cap: Decimal) -> tuple[Decimal, Decimal]:
    """(what the event pays, the counter after it)."""
    after = EXACT.add(before, charge)
    return cap_delta(before, after, cap), after


def reference_run(cap: Decimal, before: Decimal, charges: Sequence[Decimal]) -> list[Decimal]:
    """What a period's events pay in order under the cap."""
    found: list[Decimal] = []
    for charge in charges:  # bounded by the events
        paid, before = reference(before, charge, cap)
        found.append(paid)
    return found


def source(limit: str) -> Lines:
    """`charge` under the cap `limit` (a Decimal constant's name) and the counter `after`,
    from `before` (the counter) and `charge` (Decimals, exact)."""
    return [
        (0, "after = EXACT.add(before, charge)"),
        (0, f"low = {limit} if {limit} < before else before"),
        (0, f"high = {limit} if {limit} < after else after"),
        (0, "charge = EXACT.subtract(high, low)"),
    ]


def vector(groups: Any, charges: Any, cap: Any, start: Any, size: int) -> Any:
    """Each row's charge under a cap on the group's uncapped running total (`start` before
    the batch): min(after, cap) - min(before, cap), credits included."""
    groups, size = compact(groups, size)
    totals = group_sums(groups, charges, size)
    negative = group_sums(groups, (charges < 0).astype(np.int64), size)[groups] > 0
    totals = totals[groups]
    under = ~negative & (start + totals <= cap)
    over = ~negative & (start >= cap)
    result = np.where(under, charges, 0)
    if result.dtype != charges.dtype:
        result = result.astype(charges.dtype)
    rest = ~(under | over)
    if rest.any():
        at = np.flatnonzero(rest)
        before = start[at] + running_before(groups[at], charges[at])
        result[at] = np.minimum(cap[at], before + charges[at]) - np.minimum(cap[at], before)
    return result
