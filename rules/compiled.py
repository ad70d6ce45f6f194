"""A version's compiled rules, all made when the version is installed (issue 16): the request
path reads them and never compiles.

`CompiledRuleSet` holds each offer's compiled `eligible` and `composition` blocks (the rule
book's), every price plan compiled (`dsl.compile_prices`), for every combo the units pricing
each of its members' plans under the combo's plan (the first line of a member and the
others), which a quote would otherwise compile the first time a combo is quoted, and every
plan's usage tariffs compiled into a rater (`dsl.compile_usage`), which rating, shadow rating
and quotes' usage estimates read. A plan that does not compile is kept with its error, which
every quote or rating naming it answers.

Compiled units are cached by content (`dsl.loader.build_program`: in process, and on this
machine's disk when a program cache is in use), keyed by their module's parse key and
their place in it, so a version that shares most of its rule files with the last one
compiles only what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from catalog.model import Combo
from catalog.snapshot import Offer
from dsl import nodes as n
from dsl import parser
from dsl.codegen import CompileError
from dsl.compile_prices import CompiledPlan, compile_plan
from dsl.compile_usage import CompiledUsage, compile_usage
from pricing.zones import ZoneTable
from rules.book import OfferRules, RuleBook


@dataclass(frozen=True, slots=True)
class CompiledRuleSet:
    """Everything compiled of one version, by name. Immutable once built."""

    offers: Mapping[str, OfferRules]
    plans: Mapping[str, CompiledPlan]
    plan_errors: Mapping[str, CompileError]  # a plan that does not compile -> why
    #: plan name -> its usage rater, for each plan that rates usage
    raters: Mapping[str, CompiledUsage] = field(default_factory=lambda: MappingProxyType({}))
    rater_errors: Mapping[str, CompileError] = field(default_factory=lambda: MappingProxyType({}))

    def plan(self, name: str) -> CompiledPlan | None:
        """The compiled plan (None: the version declares no such plan). Raises CompileError
        for a plan that does not compile."""
        error = self.plan_errors.get(name)
        if error is not None:
            raise CompileError(error.message, error.span)
        return self.plans.get(name)

    def usage_rater(self, name: str) -> CompiledUsage | None:
        """The plan's usage rater (None: no such plan, or it rates nothing). Raises
        CompileError for a plan whose usage does not compile."""
        found = self.raters.get(name)
        if found is None:
            error = self.rater_errors.get(name)
            if error is not None:
                raise CompileError(error.message, error.span)
        return found


def plan_units(modules: Iterable[n.Module], plans: Mapping[str, n.PlanDecl]) -> dict[str, str]:
    """For each plan in force (`plans`, the first declaration of each name), its module's
    parse key and its place there: what names it for the compiled-program caches."""
    units: dict[str, str] = {}
    for module in modules:
        key = parser.key_of(module)
        if key is None:
            continue
        for index, decl in enumerate(module.declarations):
            if isinstance(decl, n.PlanDecl) and plans.get(decl.name) is decl:
                units.setdefault(decl.name, f"{key}#{index}")
    return units


def rates_usage(plan: n.PlanDecl) -> bool:
    return any(isinstance(item, n.Usage) for item in plan.items)


def compile_rule_set(
    book: RuleBook,
    offers: Mapping[str, Offer],
    modules: Iterable[n.Module],
    zone_tables: Callable[[], Mapping[str, ZoneTable]],
) -> CompiledRuleSet:
    """Compile every plan of `book`, the member pairings of every combo of `offers`
    (`modules`: the parsed modules, whose parse keys name the plans for the caches) and,
    given the version's `zone_tables` (asked for only when some plan rates usage), every
    plan's usage rater."""
    units = plan_units(modules, book.plans)
    plans: dict[str, CompiledPlan] = {}
    errors: dict[str, CompileError] = {}
    for name, decl in book.plans.items():
        try:
            plans[name] = compile_plan(
                decl, book.plan_path(name), book.attributes, unit=units.get(name, "")
            )
        except CompileError as error:
            errors[name] = error
    for offer in offers.values():
        if isinstance(offer, Combo):
            _pair_members(offer, offers, plans)
    raters: dict[str, CompiledUsage] = {}
    rater_errors: dict[str, CompileError] = {}
    rating = [name for name, decl in book.plans.items() if rates_usage(decl)]
    if rating:
        tables = zone_tables()
        for name in rating:
            try:
                raters[name] = compile_usage(
                    book.plans[name], book.scope, tables, book.plan_path(name)
                )
            except CompileError as error:
                rater_errors[name] = error
    return CompiledRuleSet(
        offers=book.offers,
        plans=MappingProxyType(plans),
        plan_errors=MappingProxyType(errors),
        raters=MappingProxyType(raters),
        rater_errors=MappingProxyType(rater_errors),
    )


def _plans_of(code: str, offers: Mapping[str, Offer]) -> set[str]:
    """Every plan an offer can be priced under: its own and its areas' overrides."""
    offer = offers.get(code)
    if offer is None:
        return set()
    return {offer.tariff_plan, *(o.tariff_plan for o in offer.tariff_overrides)} - {""}


def _pair_members(
    combo: Combo, offers: Mapping[str, Offer], plans: Mapping[str, CompiledPlan]
) -> None:
    for combo_plan in sorted(_plans_of(combo.code, offers)):
        own = plans.get(combo_plan)
        if own is None:
            continue
        for member in combo.member_codes():
            for member_plan in sorted(_plans_of(member, offers)):
                found = plans.get(member_plan)
                if found is None:
                    continue
                try:
                    own.prepare_member(found, member)
                except CompileError:
                    continue  # a quote of this combo reports it, as before
