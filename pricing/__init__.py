"""Pricing and rating: pure functions over the published snapshot (rounding, increments,
zones, time bands, tiers, allowances, caps); no database access on the hot path."""
