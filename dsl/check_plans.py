"""Checking `plan NAME { … }`: settings, prices, options and alterations (usage blocks are in
`dsl.check_usage`)."""

from __future__ import annotations

import re

from dsl import types as t
from dsl.check_common import Env, ExprContext, did_you_mean, plan_groups
from dsl.check_exprs import check_condition, check_value
from dsl.nodes import (
    Alteration,
    Commitment,
    Currency,
    Node,
    OptionGroup,
    PercentLit,
    PlanDecl,
    Price,
    Rounding,
    Tax,
    Usage,
)

__all__ = ["check_plan", "check_rounding", "plan_context", "plan_currency", "plan_prices"]

_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_DECIMALS = 9


def plan_currency(plan: PlanDecl) -> str:
    return next((item.code for item in plan.items if isinstance(item, Currency)), "")


def plan_prices(plan: PlanDecl) -> list[Price]:
    """Every price of the plan, options' prices included, in source order."""
    found: list[Price] = []
    for item in plan.items:
        if isinstance(item, Price):
            found.append(item)
        elif isinstance(item, OptionGroup):
            found.extend(price for choice in item.choices for price in choice.prices)
    return found


def plan_context(plan: PlanDecl, env: Env) -> ExprContext:
    users = env.names.offers_using_plan(plan.name)
    return ExprContext(
        currency=plan_currency(plan),
        option_groups=plan_groups(plan),
        combo=any(o.kind == "combo" for o in users) if users else None,
    )


def check_rounding(node: Rounding, env: Env) -> None:
    if not 0 <= node.decimals <= MAX_DECIMALS:
        env.report.error(
            "bad-rounding",
            node.span,
            f"rounding to {node.decimals} decimals: use 0 to {MAX_DECIMALS}",
        )


def check_plan(plan: PlanDecl, env: Env) -> None:
    if env.names.plans and plan.name not in env.names.plans:
        env.report.warning(
            "unused-plan",
            plan.span,
            f"no product or combo of the catalog uses plan `{plan.name}`",
            did_you_mean(plan.name, env.names.plans),
        )
    ctx = plan_context(plan, env)
    singles: dict[type[Node], str] = {
        Currency: "currency",
        Tax: "tax",
        Rounding: "rounding",
        Commitment: "commitment",
    }
    seen: dict[object, Node] = {}
    for item in plan.items:
        kind = singles.get(type(item))
        key: object = (
            kind if kind else (("usage", item.business) if isinstance(item, Usage) else None)
        )
        if key is not None:
            if key in seen:
                what = f"usage {item.business}" if isinstance(item, Usage) else kind
                env.report.error(
                    "duplicate",
                    item.span,
                    f"plan `{plan.name}` already has a `{what}` (line {seen[key].span.line})",
                    "keep one",
                )
            else:
                seen[key] = item
        if isinstance(item, Currency) and not _CURRENCY.fullmatch(item.code):
            env.report.error(
                "bad-currency",
                item.span,
                f"`{item.code}` is not an ISO 4217 currency code",
                "three capital letters, e.g. `CNY`",
            )
        elif isinstance(item, Tax):
            _check_percent(item.rate, env, "a tax rate")
        elif isinstance(item, Rounding):
            check_rounding(item, env)
        elif isinstance(item, OptionGroup):
            _check_option(item, env)
        elif isinstance(item, Alteration):
            _check_alteration(item, plan, env, ctx)
    _check_prices(plan, env, ctx)
    _check_alteration_names(plan, env)


def _check_percent(node: PercentLit, env: Env, what: str) -> None:
    if not 0 <= node.value <= 100:
        env.report.error("bad-percent", node.span, f"{what} of {node.value}% is outside 0% .. 100%")


def _check_option(group: OptionGroup, env: Env) -> None:
    names: dict[str, Node] = {}
    for choice in group.choices:
        if choice.name in names:
            env.report.error(
                "duplicate",
                choice.span,
                f"option group `{group.name}` already has a choice `{choice.name}`",
            )
        names.setdefault(choice.name, choice)
    if group.default not in names:
        env.report.error(
            "unknown-option",
            group.span,
            f"default `{group.default}` is not a choice of option group `{group.name}`",
            did_you_mean(group.default, names) or f"choices: {', '.join(names)}",
        )


def _check_prices(plan: PlanDecl, env: Env, ctx: ExprContext) -> None:
    seen: dict[str, Price] = {}
    groups: set[str] = set()
    for item in plan.items:
        if isinstance(item, OptionGroup):
            if item.name in groups:
                env.report.error(
                    "duplicate", item.span, f"option group `{item.name}` is declared twice"
                )
            groups.add(item.name)
    for price in plan_prices(plan):
        if price.name in seen:
            env.report.error(
                "duplicate",
                price.span,
                f"plan `{plan.name}` already has a price `{price.name}` "
                f"(line {seen[price.name].span.line})",
                "price names are what alterations target: give each price its own",
            )
        seen.setdefault(price.name, price)
        check_value(price.amount, [t.money(ctx.currency)], env, ctx, "a price")
        if price.kind == "recurring" and price.period is None:
            env.report.error(
                "missing-period",
                price.span,
                f"recurring price `{price.name}` needs `per PERIOD`",
                "e.g. `per month`",
            )
        if price.business and price.business not in env.names.businesses:
            env.report.error(
                "unknown-business",
                price.span,
                f"unknown business `{price.business}`",
                did_you_mean(price.business, env.names.businesses),
            )
        if price.condition is not None:
            check_condition(price.condition, env, ctx)


def _check_alteration_names(plan: PlanDecl, env: Env) -> None:
    seen: set[str] = set()
    for item in plan.items:
        if isinstance(item, Alteration) and item.name:
            if item.name in seen:
                env.report.error(
                    "duplicate",
                    item.span,
                    f"plan `{plan.name}` already has an alteration named `{item.name}`",
                )
            seen.add(item.name)


def _check_alteration(item: Alteration, plan: PlanDecl, env: Env, ctx: ExprContext) -> None:
    _check_target(item, plan, env)
    if item.kind == "waive":
        if item.amount is not None:
            env.report.error("type-mismatch", item.amount.span, "`waive` takes no amount")
    elif item.amount is None:
        env.report.error("missing-amount", item.span, f"`{item.kind}` needs an amount")
    elif item.kind == "discount":
        allowed = [t.PERCENT, t.money(ctx.currency)]
        check_value(item.amount, allowed, env, ctx, "a discount")
        if isinstance(item.amount, PercentLit):
            _check_percent(item.amount, env, "a discount")
    else:
        check_value(item.amount, [t.money(ctx.currency)], env, ctx, f"the `{item.kind}` amount")
    if item.condition is not None:
        check_condition(item.condition, env, ctx)


def _check_target(item: Alteration, plan: PlanDecl, env: Env) -> None:
    target = item.target
    if item.replaces and not target.offer:
        env.report.error(
            "bad-target",
            target.span,
            "`replaces` needs a member's price: `replaces OFFER.PRICE`",
        )
    if not target.offer:
        prices = {p.name for p in plan_prices(plan)}
        if target.price != "*" and target.price not in prices:
            env.report.error(
                "unknown-price",
                target.span,
                f"plan `{plan.name}` has no price `{target.price}`",
                did_you_mean(target.price, prices),
            )
        return
    users = env.names.offers_using_plan(plan.name)
    combos = [o for o in users if o.kind == "combo"]
    if users and not combos:
        env.report.error(
            "not-a-combo-plan",
            target.span,
            f"`{target.offer}.{target.price}` targets a member's price, but plan "
            f"`{plan.name}` is not a combo's plan",
        )
        return
    if target.offer not in env.names.offers:
        env.report.error(
            "unknown-offer",
            target.span,
            f"unknown offer `{target.offer}`",
            did_you_mean(target.offer, env.names.offers),
        )
        return
    structured = combos and all(c.members or c.groups for c in combos)
    if structured and not any(target.offer in c.member_codes() for c in combos):
        env.report.error(
            "not-a-member",
            target.span,
            f"`{target.offer}` is not a member of {', '.join(c.code for c in combos)}",
        )
    member_plan = env.plan_of_offer(target.offer)
    if member_plan is not None and target.price != "*":
        prices = {p.name for p in plan_prices(member_plan)}
        if target.price not in prices:
            env.report.error(
                "unknown-price",
                target.span,
                f"plan `{member_plan.name}` of `{target.offer}` has no price `{target.price}`",
                did_you_mean(target.price, prices),
            )
