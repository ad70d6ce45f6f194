"""What the usage reference interpreter (`dsl.eval_usage`) reads from the syntax tree.

Quantities in base units (milliseconds, bytes, messages or events), money amounts, the time
bands and zone table of a usage block, rate selection by specificity, and `when` conditions
with `event.*` names. Nothing here rounds or prices: that is `pricing`'s and `dsl.eval_usage`'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.check_common import Env as CheckEnv
from dsl.check_common import Reporter
from dsl.check_time import _band_rule, build_calendar
from dsl.context import CustomerFacts, SaleFacts
from dsl.diagnostics import Diagnostic
from dsl.errors import LanguageError
from dsl.runtime import EvalError
from dsl.symbols import CatalogNames, Scope
from pricing.bands import BandRule, TimeBands
from pricing.steps import selection
from pricing.zones import ZoneTable

__all__ = [
    "DEFAULT_TIME_ZONE",
    "EVENT_KEY",
    "Measure",
    "RatingError",
    "condition_holds",
    "money",
    "pattern_matches",
    "select_rate",
    "time_bands",
    "units",
    "usage_measure",
    "zone_table",
]

#: The time zone of a usage block without `time zone "…"`.
DEFAULT_TIME_ZONE = "Asia/Shanghai"

#: Event names are read through the interpreter as customer attributes under this prefix
#: (`event.roaming` -> attribute "\x00event.roaming"), a key no rule can spell.
EVENT_KEY = "\x00event."

Measure = str  # "duration" | "volume" | "count"


class RatingError(LanguageError):
    """The event cannot be rated; `code` is the rejection reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def units(expr: n.Expr | None) -> int:
    """A usage quantity in base units: ms for durations, bytes for data, a count otherwise."""
    if isinstance(expr, n.DurationLit):
        value = expr.milliseconds
    elif isinstance(expr, n.DataLit):
        value = expr.bytes
    elif isinstance(expr, n.CountLit):
        value = Decimal(expr.amount)
    else:
        raise RatingError("malformed-tariff", f"expected a usage quantity, got {expr!r}")
    if value != value.to_integral_value() or value < 0:
        raise RatingError("malformed-tariff", f"{value} is not a whole number of base units")
    return int(value)


def measure_of(expr: n.Expr) -> Measure:
    if isinstance(expr, n.DurationLit):
        return "duration"
    if isinstance(expr, n.DataLit):
        return "volume"
    return "count"


def usage_measure(usage: n.Usage) -> Measure | None:
    """The measure a usage block prices in (from its first rate or tier), None if unknown."""
    for rate in usage.rates:  # bounded by the block
        return measure_of(rate.per)
    if usage.tiers is not None and usage.tiers.tiers:
        return measure_of(usage.tiers.tiers[0].per)
    return None


def money(expr: n.Expr | None, currency: str) -> Decimal:
    """A money literal's amount (its currency, when written, must be the plan's)."""
    if isinstance(expr, n.MoneyLit):
        if expr.currency and currency and expr.currency != currency:
            raise RatingError(
                "malformed-tariff", f"{expr.amount} {expr.currency} in a {currency} plan"
            )
        return expr.amount
    if isinstance(expr, n.DecimalLit | n.IntLit):
        return Decimal(expr.value)
    raise RatingError("malformed-tariff", f"expected an amount of money, got {expr!r}")


pattern_matches = selection.matches
specificity = selection.specificity


# -- zones and bands -------------------------------------------------------------------------


def zone_table(name: str, scope: Scope, zone_tables: Mapping[str, ZoneTable]) -> ZoneTable:
    """A catalog zone table by name, else the scope's inline `zones` declaration."""
    table = zone_tables.get(name)
    if table is not None:
        return table
    decl = scope.zones.get(name)
    if decl is None:
        raise RatingError("unknown-zones", f"no zone table or zones declaration `{name}`")
    return _inline_table(decl)


@lru_cache(maxsize=64)
def _inline_table(decl: n.ZonesDecl) -> ZoneTable:
    try:
        return ZoneTable((entry.prefix, entry.zone) for entry in decl.entries)
    except ValueError as error:
        raise RatingError("malformed-tariff", f"zones `{decl.name}`: {error}") from error


def time_bands(usage: n.Usage, scope: Scope) -> TimeBands:
    """The block's bands in its time zone (default `DEFAULT_TIME_ZONE`), built as the checker
    builds them (`dsl.check_time`)."""
    decl = scope.bands.get(usage.bands)
    if decl is None:
        raise RatingError("unknown-bands", f"no bands declaration `{usage.bands}`")
    calendar_decl: n.CalendarDecl | None = None
    if decl.calendar:
        calendar_decl = scope.calendars.get(decl.calendar)
        if calendar_decl is None:
            raise RatingError("unknown-calendar", f"no calendar `{decl.calendar}`")
    return _time_bands(decl, calendar_decl, usage.time_zone or DEFAULT_TIME_ZONE)


@lru_cache(maxsize=64)
def _time_bands(decl: n.BandsDecl, calendar_decl: n.CalendarDecl | None, tz: str) -> TimeBands:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise RatingError("malformed-tariff", f"unknown time zone {tz!r}") from error
    calendar = build_calendar(calendar_decl) if calendar_decl is not None else None
    if calendar_decl is not None and calendar is None:
        raise RatingError("malformed-tariff", f"calendar `{calendar_decl.name}` is invalid")
    sink: list[Diagnostic] = []
    env = CheckEnv(names=CatalogNames.empty(), scope=Scope(), report=Reporter("", sink))
    rules: list[BandRule] = []
    otherwise: str | None = None
    for band in decl.bands:  # bounded by the declaration
        if band.otherwise:
            otherwise = otherwise or band.name
            continue
        rule = _band_rule(band, env)
        if rule is not None:
            rules.append(rule)
    if sink:
        raise RatingError("malformed-tariff", f"bands `{decl.name}`: {sink[0].message}")
    try:
        return TimeBands(rules, tz=zone, calendar=calendar, otherwise=otherwise)
    except ValueError as error:
        raise RatingError("malformed-tariff", f"bands `{decl.name}`: {error}") from error


# -- conditions and rate selection -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventNames:
    """The values `event.*` names read: roaming, origin, destination and free attributes."""

    roaming: bool | None
    origin: str | None
    destination: str
    attributes: Mapping[str, Any]

    def values(self) -> dict[str, Any]:
        found: dict[str, Any] = {f"{EVENT_KEY}{k}": v for k, v in self.attributes.items()}
        found[f"{EVENT_KEY}roaming"] = self.roaming
        found[f"{EVENT_KEY}origin"] = self.origin
        found[f"{EVENT_KEY}destination"] = self.destination
        return found


def _rewrite(node: n.Node) -> n.Node:
    """`event.X` -> `customer.<EVENT_KEY>X`, so the interpreter reads it from the facts."""
    if isinstance(node, n.Name) and len(node.parts) == 2 and node.parts[0] == "event":
        return n.Name(parts=("customer", EVENT_KEY + node.parts[1]), span=node.span)
    changes: dict[str, object] = {}
    for f in dataclasses.fields(node):  # bounded: recursion follows the (finite) tree
        value = getattr(node, f.name)
        if isinstance(value, n.Node):
            changes[f.name] = _rewrite(value)
        elif isinstance(value, tuple) and any(isinstance(v, n.Node) for v in value):
            changes[f.name] = tuple(_rewrite(v) if isinstance(v, n.Node) else v for v in value)
    return dataclasses.replace(node, **changes) if changes else node  # type: ignore[arg-type]


@lru_cache(maxsize=1024)
def _rewritten(condition: n.Expr) -> n.Expr:
    result = _rewrite(condition)
    assert isinstance(result, n.Expr)
    return result


def event_facts(facts: SaleFacts | None, start: datetime, names: EventNames) -> SaleFacts:
    """The sale's facts (or bare ones at the event's start) with the event's names added."""
    if facts is None:
        origin = names.origin or ""
        facts = SaleFacts(
            customer=CustomerFacts(),
            area=origin,
            area_lineage=(origin,) if origin else (),
            channel="",
            time=start,
        )
    customer = facts.customer
    attributes = {**customer.attributes, **names.values()}
    return dataclasses.replace(facts, customer=dataclasses.replace(customer, attributes=attributes))


def condition_holds(condition: n.Expr | None, facts: SaleFacts, env: ip.Env) -> bool:
    """True only when the condition is true: unknown never qualifies."""
    if condition is None:
        return True
    try:
        value = ip.truth(ip.evaluate(_rewritten(condition), facts, env))
    except EvalError as error:
        raise RatingError("rule-error", f"`when` could not be evaluated: {error}") from error
    return value is True


def select_rate(
    usage: n.Usage, zone: str, band: str, facts: SaleFacts, env: ip.Env
) -> tuple[int, n.Rate] | None:
    """(index, rate) of the most specific rate matching zone, band and `when`
    (`pricing.steps.selection`), None when none does."""

    def holds(index: int) -> bool:
        return condition_holds(usage.rates[index].condition, facts, env)

    index = selection.reference(usage.rates, zone, band, holds)
    return None if index == selection.NO_RATE else (index, usage.rates[index])
