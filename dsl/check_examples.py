"""Checking `example NAME { … }`: what it gives must be well named and typed, what it expects
must exist."""

from __future__ import annotations

import dataclasses

from dsl import types as t
from dsl.check_common import Env, ExprContext, did_you_mean, plan_groups
from dsl.check_exprs import check_value, resolve_name
from dsl.check_plans import plan_currency, plan_prices
from dsl.check_usage import measure_type
from dsl.nodes import CartLine, Eligibility, EventSpec, Example, Expectation, PlanDecl, Usage

__all__ = ["check_example"]

_MONEY_EXPECTATIONS = frozenset({"due_now", "monthly", "price", "charge"})


def check_example(
    example: Example, env: Env, *, plan: PlanDecl | None = None, offer: str = ""
) -> None:
    """`plan`: the plan the example sits in; `offer`: the offer block it sits in."""
    if plan is None and offer:
        plan = env.plan_of_offer(offer)
    ctx = ExprContext(
        currency=plan_currency(plan) if plan else "",
        option_groups=plan_groups(plan),
        usage=True,
    )
    for given in example.given:
        found = resolve_name(given.name, env, dataclasses.replace(ctx, option_groups=None))
        if found == t.CODE:
            env.report.error(
                "unknown-name",
                given.name.span,
                f"unknown name `{given.name.dotted}`",
                did_you_mean(given.name.dotted, ["area", "channel", "time", "cart"]),
            )
        elif not found.is_unknown:
            check_value(given.value, [found], env, ctx, f"`{given.name.dotted}`")
    plans: list[PlanDecl] = [plan] if plan else []
    _check_cart(example.cart, env, plans)
    for event in example.events:
        _check_event(event, env, ctx)
        if event.plan in env.scope.plans:
            plans.append(env.scope.plans[event.plan])
    for expectation in example.expect:
        _check_expectation(expectation, env, ctx, plans)


def _check_cart(lines: tuple[CartLine, ...], env: Env, plans: list[PlanDecl]) -> None:
    stack = list(lines)
    while stack:  # bounded: every line is visited once
        line = stack.pop()
        stack.extend(line.members)
        if line.offer not in env.names.offers:
            env.report.error(
                "unknown-offer",
                line.span,
                f"unknown offer `{line.offer}`",
                did_you_mean(line.offer, env.names.offers),
            )
            continue
        if line.quantity < 1:
            env.report.error(
                "bad-quantity", line.span, "a cart line needs a quantity of at least 1"
            )
        plan = env.plan_of_offer(line.offer)
        if plan is not None:
            plans.append(plan)
        groups = plan_groups(plan)
        if groups is None:
            continue
        for group, choice in line.options:
            if group not in groups:
                env.report.error(
                    "unknown-option",
                    line.span,
                    f"plan `{plan.name if plan else ''}` has no option group `{group}`",
                    did_you_mean(group, groups),
                )
            elif choice not in groups[group]:
                env.report.error(
                    "unknown-option",
                    line.span,
                    f"option group `{group}` has no choice `{choice}`",
                    did_you_mean(choice, groups[group]),
                )


def _check_event(event: EventSpec, env: Env, ctx: ExprContext) -> None:
    measure = measure_type(event.business, env)
    if event.business not in env.names.businesses:
        env.report.error(
            "unknown-business",
            event.span,
            f"unknown business `{event.business}`",
            did_you_mean(event.business, env.names.businesses),
        )
    allowed = [t.DURATION, t.DATA, t.COUNT] if measure.is_unknown else [measure]
    check_value(event.quantity, allowed, env, ctx, f"usage of `{event.business}`")
    if not event.plan:
        return
    plan = env.scope.plans.get(event.plan)
    if plan is None:
        env.report.error(
            "unknown-plan",
            event.span,
            f"unknown plan `{event.plan}`",
            did_you_mean(event.plan, env.scope.plans),
        )
    elif not any(isinstance(i, Usage) and i.business == event.business for i in plan.items):
        env.report.error(
            "no-usage",
            event.span,
            f"plan `{plan.name}` does not rate `{event.business}`",
            f"add `usage {event.business} {{ … }}` to the plan",
        )


def _reasons(offer: str, env: Env) -> set[str] | None:
    decl = env.scope.offers.get(offer)
    if decl is None or decl.eligibility is None:
        return None
    block: Eligibility = decl.eligibility
    found = {"no_rule_matched"}
    # a rule without `else` fails with its own name; a bare `deny` with "denied"
    found.update(r.reason.code if r.reason else r.name for r in block.rules)
    found.update(b.reason.code if b.reason else "denied" for b in block.branches if not b.allow)
    return found


def _check_expectation(
    expectation: Expectation, env: Env, ctx: ExprContext, plans: list[PlanDecl]
) -> None:
    kind, subject = expectation.kind, expectation.subject
    if kind in {"eligible", "not_eligible"}:
        if subject not in env.names.offers:
            env.report.error(
                "unknown-offer",
                expectation.span,
                f"unknown offer `{subject}`",
                did_you_mean(subject, env.names.offers),
            )
        reasons = _reasons(subject, env)
        if expectation.reason and reasons is not None and expectation.reason not in reasons:
            env.report.warning(
                "unknown-reason",
                expectation.span,
                f"no rule of `{subject}` gives the reason `{expectation.reason}`",
                did_you_mean(expectation.reason, reasons),
            )
    elif kind == "price":
        candidates = plans or list(env.scope.plans.values())
        prices = {p.name for plan in candidates for p in plan_prices(plan)}
        if subject not in prices:
            env.report.error(
                "unknown-price",
                expectation.span,
                f"no plan here has a price `{subject}`",
                did_you_mean(subject, prices),
            )
    elif kind == "zone" and subject not in env.zone_names():
        env.report.error(
            "unknown-zone",
            expectation.span,
            f"unknown zone `{subject}`",
            did_you_mean(subject, env.zone_names()),
        )
    elif kind == "band" and subject not in env.band_names():
        env.report.error(
            "unknown-band",
            expectation.span,
            f"unknown band `{subject}`",
            did_you_mean(subject, env.band_names()),
        )
    value = expectation.value
    if value is None:
        return
    if kind in _MONEY_EXPECTATIONS:
        check_value(value, [t.money(ctx.currency)], env, ctx, "the expected amount")
    elif kind == "allowance_used":
        check_value(value, [t.DURATION, t.DATA, t.COUNT], env, ctx, "the allowance used")
