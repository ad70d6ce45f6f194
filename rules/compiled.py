"""A version's compiled rules, all made when the version is installed (issue 16): the request
path reads them and never compiles.

`CompiledRuleSet` holds each offer's compiled `eligible` and `composition` blocks (the rule
book's), every price plan compiled (`dsl.compile_prices`), for every combo the units pricing
each of its members' plans under the combo's plan (the first line of a member and the
others), which a quote would otherwise compile the first time a combo is quoted, and each
plan's usage rater (`dsl.compile_usage`), compiled when rating first asks for it (see
`UsageRaters` for why not at install). A plan that does not compile is kept with its error,
which every quote or rating naming it answers.

Compiled units are cached by content (`dsl.loader.build_program`: in process, and on this
machine's disk when a program cache is in use), keyed by their module's parse key and
their place in it, so a version that shares most of its rule files with the last one
compiles only what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from threading import Lock
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


class UsageRaters:
    """Each plan's usage rater (`dsl.compile_usage`), compiled the first time rating, shadow
    rating or a usage estimate asks for it, then kept with the version; the one place a
    request may compile. Compiling every rater at install measured +2.6 s cold and +0.6 s
    from the caches for `tariff gen catalog`'s 1,000 offers (456 rating plans: a third of a
    cold install, almost all in `dsl.compile_usage.analyse`), paid by every process that
    never rates, so it waits for a cheaper analysis. `compile_all` compiles them now.
    Thread-safe: a plan is compiled once."""

    __slots__ = ("_book", "_errors", "_lock", "_made", "_tables", "_units")

    def __init__(
        self,
        book: RuleBook,
        zone_tables: Callable[[], Mapping[str, ZoneTable]],
        units: Mapping[str, str],
    ) -> None:
        self._book = book
        self._tables = zone_tables
        self._units = units
        self._made: dict[str, CompiledUsage | None] = {}
        self._errors: dict[str, CompileError] = {}
        self._lock = Lock()

    def __call__(self, name: str) -> CompiledUsage | None:
        """The plan's rater (None: no such plan, or it rates nothing). Raises CompileError
        for a plan whose usage does not compile (a code generator bug), every time."""
        if name in self._made:
            return self._made[name]
        with self._lock:
            if name not in self._made and name not in self._errors:
                self._compile(name)
        error = self._errors.get(name)
        if error is not None:
            raise CompileError(error.message, error.span)
        return self._made[name]

    def _compile(self, name: str) -> None:
        book = self._book
        plan = book.plans.get(name)
        if plan is None or not rates_usage(plan):
            self._made[name] = None
            return
        try:
            self._made[name] = compile_usage(
                plan, book.scope, self._tables(), book.plan_path(name), self._units.get(name, "")
            )
        except CompileError as error:
            self._errors[name] = error

    def compile_all(self) -> None:
        """Compile every plan's rater now (a server that rates from its first request)."""
        for name in self._book.plans:
            try:
                self(name)
            except CompileError:
                continue  # kept: every rating naming the plan reports it

    @property
    def compiled(self) -> Mapping[str, CompiledUsage]:
        """The raters compiled so far, by plan name."""
        return MappingProxyType({k: v for k, v in self._made.items() if v is not None})


@dataclass(frozen=True, slots=True)
class CompiledRuleSet:
    """Everything compiled of one version, by name. Immutable once built, but for the usage
    raters (see `UsageRaters`)."""

    offers: Mapping[str, OfferRules]
    plans: Mapping[str, CompiledPlan]
    plan_errors: Mapping[str, CompileError]  # a plan that does not compile -> why
    raters: UsageRaters | None = None

    def plan(self, name: str) -> CompiledPlan | None:
        """The compiled plan (None: the version declares no such plan). Raises CompileError
        for a plan that does not compile."""
        error = self.plan_errors.get(name)
        if error is not None:
            raise CompileError(error.message, error.span)
        return self.plans.get(name)

    def usage_rater(self, name: str) -> CompiledUsage | None:
        """The plan's usage rater (None: no such plan, it rates nothing, or this rule set
        has no raters). Raises CompileError for a plan whose usage does not compile."""
        return None if self.raters is None else self.raters(name)


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
    """Compile every plan of `book` and the member pairings of every combo of `offers`
    (`modules`: the parsed modules, whose parse keys name the plans for the caches); the
    usage raters, over the version's `zone_tables`, when first asked (`UsageRaters`)."""
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
        raters=UsageRaters(book, zone_tables, units),
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
