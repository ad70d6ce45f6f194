"""A version's compiled rules, all made when the version is installed (issue 16): the request
path reads them and never compiles.

`CompiledRuleSet` holds each offer's compiled `eligible` and `composition` blocks (the rule
book's), every price plan compiled (`dsl.compile_prices`), and for every combo the units
pricing each of its members' plans under the combo's plan (the first line of a member and the
others), which a quote would otherwise compile the first time a combo is quoted. A plan that
does not compile is kept with its error, which every quote naming it answers.

Compiled units are cached by content (`dsl.loader.build_program`: in process, and on this
machine's disk when a program cache is in use), keyed by their module's parse key and
their place in it, so a version that shares most of its rule files with the last one
compiles only what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from catalog.model import Combo
from catalog.snapshot import Offer
from dsl import nodes as n
from dsl import parser
from dsl.codegen import CompileError
from dsl.compile_prices import CompiledPlan, compile_plan
from rules.book import OfferRules, RuleBook


@dataclass(frozen=True, slots=True)
class CompiledRuleSet:
    """Everything compiled of one version, by name. Immutable once built."""

    offers: Mapping[str, OfferRules]
    plans: Mapping[str, CompiledPlan]
    plan_errors: Mapping[str, CompileError]  # a plan that does not compile -> why

    def plan(self, name: str) -> CompiledPlan | None:
        """The compiled plan (None: the version declares no such plan). Raises CompileError
        for a plan that does not compile."""
        error = self.plan_errors.get(name)
        if error is not None:
            raise CompileError(error.message, error.span)
        return self.plans.get(name)


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


def compile_rule_set(
    book: RuleBook, offers: Mapping[str, Offer], modules: Iterable[n.Module] = ()
) -> CompiledRuleSet:
    """Compile every plan of `book` and the member pairings of every combo of `offers`
    (`modules`: the parsed modules, whose parse keys name the plans for the caches)."""
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
    return CompiledRuleSet(
        offers=book.offers,
        plans=MappingProxyType(plans),
        plan_errors=MappingProxyType(errors),
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
