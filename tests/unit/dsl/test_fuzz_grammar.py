"""Fuzzing the front end with the grammar itself: hypothesis `from_lark` writes text that
dsl/grammar.lark derives. Whatever of it the parser accepts (the rest must be refused with
DslError, see test_syntax_errors.py) the checker checks without raising, and whatever checks
without an error compiles: eligibility, composition, prices and usage. Any other exception
is a bug.
"""

from __future__ import annotations

import functools

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark
from lark import Lark
from lark.lexer import PatternStr

from dsl import nodes as n
from dsl.checker import check
from dsl.compile_prices import compile_plan
from dsl.compile_usage import compile_usage
from dsl.compiler import compile_composition, compile_eligibility
from dsl.diagnostics import DslError
from dsl.parser import GRAMMAR, parse
from dsl.symbols import Scope
from pricing.zones import ZoneTable
from tests.support.fuzz import fuzz_settings
from tests.unit.dsl.test_checker_helpers import CATALOG

#: Names the catalog and the context know, so some generated rules mean something.
WORDS = [
    "customer", "age", "vip_level", "segments", "tenure", "products", "cart", "count",
    "channel", "area", "item", "option", "quantity", "bundle", "lines", "time", "date",
    "weekday", "event", "roaming", "origin", "youth_plan", "vip_plan", "mobile_basic",
    "family_bundle", "broadband_100m", "ring_tone", "payment", "monthly", "yearly_prepay",
    "hall", "web", "sms", "GD", "GD_SZ", "CN", "vip", "student", "local_voice", "mobile_data",
    "cn_zones", "local", "peak", "rent", "x",
]  # fmt: skip
ZONES = {"cn_zones": ZoneTable([("0755", "local"), ("010", "domestic_ld"), ("0044", "intl")])}


@functools.cache
def grammar_text() -> st.SearchStrategy[str]:
    """Text the grammar derives. Each terminal is followed by a space, so two keywords or
    names drawn side by side stay two tokens; NAME is often a known word."""
    grammar = Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="contextual")
    explicit: dict[str, st.SearchStrategy[str]] = {}
    for terminal in grammar.terminals:
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr):
            base: st.SearchStrategy[str] = st.just(pattern.value)
        else:
            base = st.from_regex(pattern.to_regexp(), fullmatch=True)
        if terminal.name == "NAME":
            base = st.one_of(st.sampled_from(WORDS), base)
        explicit[terminal.name] = base.map(lambda token: token + " ")
    return from_lark(grammar, explicit=explicit)


def compile_all(module: n.Module) -> None:
    scope = Scope.merge([module])
    attributes = {name: decl.type for name, decl in scope.attributes.items()}
    for decl in module.declarations:
        if isinstance(decl, n.OfferDecl):
            if decl.eligibility is not None:
                compile_eligibility(decl.eligibility, module.path, attributes, decl.code)
            if decl.composition is not None:
                compile_composition(decl.composition, module.path)
        elif isinstance(decl, n.PlanDecl):
            compile_plan(decl, module.path, attributes)
            compile_usage(decl, scope, ZONES, module.path)


@fuzz_settings(400)
@given(st.deferred(lambda: grammar_text()))
def test_text_of_the_grammar_parses_checks_and_compiles_without_crashing(text: str) -> None:
    try:
        module = parse(text, "fuzz.tariff")
    except DslError:
        return  # refused with diagnostics: test_syntax_errors.py checks what they say
    found = check([module], CATALOG)
    assert all(d.path == "fuzz.tariff" and d.line >= 1 and d.column >= 1 for d in found)
    if not any(d.severity == "error" for d in found):
        compile_all(module)
