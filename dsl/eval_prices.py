"""The reference interpreter for price plans: the executable spec the quote engine must match.

The waterfall of one price, in this order:

1. List price. The plan's prices in source order; inside `option GROUP`, the prices of the
   cart line's choice for GROUP, else of the group's default. A price with `when COND` counts
   only when COND is true (unknown is not true).
2. Product stage: the line's own plan's `discount`, `waive` and `override` aimed at the price
   (by name or `*`), by ascending `priority`, then source order, each only when its `when` is
   true.
3. Bundle stage (a combo's member line only): the combo plan's `discount`, `waive`,
   `override` and `replaces` aimed at `OFFER.PRICE` (the first line of OFFER in the combo) or
   `each OFFER.PRICE` (every line of OFFER), same order. `replaces` sets the member's price to
   zero: the combo's own prices carry the cost.
4. Limits: `cap` / `floor` of the own plan and, for a member, of the combo plan aimed at the
   member; by priority, then the own plan's before the combo's, then source order.
5. Tax: with `tax R% included` the final amount includes tax (duty free = amount / (1 + R));
   with `excluded` it does not (tax included = amount * (1 + R)); without `tax`, R = 0.

A step never takes an amount below zero (nor further below zero) unless it says `credit`.
Percent discounts take the percentage of the amount reached so far. `for PERIOD` does not
change the amount: the alteration holds for the first period and is listed with its duration.

Rounding: only when the plan declares `rounding MODE D` and only at these places: each price's
`duty_free`, `tax_included` and `first_period` (each computed exactly from the unrounded final
amount, then rounded once); with `per total`, those stay exact and a line's three totals are
rounded instead. Nothing else is ever rounded (list, steps, final amounts are exact).

Timing: a one-time price is due now, even when it `starts next month` (a prepayment); its
start is the first instant of the next month in the time zone `tz` (default: that of
`facts.time`; plans declare no time zone). A recurring price starts now and is due every
period. `prorated` on a monthly price: the first period runs from the sale's day (included) to
the end of the month, so `proration` = remaining days / days in the month (an exact Fraction)
and `first_period` = tax included amount * proration. Other periods are not prorated.

Totals (tax included, what the customer pays): `due_now` sums one-time prices; `monthly` sums
recurring prices billed every single month, at their first full month (introductory
alterations included; quarterly or yearly prices are not monthly); `first_bill` sums the
first periods of all recurring prices. A quote's totals are the sums of its lines'.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from fractions import Fraction

from dsl import nodes as n
from dsl.context import ItemFacts, SaleFacts
from dsl.eval_prices_model import (
    ZERO,
    AppliedAlteration,
    AppliedKind,
    PricedLine,
    PricedPrice,
    PriceError,
    Quote,
    Stage,
    counted,
    exact_sum,
    money_value,
    month_timing,
    plan_currency,
    plan_rounding,
    plan_tax,
    quote_of,
    shown,
)
from dsl.interpreter import DEFAULT_ENV, Env, evaluate, truth
from pricing.rounding import RoundingMode, round_exact, to_decimal

__all__ = [
    "AppliedAlteration",
    "Membership",
    "PriceError",
    "PricedLine",
    "PricedPrice",
    "Quote",
    "active_prices",
    "price_line",
    "quote",
]


@dataclass(frozen=True, slots=True)
class Membership:
    """A member line's place in a combo: the combo's offer and plan (None when the combo has
    none), the combo's member counts, and this line's index among the combo's lines of the
    same offer (0 for the first: `OFFER.PRICE` without `each` aims at that one only)."""

    combo: str
    plan: n.PlanDecl | None
    counts: Mapping[str, int]
    index: int = 0


def active_prices(plan: n.PlanDecl, line: n.CartLine, facts: SaleFacts, env: Env) -> list[n.Price]:
    """The list prices of a line: option choices resolved, `when` conditions true."""
    chosen = dict(line.options)
    found: list[n.Price] = []
    for item in plan.items:
        if isinstance(item, n.Price):
            found.append(item)
        elif isinstance(item, n.OptionGroup):
            name = chosen.get(item.name, item.default)
            choice = next((c for c in item.choices if c.name == name), None)
            if choice is None:
                raise PriceError(f"`{name}` is not a choice of option `{item.name}`")
            found.extend(choice.prices)
    return [p for p in found if p.condition is None or _holds(p.condition, facts, env)]


def price_line(
    plan: n.PlanDecl,
    line: n.CartLine,
    facts: SaleFacts,
    *,
    member_of: Membership | None = None,
    tz: tzinfo | None = None,
    env: Env = DEFAULT_ENV,
) -> PricedLine:
    """One unit of `line` under `plan`. `facts.item` is set from the line here; `facts.bundle`
    is the caller's (the combo's counts for a combo line or a member). Raises PriceError (and
    EvalError from conditions)."""
    facts = dataclasses.replace(
        facts,
        item=ItemFacts(
            offer=line.offer,
            quantity=line.quantity,
            options=dict(line.options),
            attributes=dict(line.attributes),
        ),
        bundle=member_of.counts if member_of is not None else facts.bundle,
    )
    currency = plan_currency(plan)
    rounding = plan_rounding(plan)
    per_line = rounding if rounding is not None and rounding.scope != "total" else None
    prices = tuple(
        _price(plan, price, line, facts, member_of, tz, env, per_line)
        for price in active_prices(plan, line, facts, env)
    )
    totals = [
        exact_sum([p.tax_included for p in prices if p.type == "one_time"]),
        exact_sum([p.tax_included for p in prices if p.monthly]),
        exact_sum([p.first_period for p in prices if p.type == "recurring"]),
    ]
    if rounding is not None and rounding.scope == "total":
        mode = RoundingMode(rounding.mode)
        totals = [round_exact(t, mode, rounding.decimals) for t in totals]
    return PricedLine(
        offer=line.offer,
        plan=plan.name,
        member_of=member_of.combo if member_of is not None else "",
        options=line.options,
        prices=prices,
        currency=currency,
        due_now=totals[0],
        monthly=totals[1],
        first_bill=totals[2],
    )


def quote(
    lines: Sequence[n.CartLine],
    plans_by_offer: Mapping[str, n.PlanDecl],
    facts: SaleFacts,
    *,
    tz: tzinfo | None = None,
    env: Env = DEFAULT_ENV,
) -> Quote:
    """Price a cart: a line of quantity N as one unit counted N times; a combo line (one
    with members) then its members, each member under its own plan with the combo plan's
    bundle stage. An offer without a plan gives a line without prices. `facts.cart` is used
    as given. Raises PriceError when lines mix currencies."""
    priced: list[PricedLine] = []
    for line in lines:
        if line.quantity > 0:
            units = _cart_line(line, plans_by_offer, facts, tz, env)
            priced += [counted(p, line.quantity) for p in units]
    return quote_of(priced)


def _cart_line(
    line: n.CartLine,
    plans: Mapping[str, n.PlanDecl],
    facts: SaleFacts,
    tz: tzinfo | None,
    env: Env,
) -> list[PricedLine]:
    """One unit of a cart line: its own line, then each member's first unit of its offer
    in the combo (index 0) and the units after it (index 1 onwards price alike: once)."""
    counts: dict[str, int] = {}
    for member in line.members:
        counts[member.offer] = counts.get(member.offer, 0) + member.quantity
    plan = plans.get(line.offer)
    own = facts if not line.members else dataclasses.replace(facts, bundle=counts)
    out = [_priced_or_empty(plan, line, own, None, tz, env)]
    seen: dict[str, int] = {}
    for member in line.members:
        if member.quantity <= 0:
            continue
        index = seen.get(member.offer, 0)
        seen[member.offer] = index + member.quantity
        unit = dataclasses.replace(member, quantity=1, members=())
        ranks = [(index, 1)] if index == 0 else [(index, member.quantity)]
        if index == 0 and member.quantity > 1:
            ranks.append((1, member.quantity - 1))
        for rank, count in ranks:
            membership = Membership(line.offer, plan, counts, rank)
            priced = _priced_or_empty(plans.get(member.offer), unit, facts, membership, tz, env)
            out.append(counted(priced, count))
    return out


def _priced_or_empty(
    plan: n.PlanDecl | None,
    line: n.CartLine,
    facts: SaleFacts,
    member_of: Membership | None,
    tz: tzinfo | None,
    env: Env,
) -> PricedLine:
    if plan is not None:
        return price_line(plan, line, facts, member_of=member_of, tz=tz, env=env)
    combo = member_of.combo if member_of is not None else ""
    return PricedLine(line.offer, "", combo, line.options, (), "", ZERO, ZERO, ZERO)


# -- one price ---------------------------------------------------------------------------------


def _price(
    plan: n.PlanDecl,
    price: n.Price,
    line: n.CartLine,
    facts: SaleFacts,
    member_of: Membership | None,
    tz: tzinfo | None,
    env: Env,
    rounding: n.Rounding | None,
) -> PricedPrice:
    currency = plan_currency(plan)
    listed = _money(price.amount, facts, env, currency, f"price `{price.name}`")
    amount = Fraction(listed)
    steps: list[AppliedAlteration] = []
    for stage, source, alt in _waterfall(plan, price, line, member_of):
        if alt.condition is not None and not _holds(alt.condition, facts, env):
            continue
        step = _apply(stage, source, alt, amount, facts, env, currency)
        if step is None:
            continue
        steps.append(step)
        amount += Fraction(step.change)
    final = to_decimal(amount)
    tax = plan_tax(plan)
    rate = Fraction(tax.rate.value) / 100 if tax is not None else Fraction(0)
    included = tax is None or tax.included
    duty_free = amount / (1 + rate) if included else amount
    tax_included = amount if included else amount * (1 + rate)
    proration = _proration(price, facts, tz)
    first = tax_included * proration if proration is not None else tax_included
    where = f"price `{price.name}` of plan `{plan.name}`"
    return PricedPrice(
        name=price.name,
        business=price.business,
        type=price.kind,
        period=price.period,
        currency=currency,
        list_amount=listed,
        final_amount=final,
        tax_rate=tax.rate.value if tax is not None else ZERO,
        tax_included_basis=included,
        duty_free=shown(duty_free, rounding, f"the duty-free amount of {where}"),
        tax_included=shown(tax_included, rounding, f"the tax-included amount of {where}"),
        due="now" if price.kind == "one_time" else "every_period",
        starts=_starts(price, facts, tz),
        covering=price.covering,
        proration=proration,
        first_period=shown(first, rounding, f"the first period of {where}"),
        alterations=tuple(steps),
        span=price.span,
    )


_PRODUCT = frozenset({"discount", "waive", "override"})
_LIMITS = frozenset({"cap", "floor"})


def _waterfall(
    plan: n.PlanDecl, price: n.Price, line: n.CartLine, member_of: Membership | None
) -> list[tuple[Stage, str, n.Alteration]]:
    """The alterations aimed at this price, in waterfall order (conditions not yet tested)."""
    own = [
        (i, a)
        for i, a in enumerate(plan.items)
        if isinstance(a, n.Alteration)
        and not a.replaces
        and not a.target.offer
        and a.target.price in ("*", price.name)
    ]
    combo: list[tuple[int, n.Alteration]] = []
    if member_of is not None and member_of.plan is not None:
        combo = [
            (i, a)
            for i, a in enumerate(member_of.plan.items)
            if isinstance(a, n.Alteration)
            and a.target.offer == line.offer
            and a.target.price in ("*", price.name)
            and (a.target.each or member_of.index == 0)
        ]
    combo_name = member_of.plan.name if member_of is not None and member_of.plan else ""
    product = sorted((a.priority, i, a) for i, a in own if a.kind in _PRODUCT)
    bundle = sorted((a.priority, i, a) for i, a in combo if a.kind in _PRODUCT or a.replaces)
    limits = sorted(
        [(a.priority, 0, i, a) for i, a in own if a.kind in _LIMITS]
        + [(a.priority, 1, i, a) for i, a in combo if a.kind in _LIMITS and not a.replaces]
    )
    ordered: list[tuple[Stage, str, n.Alteration]] = []
    ordered += [("product", plan.name, a) for _, _, a in product]
    ordered += [("bundle", combo_name, a) for _, _, a in bundle]
    ordered += [("limit", plan.name if o == 0 else combo_name, a) for _, o, _, a in limits]
    return ordered


def _apply(
    stage: Stage,
    source: str,
    alt: n.Alteration,
    amount: Fraction,
    facts: SaleFacts,
    env: Env,
    currency: str,
) -> AppliedAlteration | None:
    """One step; None for a cap or floor that does not bind."""
    what = f"alteration `{alt.name or alt.kind}`"
    percent: Decimal | None = None
    kind: AppliedKind = "replace" if alt.replaces else alt.kind
    if kind in ("waive", "replace"):
        new = Fraction(0)
    elif alt.amount is None:
        raise PriceError(f"{what} has no amount")
    elif isinstance(alt.amount, n.PercentLit):
        if kind != "discount":
            raise PriceError(f"{what}: only a discount takes a percentage")
        percent = alt.amount.value
        new = amount - amount * Fraction(percent) / 100
    else:
        value = Fraction(_money(alt.amount, facts, env, currency, what))
        if kind == "discount":
            new = amount - value
        elif kind == "override":
            new = value
        elif kind == "cap":
            new = min(amount, value)
        else:
            new = max(amount, value)
        if kind in ("cap", "floor") and new == amount:
            return None
    if not alt.credit:
        new = max(new, min(amount, Fraction(0)))  # never (further) below zero
    return AppliedAlteration(
        kind=kind,
        name=alt.name,
        label=alt.label,
        plan=source,
        stage=stage,
        span=alt.span,
        change=to_decimal(new - amount),
        percent=percent,
        priority=alt.priority,
        duration=alt.duration,
        credit=alt.credit,
    )


# -- helpers -----------------------------------------------------------------------------------


def _holds(condition: n.Expr, facts: SaleFacts, env: Env) -> bool:
    return truth(evaluate(condition, facts, env)) is True


def _money(expr: n.Expr, facts: SaleFacts, env: Env, currency: str, what: str) -> Decimal:
    return money_value(evaluate(expr, facts, env), currency, what)


def _starts(price: n.Price, facts: SaleFacts, tz: tzinfo | None) -> datetime:
    if price.kind != "one_time" or price.starting == "now":
        return facts.time
    return month_timing(facts.time, tz)[0]


def _proration(price: n.Price, facts: SaleFacts, tz: tzinfo | None) -> Fraction | None:
    p = price.period
    if not price.prorated or p is None or (p.count, p.unit) != (1, "month"):
        return None
    return month_timing(facts.time, tz)[1]
