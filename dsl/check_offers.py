"""Checking `offer CODE { … }`: the offer, its eligibility rules and its composition."""

from __future__ import annotations

from collections.abc import Iterable

from dsl.check_common import Env, ExprContext, did_you_mean, plan_groups
from dsl.check_exprs import check_condition
from dsl.nodes import (
    AddOnRule,
    BoolLit,
    Composition,
    Eligibility,
    ExcludesRule,
    MemberRule,
    Node,
    OfferDecl,
    RequiresRule,
)
from dsl.symbols import OfferName

__all__ = ["check_offer", "offer_context"]


def offer_context(decl: OfferDecl, env: Env) -> ExprContext:
    known = env.names.offers.get(decl.code)
    return ExprContext(
        option_groups=plan_groups(env.plan_of_offer(decl.code)),
        combo=None if known is None else known.kind == "combo",
    )


def check_offer(decl: OfferDecl, env: Env) -> None:
    known = env.names.offers.get(decl.code)
    if known is None:
        env.report.error(
            "unknown-offer",
            decl.span,
            f"unknown offer `{decl.code}`: no product or combo of the catalog has this code",
            did_you_mean(decl.code, env.names.offers),
        )
    ctx = offer_context(decl, env)
    if decl.eligibility is not None:
        _check_eligibility(decl.eligibility, env, ctx)
    if decl.composition is not None:
        _check_composition(decl.composition, known, env)


def _check_eligibility(block: Eligibility, env: Env, ctx: ExprContext) -> None:
    seen: set[str] = set()
    for rule in block.rules:
        if rule.name in seen:
            env.report.error(
                "duplicate",
                rule.span,
                f"a rule named `{rule.name}` is already in this block",
                "rule names are used in traces: give each rule its own",
            )
        seen.add(rule.name)
        check_condition(rule.condition, env, ctx)
    catch_all: Node | None = None
    for number, branch in enumerate(block.branches, start=1):
        if catch_all is not None:
            env.report.warning(
                "shadowed-rule",
                branch.span,
                f"branch {number} is never reached: an earlier branch always matches",
                f"move it before line {catch_all.span.line}, or remove it",
            )
        if branch.condition is not None:
            check_condition(branch.condition, env, ctx)
        always = branch.condition is None or (
            isinstance(branch.condition, BoolLit) and branch.condition.value
        )
        if always and catch_all is None:
            catch_all = branch


def _known_offers(codes: Iterable[str], node: Node, env: Env) -> list[str]:
    """Report the unknown codes; return the known ones."""
    known: list[str] = []
    for code in codes:
        if code in env.names.offers:
            known.append(code)
        else:
            env.report.error(
                "unknown-offer",
                node.span,
                f"unknown offer `{code}`",
                did_you_mean(code, env.names.offers),
            )
    return known


def _check_composition(block: Composition, combo: OfferName | None, env: Env) -> None:
    if combo is not None and combo.kind != "combo":
        env.report.error(
            "composition-outside-combo",
            block.span,
            f"`{combo.code}` is a {combo.kind.replace('_', '-')} product, not a combo: "
            "composition rules only apply to combos",
        )
        combo = None
    for rule in block.rules:
        if isinstance(rule, MemberRule):
            known = _known_offers(rule.offers, rule, env)
            if len(known) == len(rule.offers):
                _check_cardinality(rule, combo, env)
        elif isinstance(rule, RequiresRule | ExcludesRule):
            _known_offers(rule.offers, rule, env)
        elif isinstance(rule, AddOnRule):
            _check_add_on(rule, env)


def _check_add_on(rule: AddOnRule, env: Env) -> None:
    if _known_offers([rule.addon], rule, env):
        kind = env.names.offers[rule.addon].kind
        if kind != "add_on":
            env.report.error(
                "not-an-add-on",
                rule.span,
                f"`{rule.addon}` is a {kind.replace('_', '-')} offer, not an add-on",
                did_you_mean(rule.addon, env.names.offers_of_kind("add_on")),
            )
    _known_offers(rule.bases, rule, env)


def _check_cardinality(rule: MemberRule, combo: OfferName | None, env: Env) -> None:
    low, high = rule.cardinality.low, rule.cardinality.high
    listed = ", ".join(rule.offers)
    if high is not None and low > high:
        env.report.error(
            "unreachable-cardinality",
            rule.cardinality.span,
            f"{low}..{high} can never be met: the low bound is above the high",
            "write the smaller bound first",
        )
        return
    if combo is None or not (combo.members or combo.groups):
        return  # the combo's structure is not known: nothing to compare with
    members = combo.member_codes()
    strangers = [code for code in rule.offers if code not in members]
    if strangers:
        env.report.error(
            "not-a-member",
            rule.span,
            f"`{strangers[0]}` is not a member of combo `{combo.code}`",
            f"its members are {', '.join(sorted(members))}",
        )
        return
    wanted = set(rule.offers)
    most = sum(m.high for m in combo.members if m.offer in wanted)
    most += sum(g.high for g in combo.groups if wanted & set(g.offers))
    least = sum(m.low for m in combo.members if m.offer in wanted)
    least += sum(g.low for g in combo.groups if set(g.offers) <= wanted)
    if low > most:
        env.report.error(
            "unreachable-cardinality",
            rule.span,
            f"asks for at least {low} of {listed}, but combo `{combo.code}` has room for "
            f"at most {most}",
        )
    elif high is not None and high < least:
        env.report.error(
            "unreachable-cardinality",
            rule.span,
            f"allows at most {high} of {listed}, but combo `{combo.code}` always has at "
            f"least {least}",
        )
