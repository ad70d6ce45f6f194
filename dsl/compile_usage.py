"""Compiled usage rating: one generated module per plan, agreeing with `dsl.eval_usage`.

`compile_usage(plan, scope, zone_tables)` gives a `CompiledUsage` covering every usage block
of the plan: `rate(event, counters)` returns exactly what `dsl.eval_usage.rate` returns (the
same `Rated`, rejections included), and `rate_many(events, counters)` rates one subscriber's
events in order, threading the counters, in a loop inside the generated code.

Three stages. `analyse` settles each block's terms once: every money amount of a block is a
finite decimal and every price is per a whole number of units, so with
`scale = 10**k * lcm(per units)` every charge is an exact integer number of 1/scale; terms the
interpreter refuses are marked None. `dsl.codegen_usage` writes the source from the settled
blocks; it depends only on the plan's usage blocks, currency, rounding and the declared
attribute types, so it is compiled once per content hash (`dsl.loader`).
Each compile then binds what the rule set resolves once: the zone table (a `ZoneFinder`),
the bands and calendar (a `BandFinder`), and per block a `RateSelector` whose static answers
- the rate of a (zone, band) no `when` decides - fill a dict the generated code reads first.
An event on a path the compiled code does not reproduce (`Deferred`: a term the interpreter
refuses, a `when` that raises or reads an ill-typed value) is rated by the interpreter, so
results never differ.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from threading import Lock
from typing import Any

from dsl import eval_usage, loader
from dsl import interpreter as ip
from dsl import nodes as n
from dsl.codegen_usage import usage_source
from dsl.compiler import canonical
from dsl.context import SaleFacts
from dsl.eval_usage import Counters, Rated, UsageEvent
from dsl.eval_usage_setup import money, time_bands, units, usage_measure, zone_table
from dsl.loader import Program
from dsl.runtime_usage import (
    BandFinder,
    Deferred,
    Lean,
    RateSelector,
    ZoneFinder,
    usage_namespace,
)
from dsl.symbols import Scope
from pricing.bands import TimeBands
from pricing.increments import apply_event_terms, billed_units, event_charge_exact, increments
from pricing.rounding import MAX_DECIMALS, RoundingMode
from pricing.steps.tiers import ScaledTier
from pricing.tiers import Tier, tier_problems
from pricing.zones import ZoneTable

__all__ = ["Block", "CompiledUsage", "RateTerms", "TierTerms", "analyse", "compile_usage"]


# -- settling the terms of a block -------------------------------------------------------------


def currency_of(plan: n.PlanDecl) -> str:
    """The plan's currency, "" when it declares none (as `dsl.eval_usage` reads it)."""
    return next((i.code for i in plan.items if isinstance(i, n.Currency)), "")


def usage_blocks(plan: n.PlanDecl) -> list[n.Usage]:
    """The plan's usage blocks that can rate anything: the first one of each business."""
    seen: dict[str, n.Usage] = {}
    for item in plan.items:  # bounded by the plan
        if isinstance(item, n.Usage):
            seen.setdefault(item.business, item)
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class RateTerms:
    """One rate, settled: increments in base units, money on the block's scale."""

    first: int
    next: int
    multiplier: int  # charge of one paid unit, on the block's scale (0 with tiers)
    connection: int
    minimum: int | None
    maximum: int | None


#: One tier, settled: bounds in base units ([low, high), high None = open), the charge of one
#: unit in it on the block's scale.
TierTerms = ScaledTier


@dataclass(frozen=True, slots=True)
class Block:
    """A usage block with its terms settled; None marks a term the interpreter refuses."""

    usage: n.Usage
    scale: int
    rates: tuple[RateTerms | None, ...]
    tiers: tuple[TierTerms, ...] | None
    allowances: tuple[int | None, ...]
    caps: tuple[Decimal | None, ...]
    rounding: n.Rounding | None
    rounding_ok: bool
    split: bool


@dataclass(frozen=True, slots=True)
class _Raw:
    first: int
    next: int
    price: Decimal
    per: int
    connection: Decimal
    minimum: Decimal | None
    maximum: Decimal | None


def _optional_money(expr: n.Expr | None, currency: str) -> Decimal | None:
    return None if expr is None else money(expr, currency)


def _raw_tiers(tiers: n.Tiers, currency: str) -> list[Tier] | None:
    """The tiers as `pricing.tiers` reads them, None when the interpreter would refuse them."""
    try:
        table = [
            Tier(
                units(t.low),
                None if t.high is None else units(t.high),
                money(t.price, currency),
                units(t.per),
            )
            for t in tiers.tiers
        ]
    except Exception:  # whatever the interpreter raises there, it raises again when deferred
        return None
    return None if tier_problems(table) else table


def _raw_rate(rate: n.Rate, currency: str, tiered: bool, tiers_ok: bool) -> _Raw | None:
    """What `eval_usage._rate_part` computes from the rate, in its order, None when any of
    it raises there (the event is then deferred to the interpreter)."""
    try:
        first = None if rate.first_increment is None else units(rate.first_increment)
        then = None if rate.next_increment is None else units(rate.next_increment)
        step_first, step_next = increments(first, then)
        billed_units(0, step_first, step_next)  # validates the steps
        connection = _optional_money(rate.connection, currency) or Decimal(0)
        minimum = _optional_money(rate.minimum, currency)
        maximum = _optional_money(rate.maximum, currency)
        price, per = money(rate.price, currency), units(rate.per)
        if per < 1 or not tiers_ok:
            return None
        if tiered:
            apply_event_terms(
                Fraction(0), 0, connection=connection, minimum=minimum, maximum=maximum
            )
        else:
            event_charge_exact(
                0, price, per, connection=connection, minimum=minimum, maximum=maximum
            )
        amounts = [price, connection, minimum, maximum]
        if not all(a is None or a.is_finite() for a in amounts):
            return None
    except Exception:  # as in _raw_tiers
        return None
    return _Raw(step_first, step_next, price, per, connection, minimum, maximum)


def _places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: checked by the callers
    return max(-exponent, 0)


def _scaled(amount: Decimal, factor: int) -> int:
    value = Fraction(amount) * factor
    assert value.denominator == 1, (amount, factor)
    return value.numerator


def _rounding(plan: n.PlanDecl, usage: n.Usage) -> n.Rounding | None:
    if usage.rounding is not None:
        return usage.rounding
    return next((i for i in plan.items if isinstance(i, n.Rounding)), None)


def _rounding_ok(rounding: n.Rounding | None) -> bool:
    if rounding is None:
        return True
    known = rounding.mode in {m.value for m in RoundingMode}
    return known and type(rounding.decimals) is int and 0 <= rounding.decimals <= MAX_DECIMALS


def _cap(cap: n.Cap, currency: str) -> Decimal | None:
    try:
        amount = money(cap.amount, currency)
    except Exception:  # as in _raw_tiers
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _allowance(allowance: n.Allowance) -> int | None:
    try:
        return units(allowance.amount)
    except Exception:  # as in _raw_tiers
        return None


def analyse(plan: n.PlanDecl, usage: n.Usage) -> Block:
    """Settle a usage block's terms on one integer scale (module docstring)."""
    currency = currency_of(plan)
    tiers = None if usage.tiers is None else _raw_tiers(usage.tiers, currency)
    tiered = usage.tiers is not None
    raws = [_raw_rate(r, currency, tiered, not tiered or tiers is not None) for r in usage.rates]
    amounts = [
        a for r in raws if r is not None for a in (r.price, r.connection, r.minimum, r.maximum)
    ]
    amounts += [t.price for t in tiers or ()]
    pers = [r.per for r in raws if r is not None] + [t.per_units for t in tiers or ()]
    digits = max((_places(a) for a in amounts if a is not None), default=0)
    per_lcm = math.lcm(*pers) if pers else 1
    scale = 10**digits * per_lcm  # an amount of money A is the integer A * scale

    def per_unit(price: Decimal, per: int) -> int:
        return _scaled(price, 10**digits) * (per_lcm // per)  # price / per, on the scale

    def terms(raw: _Raw | None) -> RateTerms | None:
        if raw is None:
            return None
        return RateTerms(
            first=raw.first,
            next=raw.next,
            multiplier=0 if tiered else per_unit(raw.price, raw.per),
            connection=_scaled(raw.connection, scale),
            minimum=None if raw.minimum is None else _scaled(raw.minimum, scale),
            maximum=None if raw.maximum is None else _scaled(raw.maximum, scale),
        )

    tier_terms = None
    if tiers is not None:
        tier_terms = tuple(TierTerms(t.low, t.high, per_unit(t.price, t.per_units)) for t in tiers)
    rounding = _rounding(plan, usage)
    return Block(
        usage=usage,
        scale=scale,
        rates=tuple(terms(raw) for raw in raws),
        tiers=tier_terms,
        allowances=tuple(_allowance(a) for a in usage.allowances),
        caps=tuple(_cap(c, currency) for c in usage.caps),
        rounding=rounding,
        rounding_ok=_rounding_ok(rounding),
        split=bool(usage.bands) and usage.split and usage_measure(usage) == "duration",
    )


# -- compiled plans ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledUsage:
    """A plan's usage blocks, compiled. Counters are per period, as for the interpreter."""

    plan: n.PlanDecl
    program: Program
    blocks: tuple[Block, ...] = field(repr=False)
    _rate_one: Callable[..., tuple[Rated, dict[str, Any]]] = field(repr=False)
    _rate_many: Callable[..., list[Rated]] = field(repr=False)
    _interpret: Callable[..., Rated] = field(repr=False)
    #: `rate_lean(event, at, values, facts=None, env=DEFAULT_ENV)`: what `rate` decides, without
    #: its result objects, for callers needing only a few fields (Rate, rating files): a
    #: `dsl.runtime_usage.Lean` when the compiled code rates the event, else the `Rated`
    #: `rate` returns (a rejection, or the interpreter's answer for a deferred event).
    #: `at` is the event's start in whole milliseconds since the epoch (floored; None to
    #: work it out), `values` any mapping of the counters (a plain dict is the fastest); with
    #: the Lean come the new values, a dict nothing else holds.
    rate_lean: Callable[..., Lean | Rated] = field(repr=False)

    def rate(
        self,
        event: UsageEvent,
        counters: Counters,
        facts: SaleFacts | None = None,
        env: ip.Env = ip.DEFAULT_ENV,
    ) -> Rated:
        """What `dsl.eval_usage.rate(plan, event, counters, …)` returns."""
        try:
            return self._rate_one(event, counters, counters, facts, env)[0]
        except Deferred:
            return self._interpret(event, counters, facts, env)

    def rate_many(
        self,
        events: Sequence[UsageEvent],
        counters: Counters,
        facts: SaleFacts | None = None,
        env: ip.Env = ip.DEFAULT_ENV,
    ) -> list[Rated]:
        """One subscriber's events in order, each rated on the counters the previous one
        left (a rejected event leaves them): the same as calling `rate` in a loop. The last
        result's `counters` are the period's new counters."""
        return self._rate_many(events, counters, counters, facts, env)

    def span_for_line(self, line: int) -> n.Span | None:
        """The rule span a line of the generated source came from."""
        return self.program.line_spans.get(line)


def _defer(*_: object) -> Any:
    raise Deferred


def _bind_block(
    block: Block,
    index: int,
    namespace: Mapping[str, Any],
    scope: Scope,
    tables: Mapping[str, ZoneTable],
) -> dict[str, object]:
    """The objects block `index` reads: its rate spans and selector, its zone table and
    bands resolved once (or `_defer` when the interpreter would refuse them)."""
    usage = block.usage
    static: dict[tuple[str, str], int] = {}
    tests = zip(namespace[f"WHEN_{index}"], namespace[f"WHEN_FACTS_{index}"], strict=True)
    bound: dict[str, object] = {
        f"SPANS_{index}": tuple(rate.span for rate in usage.rates),
        f"STATIC_{index}": static,
        f"PICK_{index}": RateSelector(usage, list(tests), static).pick,
    }
    if usage.zones:
        bound[f"ZMEMO_{index}"] = {}  # never filled: every lookup calls ZONE_I
        try:
            finder = shared_zone_finder(zone_table(usage.zones, scope, tables), usage.zones)
        except Exception:  # unknown or malformed table: the interpreter rejects each event
            bound[f"ZONE_{index}"] = _defer
        else:
            bound[f"ZONE_{index}"], bound[f"ZMEMO_{index}"] = finder, finder.memo
    if usage.bands:
        try:
            bands = shared_band_finder(time_bands(usage, scope))
        except Exception:  # as for zones
            bound[f"BAND_{index}"] = bound[f"BAND_MS_{index}"] = bound[f"SPLIT_{index}"] = _defer
        else:
            bound[f"BAND_{index}"], bound[f"SPLIT_{index}"] = bands.band_at, bands.split
            bound[f"BAND_MS_{index}"] = bands.band_at_ms
    return bound


_SHARED = 64  # distinct zone tables / band settings remembered across compiles
_ZONE_FINDERS: OrderedDict[tuple[int, str], tuple[ZoneTable, ZoneFinder]] = OrderedDict()
_BAND_FINDERS: OrderedDict[int, tuple[TimeBands, BandFinder]] = OrderedDict()
_SHARED_LOCK = Lock()


def shared_zone_finder(table: ZoneTable, name: str) -> ZoneFinder:
    """One finder (and one memo) per zone table, whatever the number of plans and blocks
    using it: a memo per block grew with plans x destinations (measured ~170 MB after 1M
    events over a 1,000-offer catalog)."""
    key = (id(table), name)
    with _SHARED_LOCK:
        found = _ZONE_FINDERS.get(key)
        if found is None or found[0] is not table:
            found = _ZONE_FINDERS[key] = (table, ZoneFinder(table, name))
            if len(_ZONE_FINDERS) > _SHARED:
                _ZONE_FINDERS.popitem(last=False)
        return found[1]


def shared_band_finder(bands: TimeBands) -> BandFinder:
    """One finder per band setting (bands, calendar, time zone), as for zone tables."""
    with _SHARED_LOCK:
        found = _BAND_FINDERS.get(id(bands))
        if found is None or found[0] is not bands:
            found = _BAND_FINDERS[id(bands)] = (bands, BandFinder(bands))
            if len(_BAND_FINDERS) > _SHARED:
                _BAND_FINDERS.popitem(last=False)
        return found[1]


def compile_usage(
    plan: n.PlanDecl,
    scope: Scope,
    zone_tables: Mapping[str, ZoneTable],
    path: str = "<rules>",
    unit: str = "",
) -> CompiledUsage:
    """Compile every usage block of `plan` (one object per plan: a subscriber's batch mixes
    businesses). Zone tables, bands and calendars are resolved now; a tariff the interpreter
    refuses compiles too, and its events are rated by the interpreter. `unit`, when given,
    names `plan` exactly (its module's parse key and its place there) and spares the
    canonical text of its tree in the cache key. Raises CompileError only for a generated
    module Python cannot compile (a bug)."""
    attributes = {name: decl.type for name, decl in sorted(scope.attributes.items())}
    if unit:
        tree = f"unit {unit}"
    else:
        items = tuple(i for i in plan.items if isinstance(i, n.Usage | n.Currency | n.Rounding))
        tree = canonical(items)
    key = f"usage|{path}|{plan.name}|{sorted(attributes.items())}|{tree}"
    blocks = tuple(analyse(plan, usage) for usage in usage_blocks(plan))

    def build() -> tuple[str, dict[int, n.Span]]:
        header = f"usage of plan {plan.name} in {path}"
        return usage_source(plan, blocks, currency_of(plan), attributes, header)

    program = loader.build_program(key, f"<usage {path} {plan.name}>", build)
    namespace: dict[str, Any] = loader.load(program, usage_namespace({}))

    def interpret(
        event: UsageEvent, counters: Counters, facts: SaleFacts | None, env: ip.Env
    ) -> Rated:
        return eval_usage.rate(plan, event, counters, scope, zone_tables, facts, env=env)

    namespace["INTERPRET"] = interpret
    for index, block in enumerate(blocks):
        namespace.update(_bind_block(block, index, namespace, scope, zone_tables))
    return CompiledUsage(
        plan,
        program,
        blocks,
        namespace["rate_one"],
        namespace["rate_many"],
        interpret,
        namespace["lean_one"],
    )
