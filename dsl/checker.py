"""The checker: every problem of a rule set, before anything is published.

`check(modules, names)` looks at a whole rule set at once (declarations in one file may use
calendars, bands, zones and attributes declared in another) against the catalog's names, and
returns every problem found - errors for what is wrong, warnings for what is suspicious - each
with a stable code, a plain message, the node's position and, where one helps, a hint. The
checks live by area in `dsl.check_*`: expressions, offers, plans, usage, calendars/bands/zones
and examples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dsl.check_common import Env, Reporter
from dsl.check_examples import check_example
from dsl.check_offers import check_offer
from dsl.check_plans import check_plan, plan_context
from dsl.check_time import check_bands, check_calendar, check_zones
from dsl.check_usage import check_usage
from dsl.context import OPTION_PREFIX, SCHEMA
from dsl.diagnostics import Diagnostic
from dsl.nodes import (
    AttributeDecl,
    BandsDecl,
    CalendarDecl,
    Example,
    Module,
    Node,
    OfferDecl,
    PlanDecl,
    Usage,
    ZonesDecl,
)
from dsl.symbols import CatalogNames, Scope

__all__ = ["check", "errors"]

_KIND_WORDS = {
    "offer": "offer",
    "plan": "plan",
    "calendar": "calendar",
    "bands": "bands",
    "zones": "zones",
    "attribute": "attribute",
    "example": "example",
}


def check(modules: Sequence[Module], names: CatalogNames) -> list[Diagnostic]:
    """Every problem of the rule set `modules` against the catalog `names`, in file order
    then source order."""
    found: list[Diagnostic] = []
    scope = Scope.merge(modules)
    for kind, name, node, path in scope.duplicates:
        first = _first(scope, kind, name)
        where = f" ({first})" if first else ""
        Reporter(path, found).error(
            "duplicate",
            node.span,
            f"{_KIND_WORDS[kind]} `{name}` is declared twice{where}",
            "each name may be declared once in a rule set",
        )
    for module in modules:
        env = Env(names, scope, Reporter(module.path, found))
        for decl in module.declarations:
            _check_declaration(decl, env)
    order = {module.path: index for index, module in enumerate(modules)}
    found.sort(key=lambda d: (order.get(d.path, len(order)), d.line, d.column))
    return found


def errors(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.severity == "error"]


def _first(scope: Scope, kind: str, name: str) -> str:
    tables: dict[str, Mapping[str, Node]] = {
        "offer": scope.offers,
        "plan": scope.plans,
        "calendar": scope.calendars,
        "bands": scope.bands,
        "zones": scope.zones,
        "attribute": scope.attributes,
        "example": scope.examples,
    }
    node = tables[kind].get(name)
    return f"first on line {node.span.line}" if node is not None and node.span.line else ""


def _check_declaration(
    decl: OfferDecl | PlanDecl | CalendarDecl | BandsDecl | ZonesDecl | AttributeDecl | Example,
    env: Env,
) -> None:
    if isinstance(decl, OfferDecl):
        check_offer(decl, env)
        for example in decl.examples:
            check_example(example, env, offer=decl.code)
    elif isinstance(decl, PlanDecl):
        check_plan(decl, env)
        ctx = plan_context(decl, env)
        for item in decl.items:
            if isinstance(item, Usage):
                check_usage(item, decl, env, ctx)
        for example in decl.examples:
            check_example(example, env, plan=decl)
    elif isinstance(decl, CalendarDecl):
        check_calendar(decl, env)
    elif isinstance(decl, BandsDecl):
        check_bands(decl, env)
    elif isinstance(decl, ZonesDecl):
        check_zones(decl, env)
    elif isinstance(decl, AttributeDecl):
        dotted = f"{decl.owner}.{decl.name}"
        if dotted in SCHEMA or dotted.startswith(OPTION_PREFIX) or "." in decl.name:
            env.report.error(
                "bad-attribute",
                decl.span,
                f"`{dotted}` cannot be declared: it is built in or not a plain name",
            )
    else:
        check_example(decl, env)
