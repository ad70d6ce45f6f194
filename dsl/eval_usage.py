"""The reference interpreter of usage rating: the executable spec every rating engine (the
per-event compiled one and the columnar one) must agree with, event for event.

`rate(plan, event, counters, scope, zone_tables)` rates one event of one subscriber's period
and returns the new counters (it never mutates). The order is docs/dsl.md's and `pricing`'s:

zone (longest prefix) -> split at band edges -> for each part: select the rate -> increments
-> allowances (in source order, consuming *billed* units) -> connection fee + usage charge
(from the rate, or from the tiers on the period's tier counter), minimum, maximum (a part
whose billed units are all free, or that bills nothing, pays nothing) -> the event's total
-> the declared rounding -> the caps (in source order).

Decisions the language leaves to the engines:

- Time bands are read in the block's `time zone`, default "Asia/Shanghai".
- With `split at band edges`, every part is rated like an event of its own: its rate, its
  increments, allowances, connection fee, minimum and maximum (pricing.bands merges parts of
  the same band, so increments are applied once per band stretch). Without `split`, the
  whole event is in the band of its start. Only durations are split.
- A destination matching no prefix of the block's zone table is rejected (`no-zone`); a
  block without `zones` has zone "" and only `*` zone patterns match it.
- Tier counters hold the period's *paid* units (after allowances): included usage does not
  move a subscriber up the tiers.
- Rounding: the block's `rounding`, else the plan's, applies to the event's total. For
  `per line` and `per total` a single event is its own line, so `charge` is rounded the same
  way; `exact` is the unrounded amount a bill summing lines or totals should add up and round
  itself. Without any declared rounding the charge is exact when it terminates within 9
  decimals, else rounded half-even to 9 decimals (the wire's precision, google.type.Money).
- Caps see the rounded charge. A cap counter holds the period's *uncapped* total, so what is
  paid under the cap is `pricing.allowances.cap_delta` - credits (volume tiers re-pricing
  down) work too, and what was paid is min(counter, cap).
- Counters are per period: the caller starts a new `Counters()` when a period starts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.context import EMPTY, SaleFacts
from dsl.eval_usage_setup import (
    EventNames,
    RatingError,
    event_facts,
    money,
    pattern_matches,
    select_rate,
    time_bands,
    units,
    usage_measure,
    zone_table,
)
from dsl.symbols import Scope
from pricing.bands import BandPart
from pricing.increments import charge_exact, increments
from pricing.rounding import RoundingMode
from pricing.steps import allowances, caps, terms
from pricing.steps import increments as steps_increments
from pricing.steps import rounding as steps_rounding
from pricing.steps import tiers as steps_tiers
from pricing.tiers import Tier
from pricing.zones import ZoneTable

__all__ = [
    "Counters",
    "Rated",
    "RatedPart",
    "UsageEvent",
    "allowance_applies",
    "allowance_key",
    "cap_key",
    "rate",
    "tier_key",
]

Number = int | Decimal


def allowance_key(name: str) -> str:
    return f"allowance:{name}"


def tier_key(business: str) -> str:
    return f"tier:{business}"


def cap_key(business: str, index: int) -> str:
    """The cap counter of the `index`-th (1-based) cap of a usage block."""
    return f"cap:{business}[{index}]"


class Counters(Mapping[str, Number]):
    """One subscriber's period: units used per allowance (`allowance:NAME`), paid units per
    tiered usage block (`tier:BUSINESS`), the uncapped money total per cap
    (`cap:BUSINESS[N]`). Immutable; missing counters are 0."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, Number] | None = None) -> None:
        self._values: Mapping[str, Number] = MappingProxyType(dict(values or {}))

    def __getitem__(self, key: str) -> Number:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Counters({dict(self._values)!r})"

    def units(self, key: str) -> int:
        value = self._values.get(key, 0)
        return int(value)

    def amount(self, key: str) -> Decimal:
        return Decimal(self._values.get(key, 0))

    def updated(self, changes: Mapping[str, Number]) -> Counters:
        return Counters({**self._values, **changes})


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One usage record. `quantity` is in the business's measure: milliseconds for durations,
    bytes for data, a count of messages or events. `start` must be tz-aware."""

    business: str
    start: datetime
    quantity: int
    destination: str = ""
    origin: str | None = None  # the area the event started in (`event.origin`)
    roaming: bool | None = None
    attributes: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class RatedPart:
    """One band part of an event (the whole event when it is not split)."""

    band: str
    start: datetime
    used: int
    billed: int
    free: int
    paid: int
    charge: Fraction  # exact, before rounding and caps
    rate: str
    span: n.Span


@dataclass(frozen=True, slots=True)
class Rated:
    status: Literal["rated", "rejected"]
    counters: Counters  # the new counters (unchanged when rejected)
    reason: str = ""  # rejection code: unknown-business, no-zone, no-rate, malformed, …
    message: str = ""
    charge: Decimal = Decimal(0)  # rounded as declared, after caps
    exact: Fraction = Fraction(0)  # before rounding and caps
    currency: str = ""
    zone: str = ""
    band: str = ""  # the band of the event's start
    billed: int = 0
    allowance_used: Mapping[str, int] = field(default_factory=lambda: EMPTY)
    rate: str = ""  # the rule that priced the first part, `plan.business.rate[N]`
    rate_span: n.Span = n.NOWHERE
    parts: tuple[RatedPart, ...] = ()


def rate(
    plan: n.PlanDecl,
    event: UsageEvent,
    counters: Counters,
    scope: Scope,
    zone_tables: Mapping[str, ZoneTable],
    facts: SaleFacts | None = None,
    *,
    env: ip.Env = ip.DEFAULT_ENV,
) -> Rated:
    """Rate one event under `plan` (module docstring); rejected events leave the counters."""
    try:
        return _rate(plan, event, counters, scope, zone_tables, facts, env)
    except RatingError as error:
        return Rated("rejected", counters, error.code, error.message)


def _currency(plan: n.PlanDecl) -> str:
    return next((i.code for i in plan.items if isinstance(i, n.Currency)), "")


def _rounding(plan: n.PlanDecl, usage: n.Usage) -> n.Rounding | None:
    if usage.rounding is not None:
        return usage.rounding
    return next((i for i in plan.items if isinstance(i, n.Rounding)), None)


def _validate(event: UsageEvent) -> None:
    if event.start.tzinfo is None or event.start.utcoffset() is None:
        raise RatingError("malformed", "the event start needs a time zone")
    if isinstance(event.quantity, bool) or not isinstance(event.quantity, int):
        raise RatingError("malformed", f"quantity {event.quantity!r} is not a whole number")
    if event.quantity < 0:
        raise RatingError("malformed", f"negative quantity {event.quantity}")


def _rate(
    plan: n.PlanDecl,
    event: UsageEvent,
    counters: Counters,
    scope: Scope,
    zone_tables: Mapping[str, ZoneTable],
    facts: SaleFacts | None,
    env: ip.Env,
) -> Rated:
    _validate(event)
    usage = next(
        (i for i in plan.items if isinstance(i, n.Usage) and i.business == event.business), None
    )
    if usage is None:
        raise RatingError("unknown-business", f"plan `{plan.name}` does not rate {event.business}")
    currency = _currency(plan)
    zone = ""
    if usage.zones:
        table = zone_table(usage.zones, scope, zone_tables)
        try:
            found = table.lookup(event.destination)
        except ValueError as error:
            raise RatingError("malformed", str(error)) from error
        if found is None:
            raise RatingError("no-zone", f"no zone of `{usage.zones}` for {event.destination!r}")
        zone = found
    parts = _band_parts(usage, event, scope)
    names = EventNames(event.roaming, event.origin, event.destination, event.attributes)
    sale = event_facts(facts, event.start, names)
    state = dict(counters)
    rated: list[RatedPart] = []
    used: dict[str, int] = {}
    for part in parts:  # bounded: pricing.bands.MAX_PARTS
        rated.append(_rate_part(plan, usage, zone, part, sale, env, currency, state, used))
    exact = sum((p.charge for p in rated), Fraction(0))
    charge = _round(exact, _rounding(plan, usage))
    for index, cap in enumerate(usage.caps, start=1):  # bounded by the block
        key = cap_key(usage.business, index)
        before = Decimal(state.get(key, 0))
        try:
            charge, after = caps.reference(before, charge, money(cap.amount, currency))
        except ValueError as error:  # a negative cap
            where = f"cap {index} of {usage.business}"
            raise RatingError("malformed-tariff", f"{where}: {error}") from error
        state[key] = after
    first = rated[0]
    return Rated(
        "rated",
        Counters(state),
        charge=charge,
        exact=exact,
        currency=currency,
        zone=zone,
        band=first.band,
        billed=sum(p.billed for p in rated),
        allowance_used=MappingProxyType(used),
        rate=first.rate,
        rate_span=first.span,
        parts=tuple(rated),
    )


def _band_parts(usage: n.Usage, event: UsageEvent, scope: Scope) -> list[BandPart]:
    if not usage.bands:
        return [BandPart("", event.start, event.quantity)]
    bands = time_bands(usage, scope)
    try:
        if usage.split and usage_measure(usage) == "duration":
            return bands.split(event.start, event.quantity)
        return [BandPart(bands.band_at(event.start), event.start, event.quantity)]
    except ValueError as error:
        raise RatingError("malformed", str(error)) from error


def _rate_part(
    plan: n.PlanDecl,
    usage: n.Usage,
    zone: str,
    part: BandPart,
    sale: SaleFacts,
    env: ip.Env,
    currency: str,
    state: dict[str, Number],
    used: dict[str, int],
) -> RatedPart:
    """Increments, allowances, then fee + usage, minimum and maximum; updates `state` and
    `used` in place (they are this call's own copies)."""
    chosen = select_rate(usage, zone, part.band, sale, env)
    if chosen is None:
        where = f"zone {zone or '-'}, band {part.band or '-'}"
        raise RatingError("no-rate", f"no rate of {usage.business} for {where}")
    index, rule = chosen
    first = None if rule.first_increment is None else units(rule.first_increment)
    then = None if rule.next_increment is None else units(rule.next_increment)
    try:
        step_first, step_next = increments(first, then)
        billed = steps_increments.reference(part.duration_ms, step_first, step_next)
    except ValueError as error:  # a zero increment (the checker's `bad-rate`)
        where = f"rate {index + 1} of {usage.business}"
        raise RatingError("malformed-tariff", f"the increments of {where}: {error}") from error
    paid = billed
    for allowance in usage.allowances:  # bounded by the block; source order
        if not allowance_applies(allowance, zone, part.band):
            continue
        key = allowance_key(allowance.name)
        before = int(state.get(key, 0))
        free, paid = allowances.reference(units(allowance.amount), before, paid)
        if free:
            state[key] = before + free
            used[allowance.name] = used.get(allowance.name, 0) + free
    connection = money(rule.connection, currency) if rule.connection is not None else Decimal(0)
    minimum = money(rule.minimum, currency) if rule.minimum is not None else None
    maximum = money(rule.maximum, currency) if rule.maximum is not None else None
    price, per = money(rule.price, currency), units(rule.per)
    if per < 1:
        raise RatingError("malformed-tariff", "a rate is priced per zero units")
    try:
        if usage.tiers is None:
            charge = charge_exact(paid, price, per)
        else:
            charge = _tiered(usage, usage.tiers, paid, state, currency)
        amount = terms.reference(charge, paid, connection, minimum, maximum)
    except ValueError as error:
        raise RatingError("malformed-tariff", str(error)) from error
    return RatedPart(
        band=part.band,
        start=part.start,
        used=part.duration_ms,
        billed=billed,
        free=billed - paid,
        paid=paid,
        charge=amount,
        rate=f"{plan.name}.{usage.business}.rate[{index + 1}]",
        span=rule.span,
    )


def allowance_applies(allowance: n.Allowance, zone: str, band: str) -> bool:
    zones_ok = not allowance.zones or any(pattern_matches(p, zone) for p in allowance.zones)
    bands_ok = not allowance.bands or any(pattern_matches(p, band) for p in allowance.bands)
    return zones_ok and bands_ok


def _tiered(
    usage: n.Usage, tiers: n.Tiers, paid: int, state: dict[str, Number], currency: str
) -> Fraction:
    """The usage charge from the tiers on the period's tier counter (moved on by `paid`)."""
    table = [
        Tier(
            units(t.low),
            None if t.high is None else units(t.high),
            money(t.price, currency),
            units(t.per),
        )
        for t in tiers.tiers
    ]
    key = tier_key(usage.business)
    before = int(state.get(key, 0))
    charge = steps_tiers.reference(tiers.mode == "graduated", before, paid, table)
    state[key] = before + paid
    return charge


def _round(exact: Fraction, rounding: n.Rounding | None) -> Decimal:
    if rounding is None:
        return steps_rounding.reference(exact, None, 0)
    return steps_rounding.reference(exact, RoundingMode(rounding.mode), rounding.decimals)
