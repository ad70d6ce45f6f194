"""The per-event terms around a usage charge: connection fee + usage, then the minimum,
then the maximum; an event (or band part) paying for no units pays nothing at all.

`minimum <= maximum` is settled when the tariff is lowered, so the order of the two clamps
cannot matter; the fee is inside the clamps (a maximum caps the fee too).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from pricing.increments import apply_event_terms
from pricing.steps import Lines

__all__ = ["reference", "source", "vector"]


def reference(
    usage: Fraction,
    paid: int,
    connection: Decimal = Decimal(0),
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Fraction:
    """The exact charge (`pricing.increments.apply_event_terms`)."""
    return apply_event_terms(usage, paid, connection=connection, minimum=minimum, maximum=maximum)


def source(usage: str, connection: int, minimum: int | None, maximum: int | None) -> Lines:
    """`amount` = the terms around `usage` (an expression; "amount" when it already holds
    the usage charge), on the block's integer scale, for `paid` units."""
    lines: Lines = []
    if connection or usage != "amount":
        fee = f"{connection} + " if connection else ""
        lines.append((1, f"amount = {fee}{usage}"))
    if minimum is not None:
        lines += [(1, f"if amount < {minimum}:"), (2, f"amount = {minimum}")]
    if maximum is not None:
        lines += [(1, f"if amount > {maximum}:"), (2, f"amount = {maximum}")]
    if not lines:
        return [(0, "if not paid:"), (1, "amount = 0")]
    return [(0, "if paid:"), *lines, (0, "else:"), (1, "amount = 0")]


def vector(
    paid: Any,
    usage: Any,
    connection: Any,
    minimum: tuple[Any, Any] | None = None,
    maximum: tuple[Any, Any] | None = None,
) -> Any:
    """Per row: the terms around `usage` for `paid` units; `minimum` and `maximum` are
    (whether the row's rate has one, its amount), None when no row's has."""
    total = connection + usage
    for clamp, terms in ((np.maximum, minimum), (np.minimum, maximum)):
        if terms is not None:
            has, limit = terms
            total = np.where(has, clamp(total, limit), total)
    return np.where(paid > 0, total, 0)
