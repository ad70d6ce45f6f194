"""Checks a catalog's rule sources together: parse each, then check all of them against the
names of the catalog they belong to, collecting every diagnostic of every file."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from catalog.content import CatalogContent
from catalog.model import RuleSource
from dsl.checker import check
from dsl.diagnostics import Diagnostic, DslError
from dsl.nodes import Module
from dsl.parse_pool import parse_all
from dsl.parser import parse
from rules.names import names_from_content


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Parsed modules (those without syntax errors) and every diagnostic, sorted."""

    modules: tuple[Module, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.severity == "error" for d in self.diagnostics)


def _order(d: Diagnostic) -> tuple[str, int, int, str]:
    return (d.path, d.line, d.column, d.code)


def check_sources(sources: Iterable[RuleSource], catalog: CatalogContent) -> CheckResult:
    """Every problem of `sources` as rules of `catalog` (syntax first, then names/types)."""
    sources = list(sources)
    parse_all([(s.text, s.path) for s in sources])  # a large cold batch: on every core
    modules: list[Module] = []
    found: list[Diagnostic] = []
    for source in sources:
        try:
            modules.append(parse(source.text, source.path))
        except DslError as error:
            found.extend(error.diagnostics)
    found.extend(check(modules, names_from_content(catalog)))
    return CheckResult(tuple(modules), tuple(sorted(found, key=_order)))


def catalog_sources(catalog: CatalogContent) -> list[RuleSource]:
    """Every rule source of a catalog: its own, then each entity's."""
    return [source for _, source in catalog.all_rule_sources()]


def check_catalog(catalog: CatalogContent, extra: Sequence[RuleSource] = ()) -> CheckResult:
    """The catalog's own sources, with `extra` replacing those of the same path."""
    replaced = {s.path for s in extra}
    sources = [s for s in catalog_sources(catalog) if s.path not in replaced]
    return check_sources([*sources, *extra], catalog)


#: The last content checked by `checked_catalog`, and its result.
_LAST: tuple[CatalogContent, CheckResult] | None = None


def checked_catalog(catalog: CatalogContent) -> CheckResult:
    """`check_catalog(catalog)`, answered from memory when the same content object was the
    last one checked: a publish checks the version's content, then installs that same
    (immutable) object, which would otherwise check it a second time."""
    global _LAST
    last = _LAST
    if last is not None and last[0] is catalog:
        return last[1]
    result = check_catalog(catalog)
    _LAST = (catalog, result)
    return result


def remember_checked(catalog: CatalogContent, diagnostics: Sequence[Diagnostic]) -> CheckResult:
    """Make `checked_catalog(catalog)` answer with `diagnostics` (a check of this very
    content, by this very code, kept in the store) and the modules of its sources (parsed,
    or from the parse cache) instead of checking again."""
    global _LAST
    modules: list[Module] = []
    for source in catalog_sources(catalog):
        try:
            modules.append(parse(source.text, source.path))
        except DslError:
            continue  # its syntax errors are among the diagnostics
    result = CheckResult(tuple(modules), tuple(diagnostics))
    _LAST = (catalog, result)
    return result


def last_checked(catalog: CatalogContent) -> CheckResult | None:
    """The memo of `checked_catalog` when it holds `catalog`."""
    last = _LAST
    return last[1] if last is not None and last[0] is catalog else None


def forget_checked() -> None:
    """Drop the memo of `checked_catalog` (benchmarks time cold installs with it)."""
    global _LAST
    _LAST = None
