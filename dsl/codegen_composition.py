"""Composition blocks to Python source: one loop-free `check(counts, held, cart)`, written
through the emitter core (`dsl.emitter`).

The function answers like `dsl.interpreter.composition`, as the tuple of the indexes of the
broken rules in rule order. Offer codes are hoisted into frozenset constants; the offers that
`requires`, `excludes` and `add-on` bases look at get one `if` each that adds them to `present`
when they have lines in the combo or the cart (the held products come in by intersection with
every code the block names), so each rule is a single test: a sum of `counts.get` over its
offers against its bounds, `<=` (all present), `&` (none present) or bought-implies-a-base.
Only `repr()` of validated ints and `text_literal` of strings is ever emitted.
"""

from __future__ import annotations

from dsl import nodes as n
from dsl.codegen import CompileError, python_constant
from dsl.codegen_text import text_literal
from dsl.emitter import Function, Line, Module


def describe(rule: n.CompositionRule) -> tuple[str, str]:
    """The rule's label and default reason code, as the interpreter names them."""
    match rule:
        case n.MemberRule(offers=offers, group=group):
            return group or ",".join(offers), "cardinality"
        case n.RequiresRule(offers=offers):
            return "requires " + ",".join(offers), "requires"
        case n.ExcludesRule(offers=offers):
            return "excludes " + ",".join(offers), "excludes"
        case n.AddOnRule(addon=addon):
            return "add-on " + addon, "addon_without_base"
    raise CompileError(f"unknown composition rule {type(rule).__name__}", rule.span)


def _code(value: object, span: n.Span) -> str:
    if not isinstance(value, str):
        raise CompileError(f"offer code {value!r} is not a string", span)
    return text_literal(value)


def _bound(value: object, span: n.Span) -> str:
    if type(value) is not int:
        raise CompileError(f"cardinality {value!r} is not a whole number", span)
    return repr(value)


class CompositionWriter:
    """Writes one composition block; collects its constants (source -> name)."""

    def __init__(self) -> None:
        self.constants: dict[str, str] = {}

    def constant(self, codes: frozenset[str]) -> str:
        source = python_constant(codes)
        return self.constants.setdefault(source, f"K{len(self.constants)}")

    def bought(self, code: str, span: n.Span) -> str:
        literal = _code(code, span)
        return f"counts.get({literal}, 0) > 0 or cart.get({literal}, 0) > 0"

    def test(self, rule: n.CompositionRule) -> str:
        """Python source true exactly when the rule is broken."""
        span = rule.span
        match rule:
            case n.MemberRule(cardinality=card, offers=offers):
                terms = [f"counts.get({_code(o, span)}, 0)" for o in offers]
                total = " + ".join(terms) if terms else "0"
                low = _bound(card.low, card.span)
                if card.high is None:
                    return f"not {low} <= {total}"
                return f"not {low} <= {total} <= {_bound(card.high, card.span)}"
            case n.RequiresRule(offers=offers):
                return f"not {self.codes(offers, span)} <= present"
            case n.ExcludesRule(offers=offers):
                return f"{self.codes(offers, span)} & present"
            case n.AddOnRule(addon=addon, bases=bases):
                bases_set = self.codes(bases, span)
                return f"({self.bought(addon, span)}) and not {bases_set} & present"
        raise CompileError(f"unknown composition rule {type(rule).__name__}", span)

    def codes(self, offers: tuple[str, ...], span: n.Span) -> str:
        for offer in offers:
            _code(offer, span)
        return self.constant(frozenset(offers))


def watched(block: n.Composition) -> list[tuple[str, n.Span]]:
    """The offers whose presence some rule asks about, first mention first."""
    seen: dict[str, n.Span] = {}
    for rule in block.rules:
        match rule:
            case n.RequiresRule(offers=offers) | n.ExcludesRule(offers=offers):
                codes = offers
            case n.AddOnRule(bases=bases):
                codes = bases
            case _:
                codes = ()
        for code in codes:
            _code(code, rule.span)
            seen.setdefault(code, rule.span)
    return list(seen.items())


def composition_module(block: n.Composition, header: str) -> Module:
    """The module of `check(counts, held, cart)`, each test line with its rule's span.
    Raises CompileError for rule nodes that are not what the parser builds."""
    writer = CompositionWriter()
    body: list[Line] = []
    presence = watched(block)
    if presence:
        every = writer.constant(frozenset(code for code, _ in presence))
        body.append(Line(0, f"present = {every} & held"))
        for code, where in presence:
            single = writer.constant(frozenset((code,)))
            body += [Line(0, f"if {writer.bought(code, where)}:", where),
                     Line(1, f"present = present | {single}")]  # fmt: skip
    body.append(Line(0, "failed = ()"))
    for index, rule in enumerate(block.rules):
        broken = writer.test(rule)  # validates the rule's codes and bounds first
        label, _ = describe(rule)
        at = f"{int(rule.span.line)}:{int(rule.span.column)}"
        body += [Line(0, f"if {broken}:  # {text_literal(label)} at {at}", rule.span),
                 Line(1, f"failed += ({index},)")]  # fmt: skip
    body.append(Line(0, "return failed", block.span))
    check = Function("check(counts, held, cart)", body)
    return Module(header, "dsl.compiler", writer.constants, [check])
