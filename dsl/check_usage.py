"""Checking `usage BUSINESS { … }` blocks of a plan: rates, tiers, allowances and caps."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dsl import types as t
from dsl.check_common import Env, ExprContext, did_you_mean
from dsl.check_exprs import check_condition, check_value
from dsl.check_plans import check_rounding
from dsl.nodes import (
    CountLit,
    DataLit,
    DecimalLit,
    DurationLit,
    Expr,
    IntLit,
    MoneyLit,
    Neg,
    Pattern,
    PlanDecl,
    Quantity,
    Rate,
    Tiers,
    Usage,
)
from dsl.types import Type
from pricing.tiers import Tier, tier_problems

__all__ = ["check_usage", "measure_type", "usage_units"]

_MEASURES: dict[str, Type] = {"duration": t.DURATION, "volume": t.DATA, "count": t.COUNT}


def measure_type(business: str, env: Env) -> Type:
    """The quantity type a business is rated in (UNKNOWN when not known or not rated)."""
    return _MEASURES.get(env.names.businesses.get(business, ""), t.UNKNOWN)


def usage_units(expr: Expr | Quantity | None) -> int | None:
    """A quantity literal in base units (ms, bytes, events), None when not one or inexact."""
    value = expr.value if isinstance(expr, Quantity) else expr
    amount: Decimal
    if isinstance(value, DurationLit):
        amount = value.milliseconds
    elif isinstance(value, DataLit):
        amount = value.bytes
    elif isinstance(value, CountLit):
        amount = Decimal(value.amount)
    else:
        return None
    return int(amount) if amount == amount.to_integral_value() else None


def _value(expr: Expr | Quantity) -> Expr:
    return expr.value if isinstance(expr, Quantity) else expr


def check_usage(usage: Usage, plan: PlanDecl, env: Env, ctx: ExprContext) -> None:
    ctx = dataclasses.replace(ctx, usage=True)
    measure = _check_business(usage, env)
    zones = _zone_names(usage, env)
    bands = _band_names(usage, env)
    if usage.time_zone:
        try:
            ZoneInfo(usage.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            env.report.error(
                "unknown-time-zone",
                usage.span,
                f"unknown time zone `{usage.time_zone}`",
                "an IANA name such as `Asia/Shanghai`",
            )
    money = [t.money(ctx.currency)]
    seen: dict[tuple[str, str], int] = {}
    for rate in usage.rates:
        _check_pattern(rate.zone, zones, "zone", usage.zones, env)
        _check_pattern(rate.band, bands, "band", usage.bands, env)
        if rate.condition is None:
            key = (rate.zone.text, rate.band.text)
            if key in seen:
                env.report.error(
                    "duplicate-rate",
                    rate.span,
                    f"rate `{key[0]} {key[1]}` is already given on line {seen[key]}: "
                    "both would match the same usage",
                    "remove one, or add a `when` condition",
                )
            seen.setdefault(key, rate.span.line)
        check_value(rate.price, money, env, ctx, "a rate's price")
        _quantity(rate.per, measure, env, ctx, "the priced unit")
        for increment in (rate.first_increment, rate.next_increment):
            if increment is not None:
                _quantity(increment, measure, env, ctx, "an increment")
        _check_rate_units(rate, env)
        _check_rate_amounts(rate, money, env, ctx)
        if rate.condition is not None:
            check_condition(rate.condition, env, ctx)
    if usage.tiers is not None:
        _check_tiers(usage.tiers, measure, env, ctx)
    for allowance in usage.allowances:
        _quantity(allowance.amount, measure, env, ctx, "an allowance")
        for pattern in allowance.zones:
            _check_pattern(pattern, zones, "zone", usage.zones, env)
        for pattern in allowance.bands:
            _check_pattern(pattern, bands, "band", usage.bands, env)
    for cap in usage.caps:
        check_value(cap.amount, money, env, ctx, "a usage cap")
    if usage.rounding is not None:
        check_rounding(usage.rounding, env)


def _check_business(usage: Usage, env: Env) -> Type:
    known = env.names.businesses.get(usage.business)
    if known is None:
        env.report.error(
            "unknown-business",
            usage.span,
            f"unknown business `{usage.business}`",
            did_you_mean(usage.business, env.names.businesses),
        )
    elif known == "none":
        env.report.error(
            "not-rated",
            usage.span,
            f"business `{usage.business}` has no usage to rate (its usage measure is none)",
        )
    return measure_type(usage.business, env)


def _zone_names(usage: Usage, env: Env) -> frozenset[str] | None:
    """The zones rates may name; None when the table is unknown (already reported)."""
    if not usage.zones:
        return frozenset()
    if usage.zones in env.names.zone_tables:
        return env.names.zone_tables[usage.zones]
    inline = env.scope.zones.get(usage.zones)
    if inline is not None:
        return frozenset(entry.zone for entry in inline.entries)
    env.report.error(
        "unknown-zone",
        usage.span,
        f"unknown zone table `{usage.zones}`",
        did_you_mean(usage.zones, [*env.names.zone_tables, *env.scope.zones]),
    )
    return None


def _band_names(usage: Usage, env: Env) -> frozenset[str] | None:
    if not usage.bands:
        return frozenset()
    decl = env.scope.bands.get(usage.bands)
    if decl is not None:
        return frozenset(b.name for b in decl.bands)
    env.report.error(
        "unknown-band",
        usage.span,
        f"unknown bands declaration `{usage.bands}`",
        did_you_mean(usage.bands, env.scope.bands),
    )
    return None


def _check_pattern(
    pattern: Pattern, known: Collection[str] | None, kind: str, source: str, env: Env
) -> None:
    if pattern.is_any or known is None:
        return
    if not source:
        env.report.error(
            f"unknown-{kind}",
            pattern.span,
            f"{kind} `{pattern.text}`, but this usage block declares no {kind}s",
            f"declare `{kind}s NAME` in the usage block, or write `*`",
        )
        return
    if pattern.is_prefix:
        stem = pattern.text[:-1]
        if not any(name.startswith(stem) for name in known):
            env.report.error(
                f"unknown-{kind}",
                pattern.span,
                f"no {kind} of `{source}` starts with `{stem}`",
            )
    elif pattern.text not in known:
        env.report.error(
            f"unknown-{kind}",
            pattern.span,
            f"`{source}` has no {kind} `{pattern.text}`",
            did_you_mean(pattern.text, known),
        )


def _quantity(expr: Expr | Quantity, measure: Type, env: Env, ctx: ExprContext, what: str) -> None:
    allowed = [t.DURATION, t.DATA, t.COUNT] if measure.is_unknown else [measure]
    check_value(_value(expr), allowed, env, ctx, what)


_QUANTITIES = (DurationLit, DataLit, CountLit)

_INCREMENT_HINT = (
    "usage is rounded up to the first increment, then to multiples of the next "
    "(`increments 60s then 6s`); leave `increments` out to bill usage as used"
)


def _check_rate_units(rate: Rate, env: Env) -> None:
    """`bad-rate`: a price per zero units, an increment that is not positive. `increments 0s
    then 6s` is fine (blocks of 6 s from the start); a lone `increments 0s` is not."""
    per = _value(rate.per)
    if isinstance(per, _QUANTITIES) and per.amount <= 0:
        env.report.error(
            "bad-rate",
            per.span,
            f"a rate priced per {_shown(per)}: a price needs a positive number of units",
            "e.g. `per minute`, `per 30 s`, `per MB`, `per message`",
        )
    first = None if rate.first_increment is None else _value(rate.first_increment)
    then = None if rate.next_increment is None else _value(rate.next_increment)
    for increment, which, zero_ok in ((first, "first", then is not None), (then, "next", False)):
        if not isinstance(increment, _QUANTITIES):
            continue
        if increment.amount < 0 or (increment.amount == 0 and not zero_ok):
            env.report.error(
                "bad-rate",
                increment.span,
                f"a {which} increment of {_shown(increment)}: increments must be positive",
                _INCREMENT_HINT,
            )


def _check_rate_amounts(rate: Rate, money: list[Type], env: Env, ctx: ExprContext) -> None:
    """Type the connection fee, minimum and maximum; `bad-rate` for a negative one and for a
    minimum above the maximum (both literal, so comparable)."""
    known: dict[str, Decimal] = {}
    for what, amount in (
        ("connection fee", rate.connection),
        ("minimum", rate.minimum),
        ("maximum", rate.maximum),
    ):
        if amount is None:
            continue
        value = _literal_amount(amount)
        if value is not None and value < 0:
            env.report.error(
                "bad-rate",
                amount.span,
                f"a negative {what} of {value}: a rate's amounts cannot be below 0",
                f"write 0 or more, e.g. `{what.split()[0]} 0.05`",
            )
            if _bare_number(amount):
                continue  # money by position: not also a type mismatch
        found = check_value(amount, money, env, ctx, "a rate's amount")
        if value is not None and not found.is_unknown:
            known[what] = value
    low, high = known.get("minimum"), known.get("maximum")
    if low is not None and high is not None and low > high and rate.minimum is not None:
        env.report.error(
            "bad-rate",
            rate.minimum.span,
            f"minimum {low} is above maximum {high}",
            "a charge is raised to the minimum, then capped at the maximum: "
            "the minimum may not exceed the maximum",
        )


def _shown(quantity: DurationLit | DataLit | CountLit) -> str:
    return f"{quantity.amount} {quantity.unit}"


def _literal_amount(expr: Expr) -> Decimal | None:
    """A literal amount of money, negated ones included (`-0.05`, `-1 CNY`); None when
    the amount is computed."""
    if isinstance(expr, Neg):
        inner = _literal_amount(expr.operand)
        return None if inner is None else -inner
    if isinstance(expr, MoneyLit):
        return expr.amount
    if isinstance(expr, IntLit | DecimalLit):
        return Decimal(expr.value)
    return None


def _bare_number(expr: Expr) -> bool:
    """`-0.05`: a negated number without a currency (the builder only makes an unsigned
    number money)."""
    while isinstance(expr, Neg):
        expr = expr.operand
    return isinstance(expr, IntLit | DecimalLit)


_TIER_NUMBER = re.compile(r"tier (\d+)")


def _tier_code(message: str) -> str:
    if "gap" in message or "starts at" in message:
        return "tier-gap"
    if "overlaps" in message:
        return "tier-overlap"
    return "bad-tier"


def _check_tiers(block: Tiers, measure: Type, env: Env, ctx: ExprContext) -> None:
    money = [t.money(ctx.currency)]
    converted: list[Tier] = []
    for tier in block.tiers:
        _quantity(tier.low, measure, env, ctx, "a tier bound")
        if tier.high is not None:
            _quantity(tier.high, measure, env, ctx, "a tier bound")
        check_value(tier.price, money, env, ctx, "a tier's price")
        _quantity(tier.per, measure, env, ctx, "the priced unit")
        low, per = usage_units(tier.low), usage_units(tier.per)
        high = None if tier.high is None else usage_units(tier.high)
        price = tier.price.amount if isinstance(tier.price, MoneyLit) else Decimal(0)
        if low is None or per is None or (tier.high is not None and high is None):
            return  # not literal quantities (already reported): nothing to compare
        converted.append(Tier(low, high, price, per))
    for message in tier_problems(converted):
        numbers = [int(n) for n in _TIER_NUMBER.findall(message)]
        index = max(numbers) - 1 if numbers else len(block.tiers) - 1
        node = block.tiers[index] if 0 <= index < len(block.tiers) else block
        env.report.error(
            _tier_code(message),
            node.span,
            _in_units(message, measure),
            "tiers start at 0, each where the previous ends; only the last is open (`5 GB ..`)",
        )


_BASE_UNITS = {"duration": "milliseconds", "data": "bytes", "count": "events"}


def _in_units(message: str, measure: Type) -> str:
    """tier_problems speaks in base units; say which."""
    unit = _BASE_UNITS.get(measure.kind, "base units")
    return f"{message} (quantities in {unit})"
