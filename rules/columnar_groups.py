"""Counters over a batch without a per-row loop: the running totals per subscriber period
live with the rating steps' vector forms (`pricing.steps.groups`); re-exported here for
the readers of rated columns (tariff.rate_columns)."""

from __future__ import annotations

from pricing.steps.allowances import vector as consumed
from pricing.steps.caps import vector as capped
from pricing.steps.groups import by_group, compact, group_sums, running_before

__all__ = ["by_group", "capped", "compact", "consumed", "group_sums", "running_before"]
