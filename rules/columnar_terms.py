"""A usage block's terms laid out as arrays for the columnar rater.

Built from what `dsl.compile_usage.analyse` settled (the same integer money scale, the same
increments and tiers), so the two engines cannot read a tariff differently. A block the
arrays cannot express exactly is marked `vector=False` and its events are rated by the
per-event engine: a term the interpreter refuses (it rejects each event with its message), a
rounding it cannot apply, a zone table or bands it cannot resolve, allowances or caps whose
amounts are not settled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dsl import nodes as n
from dsl.compile_usage import Block, RateTerms, TierTerms
from dsl.eval_usage import allowance_applies
from dsl.eval_usage_setup import time_bands, units, zone_table
from dsl.symbols import Scope
from pricing.bands import TimeBands
from pricing.rounding import RoundingMode
from pricing.steps import selection
from pricing.zones import ZoneTable

__all__ = [
    "CONDITIONAL",
    "NO_RATE",
    "AllowanceTerms",
    "VectorBlock",
    "allowance_grid",
    "select_table",
    "vector_block",
]

NO_RATE = selection.NO_RATE
CONDITIONAL = selection.CONDITIONAL  # a `when` must be evaluated: the per-event engine rates it


@dataclass(frozen=True, slots=True)
class AllowanceTerms:
    name: str
    amount: int
    allowance: n.Allowance

    def applies(self, zone: str, band: str) -> bool:
        return allowance_applies(self.allowance, zone, band)


@dataclass(frozen=True, slots=True)
class VectorBlock:
    """One usage block of one plan, ready for arrays."""

    plan: str
    business: str
    vector: bool
    currency: str = ""
    scale: int = 1
    zones_name: str = ""
    zones: ZoneTable | None = None
    bands: TimeBands | None = None
    split: bool = False
    rates: tuple[RateTerms, ...] = ()
    rate_names: tuple[str, ...] = ()
    tiers: tuple[TierTerms, ...] | None = None
    graduated: bool = True
    allowances: tuple[AllowanceTerms, ...] = ()
    caps: tuple[Decimal, ...] = ()
    mode: RoundingMode | None = None  # None: no declared rounding
    decimals: int = 9
    usage: n.Usage | None = field(default=None, repr=False)
    memo: dict[object, Any] = field(default_factory=dict, repr=False, compare=False)

    def band_names(self) -> list[str]:
        return list(self.bands.names) if self.bands is not None else [""]

    def select(self, zone: str, band: str) -> int:
        """The rate where no `when` must be evaluated: its index, NO_RATE, or CONDITIONAL
        when a condition would decide (`pricing.steps.selection.static`)."""
        assert self.usage is not None
        return selection.static(selection.candidates(self.usage.rates, zone, band))


_BANDS: dict[object, TimeBands] = {}


def shared_bands(bands: TimeBands) -> TimeBands:
    """One TimeBands per distinct setting (segments per day type, calendar, time zone):
    generated catalogs declare the same bands in every plan's file, and each block holding
    its own copy cost ~20 KB and a band-run table per batch."""
    segments = sorted(
        (day, tuple(starts), tuple(ends), tuple(names))
        for day, (starts, ends, names) in bands._segments.items()
    )
    key: object = (tuple(segments), bands.calendar, str(bands.tz))
    found = _BANDS.get(key)
    if found is None:
        if len(_BANDS) >= 256:
            _BANDS.clear()
        found = _BANDS[key] = bands
    return found


def select_table(block: VectorBlock, zones: list[str]) -> Any:
    """The rate of every (zone, band) of the block, flat (zone-major), worked out once."""
    import numpy as np

    found = block.memo.get("select")
    if found is None:
        bands = block.band_names()
        found = block.memo["select"] = np.array(
            [block.select(zone, band) for zone in zones for band in bands], dtype=np.int64
        )
    return found


def allowance_grid(block: VectorBlock, slot: int, zones: list[str]) -> Any:
    """Whether the block's `slot`-th allowance covers each (zone, band), flat, once."""
    import numpy as np

    found = block.memo.get(("allowance", slot))
    if found is None:
        terms, bands = block.allowances[slot], block.band_names()
        found = block.memo[("allowance", slot)] = np.array(
            [terms.applies(zone, band) for zone in zones for band in bands], dtype=np.bool_
        )
    return found


def _allowance(allowance: n.Allowance) -> AllowanceTerms | None:
    try:
        amount = units(allowance.amount)
    except Exception:  # the interpreter rejects its events: leave them to it
        return None
    return AllowanceTerms(allowance.name, amount, allowance)


def vector_block(
    plan: n.PlanDecl,
    block: Block,
    scope: Scope,
    tables: dict[str, ZoneTable],
    currency: str,
) -> VectorBlock:
    """The block's arrays, or `vector=False` when any term would need the interpreter."""
    usage = block.usage
    plain = VectorBlock(plan.name, usage.business, vector=False)
    rates = tuple(r for r in block.rates if r is not None)
    allowances = tuple(_allowance(a) for a in usage.allowances)
    caps = tuple(c for c in block.caps if c is not None)
    if (
        len(rates) != len(block.rates)
        or not block.rounding_ok
        or (usage.tiers is not None and block.tiers is None)
        or any(a is None for a in allowances)
        or len(caps) != len(block.caps)
        or any(c.as_tuple().exponent < -18 for c in caps)  # type: ignore[operator]
    ):
        return plain
    try:
        zones = zone_table(usage.zones, scope, tables) if usage.zones else None
        bands = time_bands(usage, scope) if usage.bands else None
    except Exception:  # unknown or malformed: the interpreter rejects each event
        return plain
    rounding = block.rounding
    if bands is not None:
        bands = shared_bands(bands)
    return VectorBlock(
        plan=plan.name,
        business=usage.business,
        vector=True,
        currency=currency,
        scale=block.scale,
        zones_name=usage.zones or "",
        zones=zones,
        bands=bands,
        split=block.split,
        rates=rates,
        rate_names=tuple(
            f"{plan.name}.{usage.business}.rate[{i + 1}]" for i in range(len(usage.rates))
        ),
        tiers=block.tiers,
        graduated=usage.tiers is None or usage.tiers.mode == "graduated",
        allowances=tuple(a for a in allowances if a is not None),
        caps=caps,
        mode=None if rounding is None else RoundingMode(rounding.mode),
        decimals=9 if rounding is None else int(rounding.decimals),
        usage=usage,
    )
