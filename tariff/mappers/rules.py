"""RulesService messages <-> rule checking: sources in, diagnostics out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from catalog.model import RuleSource
from catalog.services import Finding
from catalog.versions import DRAFT, Selector
from dsl.diagnostics import Diagnostic
from dsl.nodes import Span
from rules.examples import ExampleResult
from tariff.mappers.common import (
    Problems,
    done_selector,
    rule_sources_from_proto,
    selector_from_proto,
)
from tariff.v1 import common_pb2, qualification_service_pb2, rules_service_pb2

_SEVERITY = {
    "error": common_pb2.SEVERITY_ERROR,
    "warning": common_pb2.SEVERITY_WARNING,
    "info": common_pb2.SEVERITY_INFO,
}


@dataclass(frozen=True, slots=True)
class CheckRequest:
    sources: tuple[RuleSource, ...]
    selector: Selector


def check_request(
    request: rules_service_pb2.CheckRulesRequest | rules_service_pb2.TestRulesRequest,
) -> CheckRequest:
    problems = Problems()
    sources = rule_sources_from_proto(request.sources, "sources", problems)
    seen: set[str] = set()
    for i, source in enumerate(sources):
        if source.path in seen:
            problems.add(f"sources[{i}].path", f"{source.path!r} is given twice")
        seen.add(source.path)
    selector = selector_from_proto(request.selector, "selector", DRAFT, problems)
    return CheckRequest(sources, done_selector(problems, selector))


def finding_to_proto(diagnostic: Finding, text: str) -> common_pb2.Diagnostic:
    """A rule diagnostic with its source line, for display with a caret."""
    lines = text.splitlines()
    line = lines[diagnostic.line - 1] if 1 <= diagnostic.line <= len(lines) else ""
    return common_pb2.Diagnostic(
        severity=_SEVERITY.get(diagnostic.severity, common_pb2.SEVERITY_ERROR),
        code=diagnostic.code,
        message=diagnostic.message,
        location=common_pb2.SourceLocation(
            path=diagnostic.path,
            line=max(diagnostic.line, 0),
            column=max(diagnostic.column, 0),
            end_line=max(diagnostic.end_line, 0),
            end_column=max(diagnostic.end_column, 0),
        ),
        source_line=line,
        hint=diagnostic.hint,
    )


def check_response(
    diagnostics: tuple[Diagnostic, ...], texts: Mapping[str, str]
) -> rules_service_pb2.CheckRulesResponse:
    return rules_service_pb2.CheckRulesResponse(
        ok=not any(d.severity == "error" for d in diagnostics),
        diagnostics=[finding_to_proto(d, texts.get(d.path, "")) for d in diagnostics],
    )


_STATUS = {
    "passed": rules_service_pb2.EXAMPLE_STATUS_PASSED,
    "failed": rules_service_pb2.EXAMPLE_STATUS_FAILED,
    "not_run": rules_service_pb2.EXAMPLE_STATUS_NOT_RUN,
}


def location(path: str, span: Span) -> common_pb2.SourceLocation:
    return common_pb2.SourceLocation(
        path=path,
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
    )


def source_text(text: str, span: Span) -> str:
    """The text a span covers (one line at most: conditions are shown, not whole blocks)."""
    lines = text.splitlines()
    if not 1 <= span.line <= len(lines):
        return ""
    line = lines[span.line - 1]
    end = span.end_column - 1 if span.end_line == span.line else len(line)
    return line[span.column - 1 : end].strip()


def example_to_proto(result: ExampleResult, text: str) -> rules_service_pb2.ExampleResult:
    return rules_service_pb2.ExampleResult(
        name=result.name,
        location=location(result.path, result.span),
        passed=result.status == "passed",
        status=_STATUS[result.status],
        expected=result.expected,
        actual=result.actual,
        trace=[
            qualification_service_pb2.TraceStep(
                rule=common_pb2.RuleRef(name=step.rule, location=location(result.path, step.span)),
                condition=source_text(text, step.span),
                outcome=step.outcome is True,
                observed=[f"{name} = {value}" for name, value in step.observed],
            )
            for step in result.steps
        ],
    )


def test_response(
    results: Sequence[ExampleResult],
    diagnostics: Sequence[Finding],
    texts: Mapping[str, str],
) -> rules_service_pb2.TestRulesResponse:
    errors = [d for d in diagnostics if d.severity == "error"]
    return rules_service_pb2.TestRulesResponse(
        ok=not errors and all(r.status != "failed" for r in results),
        results=[example_to_proto(r, texts.get(r.path, "")) for r in results],
        diagnostics=[finding_to_proto(d, texts.get(d.path, "")) for d in errors],
    )
