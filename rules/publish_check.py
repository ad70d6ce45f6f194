"""What a publish must pass: the full rule check and every example of the catalog.

An example that fails (or cannot run) is an error like a rule error: the publish is refused
with every finding listed, and the store stays as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog.content import CatalogContent
from dsl.diagnostics import Diagnostic
from rules.checking import checked_catalog
from rules.collector import collector_paused
from rules.examples import run_examples
from rules.names import names_from_content, zone_lookups


@dataclass(frozen=True, slots=True)
class FailedExample:
    """A failing example as a finding (the fields `catalog.services.Finding` reads)."""

    name: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    expected: str
    actual: str
    severity: str = "error"
    code: str = "example-failed"
    hint: str = "run `tariff test` on the catalog to see its trace"

    @property
    def message(self) -> str:
        wanted = f"expected {self.expected}, " if self.expected else ""
        return f"example {self.name!r} failed: {wanted}got {self.actual}"


def publish_findings(content: CatalogContent) -> tuple[Diagnostic | FailedExample, ...]:
    """Every diagnostic of the catalog's rules and, when they compile, every example that
    does not pass."""
    with collector_paused():
        result = checked_catalog(content)
    if not result.ok:
        return tuple(result.diagnostics)
    results = run_examples(
        list(result.modules), names_from_content(content), None, zone_lookups(content)
    )
    failed = tuple(
        FailedExample(
            r.name,
            r.path,
            r.span.line,
            r.span.column,
            r.span.end_line,
            r.span.end_column,
            r.expected,
            r.actual,
        )
        for r in results
        if r.status != "passed"
    )
    return (*result.diagnostics, *failed)
