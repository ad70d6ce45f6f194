"""What every part of the checker shares: the reporter, the names in reach and the context an
expression is checked in."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from dsl.diagnostics import Diagnostic, Severity, suggest
from dsl.nodes import OptionGroup, PlanDecl, Span
from dsl.symbols import CatalogNames, Scope
from pricing.calendars import DAY_NAMES

__all__ = ["CUSTOMER_TYPES", "Env", "ExprContext", "Reporter", "did_you_mean", "plan_groups"]

CUSTOMER_TYPES = frozenset({"personal", "enterprise"})


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A "did you mean" hint, or None when nothing is close."""
    found = suggest(word, sorted(set(candidates)))
    return f"did you mean `{found}`?" if found else None


class Reporter:
    """Collects the diagnostics of one module into a shared list."""

    def __init__(self, path: str, sink: list[Diagnostic]) -> None:
        self.path = path
        self.sink = sink

    def _add(
        self, severity: Severity, code: str, span: Span, message: str, hint: str | None
    ) -> None:
        self.sink.append(
            Diagnostic(
                severity=severity,
                code=code,
                message=message,
                path=self.path,
                line=span.line,
                column=span.column,
                end_line=span.end_line,
                end_column=span.end_column,
                hint=hint or "",
            )
        )

    def error(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self._add("error", code, span, message, hint)

    def warning(self, code: str, span: Span, message: str, hint: str | None = None) -> None:
        self._add("warning", code, span, message, hint)


@dataclass(frozen=True, slots=True)
class Env:
    """The catalog's names, the whole rule set's declarations and where to report."""

    names: CatalogNames
    scope: Scope
    report: Reporter

    def zone_names(self) -> frozenset[str]:
        found = set(self.names.all_zones())
        for decl in self.scope.zones.values():
            found.update(entry.zone for entry in decl.entries)
        return frozenset(found)

    def band_names(self) -> frozenset[str]:
        return frozenset(b.name for decl in self.scope.bands.values() for b in decl.bands)

    def codes(self, kind: str) -> frozenset[str] | None:
        """The valid codes of a code type (None: not a code type)."""
        table: dict[str, Iterable[str]] = {
            "area": self.names.areas,
            "channel": self.names.channels,
            "segment": self.names.segments,
            "offer": self.names.offers,
            "business": self.names.businesses,
            "customer_type": CUSTOMER_TYPES,
            "weekday": DAY_NAMES,
        }
        if kind == "zone":
            return self.zone_names()
        if kind == "band":
            return self.band_names()
        return frozenset(table[kind]) if kind in table else None

    def plan_of_offer(self, offer: str) -> PlanDecl | None:
        known = self.names.offers.get(offer)
        return self.scope.plans.get(known.plan) if known and known.plan else None


def plan_groups(plan: PlanDecl | None) -> Mapping[str, frozenset[str]] | None:
    """Option groups of a plan and their choices (None when the plan is not known)."""
    if plan is None:
        return None
    return MappingProxyType(
        {
            item.name: frozenset(choice.name for choice in item.choices)
            for item in plan.items
            if isinstance(item, OptionGroup)
        }
    )


@dataclass(frozen=True, slots=True)
class ExprContext:
    """Where an expression stands: the plan's currency ("" = none declared), the option
    groups `item.option.*` may name (None = unknown, anything goes), whether `event.*` and
    `bundle.*` make sense there (None = cannot tell)."""

    currency: str = ""
    option_groups: Mapping[str, frozenset[str]] | None = None
    usage: bool = False
    combo: bool | None = None
