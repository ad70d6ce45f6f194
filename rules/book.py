"""A catalog version's rules, parsed, checked and compiled once, when the version is installed.

Order systems ask eligibility questions thousands of times per published version, so nothing
about rule text is done per request: each offer's `eligible` and `composition` blocks become
compiled functions (dsl.compiler), each plan's syntax tree is kept by name, and the area
lineages rules test (`area within GD`) are one shared mapping.

A draft (RulesService.Simulate) may hold rules with errors: the book keeps the diagnostics and
compiles what it can; an offer whose rules did not compile is reported as unqualified with
the reason `rules_not_compiled`, never silently qualified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from catalog.content import CatalogContent
from dsl import interpreter as ip
from dsl import nodes as n
from dsl import parser
from dsl.compiler import (
    CompiledComposition,
    CompiledEligibility,
    CompileError,
    compile_composition,
    compile_eligibility,
)
from dsl.diagnostics import Diagnostic
from dsl.symbols import Scope
from rules.checking import checked_catalog


@dataclass(frozen=True, slots=True)
class OfferRules:
    """One offer's compiled blocks; `path` is the rule file that declares them."""

    code: str
    path: str
    eligibility: CompiledEligibility | None = None
    composition: CompiledComposition | None = None
    broken: bool = False  # its rules had errors: never qualify it
    reads_item: bool = False  # its `eligible` block reads `item.*` (needs the cart line)


@dataclass(frozen=True, slots=True)
class RuleBook:
    offers: Mapping[str, OfferRules]
    plans: Mapping[str, n.PlanDecl]
    scope: Scope
    env: ip.Env
    diagnostics: tuple[Diagnostic, ...]
    texts: Mapping[str, str]  # rule source text by path, to quote conditions in traces
    plan_paths: Mapping[str, str]  # the file declaring each plan (first declaration wins)
    attributes: Mapping[str, str]  # declared free attributes and their types, for compiling

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)

    def rules_of(self, offer_code: str) -> OfferRules | None:
        return self.offers.get(offer_code)

    def plan_path(self, plan_name: str) -> str:
        return self.plan_paths.get(plan_name, "<rules>")


def _broken_paths(diagnostics: tuple[Diagnostic, ...]) -> frozenset[str]:
    return frozenset(d.path for d in diagnostics if d.severity == "error")


def build_rule_book(content: CatalogContent) -> RuleBook:
    """Parse, check and compile every rule source of `content`."""
    checked = checked_catalog(content)
    scope = Scope.merge(checked.modules)
    attributes = {name: decl.type for name, decl in scope.attributes.items()}
    broken_paths = _broken_paths(checked.diagnostics)
    tree = content.area_tree()
    env = ip.Env(areas=MappingProxyType({code: tree.lineage(code) for code in content.areas}))
    offers: dict[str, OfferRules] = {}
    plan_paths: dict[str, str] = {}
    for module in checked.modules:
        for decl in module.declarations:
            if isinstance(decl, n.PlanDecl):
                plan_paths.setdefault(decl.name, module.path)
    for module in checked.modules:
        broken = module.path in broken_paths
        parsed_as = parser.key_of(module)
        for index, decl in enumerate(module.declarations):
            if not isinstance(decl, n.OfferDecl) or decl.code in offers:
                continue  # the first declaration wins, as in the checker's scope
            unit = f"{parsed_as}#{index}" if parsed_as else ""
            offers[decl.code] = _compile_offer(decl, module.path, attributes, broken, unit)
    for (_, code), entity in content.entities.items():  # rules lost to a syntax error
        paths = [s.path for s in getattr(entity.definition, "rule_sources", ())]
        bad = [p for p in paths if p in broken_paths]
        if bad and code not in offers:
            offers[code] = OfferRules(code, bad[0], broken=True)
    return RuleBook(
        offers=MappingProxyType(offers),
        plans=scope.plans,
        scope=scope,
        env=env,
        diagnostics=checked.diagnostics,
        texts=MappingProxyType({s.path: s.text for _, s in content.all_rule_sources()}),
        plan_paths=MappingProxyType(plan_paths),
        attributes=MappingProxyType(attributes),
    )


def _compile_offer(
    decl: n.OfferDecl, path: str, attributes: Mapping[str, str], broken: bool, unit: str
) -> OfferRules:
    """`unit`: the declaration's parse key and place in its module ("" when unknown), which
    names its blocks for the compiled-program caches."""
    if broken:
        return OfferRules(decl.code, path, broken=True)
    try:
        eligibility = (
            None
            if decl.eligibility is None
            else compile_eligibility(
                decl.eligibility, path, attributes, offer=decl.code, unit=unit and unit + ".e"
            )
        )
        composition = (
            None
            if decl.composition is None
            else compile_composition(decl.composition, path, unit=unit and unit + ".c")
        )
    except CompileError:
        return OfferRules(decl.code, path, broken=True)
    return OfferRules(decl.code, path, eligibility, composition, reads_item=_reads_item(decl))


def _reads_item(decl: n.OfferDecl) -> bool:
    block = decl.eligibility
    if block is None:
        return False
    conditions = [r.condition for r in block.rules]
    conditions += [b.condition for b in block.branches if b.condition is not None]
    return any(
        label == "item" or label.startswith("item.")
        for condition in conditions
        for label, _ in ip.observed_nodes(condition)
    )
