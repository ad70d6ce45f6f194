"""Billed units: usage rounded up to the increments ("60 s then 6 s": 1..60 -> 60, 61 -> 66).

At least `first` units for any usage, then the rest in whole multiples of `next`; no usage
bills nothing. `first=0` bills in multiples of `next` from the start, `next=1` exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pricing.increments import billed_units
from pricing.steps import Lines

__all__ = ["reference", "source", "vector"]

reference = billed_units


def source(first: int, next: int, used: str = "usage", target: str = "billed") -> Lines:
    """`target` = the billed units of `used`, for settled increments (first >= 0, next >= 1)."""
    if first == 0 and next == 1:
        return [(0, f"{target} = {used}")]
    lines: Lines = [(0, f"if {used} == 0:"), (1, f"{target} = 0")]
    if first:
        lines += [(0, f"elif {used} <= {first}:"), (1, f"{target} = {first}")]
    rest = f"{used} - {first}" if first else used
    rounded = rest if next == 1 else f"-(-({rest}) // {next}) * {next}"
    lines += [
        (0, "else:"),
        (1, f"{target} = {first} + {rounded}" if first else f"{target} = {rounded}"),
    ]
    return lines


def vector(used: Any, first: Any, next: Any) -> Any:
    """Billed units per row (int64 arrays; `first`, `next` per row or scalars)."""
    billed = np.where(used <= first, first, first + -(-(used - first) // next) * next)
    return np.where(used == 0, 0, billed)
