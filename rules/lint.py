"""`tariff lint`: what a rule set declares and never uses, and what its examples exercise.

Findings (warnings: a publish does not stop for them):

- `unused-zones` / `unused-bands`: a `zones` or `bands` declaration no usage block names;
- `unused-zone` / `unused-band`: a zone of a zone table (inline or the catalog's) or a band of
  a bands declaration that a usage block uses, but that none of those blocks' rate or
  allowance patterns (`local`, `intl_*`, `*`) selects;
- `unused-segment`: a catalog segment no rule, example and no offer's audience names;
- `example-covers-nothing`: an example whose run evaluated no rule;
- `unexercised-rule`: an eligibility rule or branch, a composition rule, a price, an
  alteration or a rate that no example's run evaluated.

Coverage, as `opa test --coverage` gives it: per file, the rules (as counted above) and how
many of them some example's run evaluated (rules.examples records what each run touched).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from catalog.content import CatalogContent
from catalog.model import Combo, Product
from dsl import nodes as n
from dsl.diagnostics import Diagnostic
from rules.examples import ExampleResult


@dataclass(frozen=True, slots=True)
class RuleSite:
    """One rule that coverage counts: what owns it, what it is, where."""

    owner: str  # "offer:CODE" or "plan:NAME"
    label: str  # "rule age", "first[2]", "composition rule", "price rent", "rate local peak"
    path: str
    span: n.Span


@dataclass(frozen=True, slots=True)
class FileCoverage:
    path: str
    rules: int
    covered: int
    not_covered: tuple[int, ...]  # lines of the rules no example evaluated

    @property
    def percent(self) -> float:
        return 100.0 if not self.rules else 100.0 * self.covered / self.rules


@dataclass(frozen=True, slots=True)
class LintResult:
    findings: tuple[Diagnostic, ...]
    coverage: tuple[FileCoverage, ...]

    @property
    def total(self) -> FileCoverage:
        rules = sum(f.rules for f in self.coverage)
        covered = sum(f.covered for f in self.coverage)
        return FileCoverage("total", rules, covered, ())


def lint(
    modules: Sequence[n.Module], catalog: CatalogContent, examples: Sequence[ExampleResult]
) -> LintResult:
    """Findings and coverage of checked `modules` whose examples ran as `examples`."""
    sites = list(rule_sites(modules))
    covered = _covered(sites, examples)
    findings = [
        *_unused_zones(modules, catalog),
        *_unused_bands(modules),
        *_unused_segments(modules, catalog),
        *_empty_examples(sites, examples),
        *(
            _warning("unexercised-rule", f"no example exercises {s.label} of `{_name(s)}`", s)
            for s in sites
            if s not in covered
        ),
    ]
    findings.sort(key=lambda d: (d.path, d.line, d.column, d.code))
    return LintResult(tuple(findings), tuple(_coverage(modules, sites, covered)))


def _name(site: RuleSite) -> str:
    return site.owner.partition(":")[2]


def _warning(code: str, message: str, site: RuleSite | None, path: str = "") -> Diagnostic:
    span = site.span if site is not None else n.Span(1, 1, 1, 1)
    return Diagnostic(
        "warning",
        code,
        message,
        site.path if site is not None else path,
        span.line,
        span.column,
        span.end_line,
        span.end_column,
    )


# -- the rules coverage counts ----------------------------------------------------------------


def rule_sites(modules: Iterable[n.Module]) -> Iterator[RuleSite]:
    for module in modules:
        for decl in module.declarations:
            if isinstance(decl, n.OfferDecl):
                yield from _offer_sites(decl, module.path)
            elif isinstance(decl, n.PlanDecl):
                yield from _plan_sites(decl, module.path)


def _offer_sites(decl: n.OfferDecl, path: str) -> Iterator[RuleSite]:
    owner = f"offer:{decl.code}"
    if decl.eligibility is not None:
        for rule in decl.eligibility.rules:
            yield RuleSite(owner, f"eligibility rule `{rule.name}`", path, rule.span)
        for i, branch in enumerate(decl.eligibility.branches, start=1):
            yield RuleSite(owner, f"eligibility branch first[{i}]", path, branch.span)
    if decl.composition is not None:
        for part in decl.composition.rules:
            yield RuleSite(owner, "a composition rule", path, part.span)


def _plan_sites(plan: n.PlanDecl, path: str) -> Iterator[RuleSite]:
    owner = f"plan:{plan.name}"
    for item in plan.items:
        if isinstance(item, n.Price):
            yield RuleSite(owner, f"price `{item.name}`", path, item.span)
        elif isinstance(item, n.OptionGroup):
            for choice in item.choices:
                for price in choice.prices:
                    label = f"price `{price.name}` (option {item.name} = {choice.name})"
                    yield RuleSite(owner, label, path, price.span)
        elif isinstance(item, n.Alteration):
            name = item.name or item.target.price
            yield RuleSite(owner, f"{item.kind} `{name}`", path, item.span)
        elif isinstance(item, n.Usage):
            for rate in item.rates:
                label = f"rate `{rate.zone.text} {rate.band.text}` of {item.business}"
                yield RuleSite(owner, label, path, rate.span)


def _within(inner: n.Span, outer: n.Span) -> bool:
    if inner == n.NOWHERE:
        return False
    starts = (inner.line, inner.column) >= (outer.line, outer.column)
    return starts and (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)


def _touched(sites: Sequence[RuleSite], example: ExampleResult) -> set[RuleSite]:
    by_owner: dict[str, list[RuleSite]] = {}
    for site in sites:
        by_owner.setdefault(site.owner, []).append(site)
    found: set[RuleSite] = set()
    for owner, span in example.covered:
        for site in by_owner.get(owner, ()):
            if _within(span, site.span):
                found.add(site)
    return found


def _covered(sites: Sequence[RuleSite], examples: Sequence[ExampleResult]) -> set[RuleSite]:
    found: set[RuleSite] = set()
    for example in examples:
        found |= _touched(sites, example)
    return found


def _empty_examples(
    sites: Sequence[RuleSite], examples: Sequence[ExampleResult]
) -> Iterator[Diagnostic]:
    for example in examples:
        if example.status != "not_run" and not _touched(sites, example):
            site = RuleSite("", "", example.path, example.span)
            yield _warning(
                "example-covers-nothing",
                f"example `{example.name}` evaluates no rule: what does it test?",
                site,
            )


def _coverage(
    modules: Sequence[n.Module], sites: Sequence[RuleSite], covered: set[RuleSite]
) -> Iterator[FileCoverage]:
    for module in modules:
        mine = [s for s in sites if s.path == module.path]
        missing = tuple(sorted({s.span.line for s in mine if s not in covered}))
        yield FileCoverage(module.path, len(mine), sum(s in covered for s in mine), missing)


# -- unused declarations ----------------------------------------------------------------------


def _usages(modules: Iterable[n.Module]) -> Iterator[n.Usage]:
    for module in modules:
        for decl in module.declarations:
            if isinstance(decl, n.PlanDecl):
                yield from (i for i in decl.items if isinstance(i, n.Usage))


def _selects(patterns: Iterable[n.Pattern], name: str) -> bool:
    for pattern in patterns:
        if pattern.is_any or pattern.text == name:
            return True
        if pattern.is_prefix and name.startswith(pattern.text[:-1]):
            return True
    return False


def _declared(modules: Iterable[n.Module], kind: type[n.Node]) -> Iterator[tuple[str, n.Node]]:
    for module in modules:
        for decl in module.declarations:
            if isinstance(decl, kind):
                yield module.path, decl


def _unused_zones(modules: Sequence[n.Module], catalog: CatalogContent) -> Iterator[Diagnostic]:
    usages = list(_usages(modules))
    inline: dict[str, tuple[str, n.ZonesDecl]] = {
        d.name: (path, d)
        for path, d in _declared(modules, n.ZonesDecl)
        if isinstance(d, n.ZonesDecl)
    }
    for name, (path, decl) in inline.items():
        users = [u for u in usages if u.zones == name]
        if not users:
            site = RuleSite("", "", path, decl.span)
            yield _warning("unused-zones", f"no usage block names zones `{name}`", site)
            continue
        patterns = _patterns(users, zones=True)
        for entry in decl.entries:
            if not _selects(patterns, entry.zone):
                site = RuleSite("", "", path, entry.span)
                yield _zone_finding(name, entry.zone, site)
    for name, table in catalog.zone_tables.items():
        users = [u for u in usages if u.zones == name]
        if not users or name in inline:
            continue
        patterns = _patterns(users, zones=True)
        where = _usage_site(modules, users[0])
        for zone in sorted({zone for _, zone in table.prefixes}):
            if not _selects(patterns, zone):
                yield _zone_finding(name, zone, where)


def _zone_finding(table: str, zone: str, site: RuleSite | None) -> Diagnostic:
    return _warning(
        "unused-zone",
        f"no rate or allowance of the usage blocks using `{table}` selects its zone `{zone}`",
        site,
    )


def _patterns(users: Iterable[n.Usage], *, zones: bool) -> list[n.Pattern]:
    found: list[n.Pattern] = []
    for usage in users:
        for rate in usage.rates:
            found.append(rate.zone if zones else rate.band)
        for allowance in usage.allowances:
            found.extend(allowance.zones if zones else allowance.bands)
    return found


def _usage_site(modules: Iterable[n.Module], usage: n.Usage) -> RuleSite | None:
    for module in modules:
        for decl in module.declarations:
            if isinstance(decl, n.PlanDecl) and any(i is usage for i in decl.items):
                return RuleSite("", "", module.path, usage.span)
    return None


def _unused_bands(modules: Sequence[n.Module]) -> Iterator[Diagnostic]:
    usages = list(_usages(modules))
    for path, decl in _declared(modules, n.BandsDecl):
        assert isinstance(decl, n.BandsDecl)
        users = [u for u in usages if u.bands == decl.name]
        if not users:
            site = RuleSite("", "", path, decl.span)
            yield _warning("unused-bands", f"no usage block names bands `{decl.name}`", site)
            continue
        patterns = _patterns(users, zones=False)
        for band in decl.bands:
            if not _selects(patterns, band.name):
                yield _warning(
                    "unused-band",
                    f"no rate or allowance of the usage blocks using `{decl.name}` selects its "
                    f"band `{band.name}`",
                    RuleSite("", "", path, band.span),
                )


def _words(modules: Iterable[n.Module]) -> set[str]:
    """Every bare code and string the rules and examples write."""
    found: set[str] = set()
    for module in modules:
        for node in module.walk():
            if isinstance(node, n.Name) and len(node.parts) == 1:
                found.add(node.parts[0])
            elif isinstance(node, n.StringLit):
                found.add(node.value)
    return found


def _unused_segments(modules: Sequence[n.Module], catalog: CatalogContent) -> Iterator[Diagnostic]:
    named = _words(modules)
    for entity in catalog.entities.values():
        definition = entity.definition
        if isinstance(definition, Product | Combo):
            named |= set(definition.audience.segment_codes)
    for code in sorted(catalog.segments):
        if code not in named:
            yield _warning(
                "unused-segment",
                f"no rule, example or offer's audience names the segment `{code}`",
                None,
                "catalog",
            )
