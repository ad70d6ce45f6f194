"""Offer rules to Python source: an expression's `value` (and, for a condition, `test` and
`test_many`), an `eligible` block's `check`, `check_many` and tracing `trace`, written through
the emitter core (`dsl.emitter`).

An `all` block answers the tuple of its failing rules' indexes, a `first` block the deciding
branch's index or -1; the tracing variant records each rule's three-valued outcome and the
values it read, so tracing costs nothing when off. Only `text_literal` of names and labels
and the expression writers' code (`dsl.codegen.Writer`) are emitted.
"""

from __future__ import annotations

from collections.abc import Mapping

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.codegen import Writer
from dsl.codegen_text import text_literal
from dsl.emitter import Function, Line, Module

__all__ = ["conditions", "eligibility_module", "expr_module"]

GENERATOR = "dsl.compiler"
_CONDITIONS = (n.Compare, n.Between, n.In, n.Within, n.Not, n.And, n.Or, n.BoolLit)


def reads(writer: Writer) -> list[str]:
    """The context reads a writer's code needs, as `local = source` lines."""
    return [f"{local} = {source}" for local, source in writer.reads.values()]


def expr_module(expr: n.Expr, attributes: Mapping[str, str], header: str) -> Module:
    """`value(facts, areas)` and, for a condition (or a bool name), `test` and
    `test_many`. Raises CompileError."""
    writer = Writer(attributes)
    value = [Line(0, writer.value_or_none(expr), expr.span, result=True)]
    tester: Writer | None = None
    test: list[Line] = []
    if isinstance(expr, _CONDITIONS) or _is_bool_name(writer, expr):
        tester = Writer(attributes, writer.constants)
        test = [Line(0, tester.truth(expr, True), expr.span, result=True)]
    functions = [Function("value(facts, areas=NO_AREAS)", value, reads(writer))]
    if tester is not None:
        functions += [Function("test(facts, areas=NO_AREAS)", test, reads(tester)),
                      Function("test_many(facts_list, areas=NO_AREAS)", test, reads(tester),
                               batch=True)]  # fmt: skip
    return Module(header, GENERATOR, writer.constants, functions)


def _is_bool_name(writer: Writer, expr: n.Expr) -> bool:
    return isinstance(expr, n.Name) and writer.value(expr).type == "bool"


def conditions(block: n.Eligibility) -> list[tuple[str, n.Expr | None, n.Span]]:
    """Each rule (`all`) or branch (`first`): its name, condition (None: `otherwise`) and
    span, in order."""
    if block.mode == "all":
        return [(rule.name, rule.condition, rule.span) for rule in block.rules]
    return [(ip.branch_name(i), b.condition, b.span) for i, b in enumerate(block.branches)]


def _where(span: n.Span) -> str:
    return f"{int(span.line)}:{int(span.column)}"  # ints: nothing else reaches a comment


def _bodies(block: n.Eligibility, writer: Writer, tracer: Writer) -> tuple[list[Line], list[Line]]:
    """The plain and the tracing bodies of an eligibility block."""
    plain: list[Line] = []
    traced: list[Line] = []
    every = block.mode == "all"
    if every:
        plain.append(Line(0, "failed = ()"))
        traced.append(Line(0, "failed = ()"))
    for index, (name, condition, span) in enumerate(conditions(block)):
        note = f"  # {text_literal(name)} at {_where(span)}"
        if condition is None:  # `otherwise`
            plain.append(Line(0, str(index), span, result=True))
            traced += [Line(0, f"record({index}, True, ())", span),
                       Line(0, str(index), span, result=True)]  # fmt: skip
            return plain, traced
        observed = ", ".join(
            f"({text_literal(label)}, {tracer.value_or_none(node)})"
            for label, node in ip.observed_nodes(condition)
        )
        comma = "," if observed else ""
        traced += [Line(0, f"v = {tracer.three_valued(condition)}{note}", condition.span),
                   Line(0, f"record({index}, v, ({observed}{comma}))")]  # fmt: skip
        if every:
            plain += [Line(0, f"if not {writer.truth(condition, True)}:{note}", condition.span),
                      Line(1, f"failed += ({index},)")]  # fmt: skip
            traced += [Line(0, "if v is not True:"), Line(1, f"failed += ({index},)")]
        else:
            plain += [Line(0, f"if {writer.truth(condition, True)}:{note}", condition.span),
                      Line(1, str(index), span, result=True)]  # fmt: skip
            traced += [Line(0, "if v is True:"), Line(1, str(index), span, result=True)]
    final = Line(0, "failed" if every else "-1", block.span, result=True)
    return [*plain, final], [*traced, final]


def eligibility_module(block: n.Eligibility, attributes: Mapping[str, str], header: str) -> Module:
    """`check(facts, areas)`, `check_many(facts_list, areas)` and `trace(facts, areas,
    record)`. Raises CompileError (with the span of the offending node)."""
    writer = Writer(attributes)
    tracer = Writer(attributes, writer.constants)
    plain, traced = _bodies(block, writer, tracer)
    functions = [Function("check(facts, areas=NO_AREAS)", plain, reads(writer)),
                 Function("check_many(facts_list, areas=NO_AREAS)", plain, reads(writer),
                          batch=True),
                 Function("trace(facts, areas, record)", traced, reads(tracer))]  # fmt: skip
    return Module(header, GENERATOR, writer.constants, functions)
