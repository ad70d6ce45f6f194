"""Running totals over a batch without a per-row loop: each subscriber's period is a group, and a
counter is a running total over the group's rows in their order.

Most groups never need that order: an allowance a group does not exhaust in this batch gives
every row all it asks, one already exhausted gives nothing, a cap a group stays under (or is
already over) passes every charge (or none). Only the groups that cross a limit within the
batch - at most once per period each - are sorted (stably, so rows keep their order) and
given exact running totals. Sums are exact integers: int64 when they provably fit, Python
integers (object arrays) otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["by_group", "compact", "group_sums", "running_before"]

_FITS = 2**62


def _bounded(values: Any, count: int) -> bool:
    """True when any sum of `count` of these int64 values fits comfortably in int64."""
    if values.dtype == object or not len(values):
        return bool(values.dtype != object)
    top = int(np.abs(values).max())
    return top * max(count, 1) < _FITS


def group_sums(groups: Any, values: Any, size: int) -> Any:
    """Per group id (0 <= id < size) the exact sum of `values`."""
    if _bounded(values, len(values)):
        sums = np.zeros(size, dtype=np.int64)
    else:
        sums = np.zeros(size, dtype=object)
        sums[:] = 0
        values = values.astype(object)
    np.add.at(sums, groups, values)
    return sums


def running_before(groups: Any, values: Any) -> Any:
    """For each row, the sum of `values` over the earlier rows of its group (row order)."""
    if not len(groups):
        return values.copy()
    if not _bounded(values, len(values)):
        values = values.astype(object)
    order = np.argsort(groups, kind="stable")
    ordered, taken = groups[order], values[order]
    total = np.cumsum(taken)
    before = total - taken
    starts = np.empty(len(ordered), dtype=np.bool_)
    starts[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    segment = np.cumsum(starts) - 1
    result = np.empty_like(before)
    result[order] = before - before[starts][segment]
    return result


def compact(groups: Any, size: int) -> tuple[Any, int]:
    """Group ids renumbered 0..k-1 when few of the `size` possible ones occur (so per-group
    arrays stay as small as the rows that use them)."""
    if len(groups) * 4 >= size:
        return groups, size
    distinct, local = np.unique(groups, return_inverse=True)
    return local, len(distinct)


def by_group(groups: Any, values: Any) -> tuple[Any, Any]:
    """(each group present, the sum of its values), groups ascending."""
    if not len(groups):
        return groups, values
    top = int(groups.max())
    if top < 4 * len(groups) + 65_536:  # dense ids: sum in place, no sort
        counts = np.bincount(groups, minlength=top + 1)
        present = np.flatnonzero(counts)
        return present, group_sums(groups, values, top + 1)[present]
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    taken = values[order]
    if taken.dtype != object and not _bounded(taken, len(taken)):
        taken = taken.astype(object)
    return ordered[starts], np.add.reduceat(taken, starts)
