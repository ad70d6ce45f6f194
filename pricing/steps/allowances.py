"""Free units: an allowance takes what it has left of the billed (not the used) units.

A subscriber's period has used `before` of an allowance of `amount`; an event asking for
`paid` units gets min(amount - before, paid) of them free (none once it is used up) and pays
for the rest. Allowances apply in source order, each to what the earlier ones left.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pricing.allowances import consume
from pricing.steps import Lines, indent
from pricing.steps.groups import compact, group_sums, running_before

__all__ = ["reference", "reference_run", "source", "vector"]


def reference(amount: int, before: int, paid: int) -> tuple[int, int]:
    """(free, paid) of one event (`pricing.allowances.consume` on what is left)."""
    return consume(max(amount - before, 0), paid)


def reference_run(amount: int, before: int, asked: Sequence[int]) -> list[int]:
    """The free units of a period's events in order, each on what the earlier ones left."""
    found: list[int] = []
    for paid in asked:  # bounded by the events
        free, _ = reference(amount, before, paid)
        before += free
        found.append(free)
    return found


def source(amount: int, then: Sequence[tuple[int, str]] = ()) -> Lines:
    """`free` and `paid` after the allowance, from `before` (its used units) and `paid`;
    `then` runs only when it gave something (the counter's bookkeeping)."""
    return [
        (0, f"free = {amount} - before"),
        (0, "if free > 0 and paid:"),
        (1, "if free > paid:"),
        (2, "free = paid"),
        (1, "paid -= free"),
        *indent(list(then), 1),
    ]


def vector(groups: Any, asked: Any, limit: Any, start: Any, size: int) -> Any:
    """What each row takes of an allowance: `limit` units per group (per row, the same for
    every row of a group), `start` already used (per row, its group's), `asked` by the row.
    A row takes min(left, asked); the group's used units grow by what it took."""
    groups, size = compact(groups, size)
    totals = group_sums(groups, asked, size)[groups]
    free = np.where(start + totals <= limit, asked, 0)
    crossing = (start < limit) & (start + totals > limit)
    if crossing.any():
        at = np.flatnonzero(crossing)
        before = start[at] + running_before(groups[at], asked[at])
        free[at] = np.minimum(limit[at], before + asked[at]) - np.minimum(limit[at], before)
    return free
