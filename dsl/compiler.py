"""Compile expressions, eligibility and composition blocks to Python functions.

Each unit becomes one small Python module, written by its kind's writer
(`dsl.codegen_eligibility`, `dsl.codegen_composition`) through the emitter core
(`dsl.emitter`): hoisted constants, then a plain function, a batch function whose loop runs
inside the generated code, and (for eligibility) a separately compiled tracing variant, so
tracing costs nothing when off. `dsl.loader` compiles it once per content key and execs it
into a fresh namespace holding only `dsl.runtime.EXPORTS` and empty builtins; its
`line_spans` map generated lines back to rule spans.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dsl import interpreter as ip
from dsl import loader
from dsl import nodes as n
from dsl.codegen import CompileError
from dsl.codegen_composition import composition_module, describe
from dsl.codegen_eligibility import conditions, eligibility_module, expr_module
from dsl.context import EMPTY, SaleFacts
from dsl.emitter import render
from dsl.loader import Program, load_namespace
from dsl.runtime import Recorder

__all__ = ["CompileError", "CompiledComposition", "CompiledEligibility", "CompiledExpr",
           "canonical", "compile_composition", "compile_eligibility",
           "compile_expr"]  # fmt: skip

Areas = Mapping[str, tuple[str, ...]]


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(obj: n.Node) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(type(obj))
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(obj) if f.name != "span")
        _FIELD_NAMES[type(obj)] = names
    return names


def canonical(obj: object) -> str:
    """The node tree as text without spans: equal trees, equal text."""
    if isinstance(obj, n.Node):
        inner = ",".join([f"{name}={canonical(getattr(obj, name))}" for name in _field_names(obj)])
        return f"{type(obj).__name__}({inner})"
    if isinstance(obj, tuple):
        return "(" + ",".join([canonical(item) for item in obj]) + ",)"
    return repr(obj)


# -- expressions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledExpr:
    """`value(facts)` gives the expression's value (None = unknown); for a condition,
    `test(facts)` and `test_many(list)` say whether it is true."""

    program: Program
    value: Callable[..., object]
    test: Callable[..., bool] | None
    test_many: Callable[..., list[bool]] | None


def compile_expr(
    expr: n.Expr, path: str = "<expr>", attributes: Mapping[str, str] = EMPTY
) -> CompiledExpr:
    """Raises CompileError for unknown names, ill-typed operands and non-literal sets."""
    key = f"expr|{path}|{sorted(attributes.items())}|{canonical(expr)}"

    def build() -> tuple[str, dict[int, n.Span]]:
        return render(expr_module(expr, attributes, f"expression from {path}"))

    program = loader.build_program(key, f"<rule {path}>", build)
    ns = load_namespace(program)
    return CompiledExpr(program, ns["value"], ns.get("test"), ns.get("test_many"))


@dataclass(frozen=True, slots=True)
class CompiledEligibility:
    """`check(facts)` gives, for `all`, the tuple of failing rule indexes (empty =
    qualified) and, for `first`, the deciding branch's index or -1; `check_many(list)` the
    same for many facts; `outcome(...)` the interpreter's `Outcome`."""

    block: n.Eligibility
    program: Program
    check: Callable[..., Any]
    check_many: Callable[..., list[Any]]
    traced: Callable[..., Any] = field(repr=False)

    def outcome(
        self, facts: SaleFacts, env: ip.Env = ip.DEFAULT_ENV, *, trace: bool = False
    ) -> ip.Outcome:
        """Raises EvalError like the interpreter."""
        entries: tuple[ip.TraceEntry, ...] | None = None
        if trace:
            recorder = Recorder()
            result = self.traced(facts, env.areas, recorder)
            rules = conditions(self.block)
            entries = tuple(
                ip.TraceEntry(name, span if cond is None else cond.span, o.outcome, o.observed)
                for o in recorder.observations
                for name, cond, span in (rules[o.position],)
            )
        else:
            result = self.check(facts, env.areas)
        if self.block.mode == "all":
            failures = tuple(self._failure(self.block.rules[i]) for i in result)
            return ip.Outcome(not failures, failures, None, entries)
        if result < 0:
            failure = ip.Failure("first", "no_rule_matched", "no rule matched", self.block.span)
            return ip.Outcome(False, (failure,), None, entries)
        branch = self.block.branches[result]
        if branch.allow:
            return ip.Outcome(True, (), result, entries)
        reason = branch.reason or n.Reason(code="denied", message="")
        failure = ip.Failure(ip.branch_name(result), reason.code, reason.message, branch.span)
        return ip.Outcome(False, (failure,), result, entries)

    @staticmethod
    def _failure(rule: n.Rule) -> ip.Failure:
        if rule.reason is None:
            return ip.Failure(rule.name, rule.name, "", rule.span)
        return ip.Failure(rule.name, rule.reason.code, rule.reason.message, rule.span)

    def span_for_line(self, line: int) -> n.Span | None:
        """The rule span a line of the generated source came from."""
        return self.program.span_for_line(line)


def _tree_key(node: n.Node, unit: str) -> str:
    """What names a unit's tree in its cache key: `unit` when the caller has a content key
    that names this very node (`dsl.parser.key_of` its module, and its place there), else
    the tree's canonical text."""
    return f"unit {unit}" if unit else canonical(node)


def compile_eligibility(
    block: n.Eligibility,
    path: str = "<rules>",
    attributes: Mapping[str, str] = EMPTY,
    offer: str = "",
    unit: str = "",
) -> CompiledEligibility:
    """Raises CompileError (with the span of the offending node). `unit`, when given, names
    `block` exactly (see `_tree_key`)."""
    key = f"eligible|{path}|{offer}|{sorted(attributes.items())}|{_tree_key(block, unit)}"

    def build() -> tuple[str, dict[int, n.Span]]:
        header = f"eligible {block.mode} of {offer or '?'} in {path}"
        return render(eligibility_module(block, attributes, header))

    filename = f"<rule {path}{' ' + offer if offer else ''}>"
    program = loader.build_program(key, filename, build)
    ns = load_namespace(program)
    return CompiledEligibility(block, program, ns["check"], ns["check_many"], ns["trace"])


# -- composition -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CompiledComposition:
    """`check(counts, held, cart)` gives the tuple of the indexes of the broken rules, in rule
    order (empty = the combo is well formed); `failures(...)` the interpreter's answer."""

    block: n.Composition
    program: Program
    check: Callable[..., tuple[int, ...]]

    def failures(
        self,
        counts: Mapping[str, int],
        held: frozenset[str] = frozenset(),
        cart: Mapping[str, int] = EMPTY,
    ) -> list[ip.Failure]:
        """What `interpreter.composition` answers for the same members, held products and
        cart."""
        return self.explain(self.check(counts, held, cart))

    def explain(self, indexes: Sequence[int]) -> list[ip.Failure]:
        """The failures of the rules at `indexes`: label, reason (or default) code, message
        and span, as the interpreter gives them."""
        failures: list[ip.Failure] = []
        for index in indexes:
            rule = self.block.rules[index]
            label, default = describe(rule)
            reason = rule.reason or n.Reason(code=default, message="")
            failures.append(ip.Failure(label, reason.code, reason.message, rule.span))
        return failures

    def span_for_line(self, line: int) -> n.Span | None:
        """The rule span a line of the generated source came from."""
        return self.program.span_for_line(line)


def compile_composition(
    block: n.Composition, path: str = "<rules>", unit: str = ""
) -> CompiledComposition:
    """Raises CompileError for rule nodes that are not what the parser builds (non-string
    codes, non-integer bounds). `unit`, when given, names `block` exactly (`_tree_key`)."""
    key = f"composition|{path}|{_tree_key(block, unit)}"

    def build() -> tuple[str, dict[int, n.Span]]:
        return render(composition_module(block, f"composition in {path}"))

    program = loader.build_program(key, f"<rule {path} composition>", build)
    ns = load_namespace(program)
    return CompiledComposition(block, program, ns["check"])
