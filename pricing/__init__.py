"""Pricing and rating: pure functions over the published snapshot (rounding, increments,
zones, time bands, tiers, allowances, caps); no database access on the hot path.

The order one usage event goes through, fixed once for every engine and every preview:
zone (`zones`) -> split at band edges (`bands`) -> per part: increments (`increments`) ->
allowance on billed units (`allowances`) -> connection fee + usage (at the rate, or over the
period's `tiers`), then minimum, then maximum -> the declared rounding (`rounding`) -> the
period cap (`allowances.apply_cap`).
Amounts are exact (Decimal, or Fraction for non-terminating quotients) until the rounding.
"""
