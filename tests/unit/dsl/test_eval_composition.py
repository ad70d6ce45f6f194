"""Composition blocks compiled to one loop-free function, checked against the interpreter:
table-driven cases written as Tariff source, a property over random rule nodes, and what the
generated code can and cannot reach."""

from __future__ import annotations

import ast
import linecache
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl import interpreter as ip
from dsl import nodes as n
from dsl import runtime
from dsl.compiler import CompileError, compile_composition
from dsl.context import EMPTY
from dsl.parser import parse

PATH = "products/family.tariff"
NOTHING: frozenset[str] = frozenset()


def block(body: str) -> n.Composition:
    decl = parse("offer x {\n  composition {\n" + body + "\n  }\n}\n", PATH).declarations[0]
    assert isinstance(decl, n.OfferDecl)
    assert decl.composition is not None
    return decl.composition


def both(
    rules: n.Composition,
    counts: Mapping[str, int],
    held: frozenset[str] = NOTHING,
    cart: Mapping[str, int] = EMPTY,
) -> list[ip.Failure]:
    """The interpreter's failures, checked against the compiled ones."""
    expected = ip.composition(rules, counts, held, cart)
    compiled = compile_composition(rules, PATH)
    indexes = compiled.check(counts, held, cart)
    assert isinstance(indexes, tuple)
    assert list(indexes) == sorted(indexes)
    assert compiled.failures(counts, held, cart) == expected
    assert compiled.explain(indexes) == expected
    return expected


Case = tuple[str, dict[str, int], frozenset[str], dict[str, int], list[str]]

CASES: list[Case] = [
    # exactly
    ("exactly 2 a", {"a": 2}, NOTHING, {}, []),
    ("exactly 2 a", {"a": 1}, NOTHING, {}, ["cardinality"]),
    ("exactly 2 a", {"a": 3}, NOTHING, {}, ["cardinality"]),
    ("exactly 0 a", {}, NOTHING, {}, []),
    ("exactly 1 a", {"a": 0}, NOTHING, {"a": 1}, ["cardinality"]),  # the cart is no member
    # at least (unbounded)
    ("at least 1 a", {"a": 9}, NOTHING, {}, []),
    ("at least 1 a", {}, NOTHING, {}, ["cardinality"]),
    ("at least 0 a", {}, NOTHING, {}, []),
    # at most
    ("at most 2 a", {}, NOTHING, {}, []),
    ("at most 2 a", {"a": 2}, NOTHING, {}, []),
    ("at most 2 a", {"a": 3}, NOTHING, {}, ["cardinality"]),
    # ranges
    ("1..3 a", {"a": 1}, NOTHING, {}, []),
    ("1..3 a", {"a": 3}, NOTHING, {}, []),
    ("1..3 a", {"a": 0}, NOTHING, {}, ["cardinality"]),
    ("1..3 a", {"a": 4}, NOTHING, {}, ["cardinality"]),
    ('1..3 a else "lines" "1 to 3 lines"', {"a": 4}, NOTHING, {}, ["lines"]),
    # choice groups over several offers
    ("at most 2 of {a, b, c} as extras", {"a": 1, "c": 1}, NOTHING, {}, []),
    ("at most 2 of {a, b, c} as extras", {"a": 1, "b": 1, "c": 1}, NOTHING, {}, ["cardinality"]),
    ("exactly 1 of {a, b}", {"b": 1}, NOTHING, {}, []),
    ("exactly 1 of {a, b}", {"a": 1, "b": 1}, NOTHING, {}, ["cardinality"]),
    ('at least 2 of {a, b} else "few" "two at least"', {"a": 1}, NOTHING, {}, ["few"]),
    # requires: in the combo, the cart or held
    ("requires a, b", {"a": 1, "b": 1}, NOTHING, {}, []),
    ("requires a, b", {"a": 1}, NOTHING, {"b": 2}, []),
    ("requires a, b", {"a": 1}, frozenset({"b"}), {}, []),
    ("requires a, b", {"a": 1, "b": 0}, NOTHING, {"b": 0}, ["requires"]),
    ("requires a, b", {}, frozenset({"z"}), {}, ["requires"]),
    ('requires a else "need_a" "a first"', {}, NOTHING, {}, ["need_a"]),
    # excludes: against the combo, the cart and held
    ("excludes a, b", {"c": 1}, NOTHING, {}, []),
    ("excludes a, b", {"a": 0}, NOTHING, {"b": 0}, []),
    ("excludes a, b", {"b": 1}, NOTHING, {}, ["excludes"]),
    ("excludes a, b", {}, NOTHING, {"a": 1}, ["excludes"]),
    ("excludes a, b", {}, frozenset({"b"}), {}, ["excludes"]),
    ('excludes a else "campus" "no campus card"', {}, frozenset({"a"}), {}, ["campus"]),
    # add-on with and without a base
    ("add-on x only with a, b", {}, NOTHING, {}, []),
    ("add-on x only with a, b", {"x": 1, "b": 1}, NOTHING, {}, []),
    ("add-on x only with a, b", {"x": 1}, frozenset({"a"}), {}, []),
    ("add-on x only with a, b", {}, NOTHING, {"x": 1, "a": 1}, []),
    ("add-on x only with a, b", {"x": 1}, NOTHING, {}, ["addon_without_base"]),
    ("add-on x only with a, b", {}, NOTHING, {"x": 2}, ["addon_without_base"]),
    ("add-on x only with a, b", {"x": 1, "a": 0}, frozenset({"x"}), {}, ["addon_without_base"]),
    ("add-on x only with a", {}, frozenset({"x"}), {}, []),  # held is not bought
    ('add-on x only with a else "base" "needs a"', {"x": 1}, NOTHING, {}, ["base"]),
]

FAMILY = """
    exactly 1 fixed_line_basic
    1..3 mobile_basic          else "lines" "亲情1+ 可含 1 至 3 条手机线"
    at most 2 of {caller_id_addon, ring_tone} as extras
    requires broadband_basic
    excludes qh_campus_card    else "campus" "校园卡不能加入亲情1+"
    add-on caller_id_addon only with mobile_basic, fixed_line_basic"""

GOOD = {"fixed_line_basic": 1, "mobile_basic": 2, "broadband_basic": 1}
FAMILY_CASES: list[tuple[dict[str, int], frozenset[str], dict[str, int], list[str]]] = [
    (GOOD, NOTHING, {}, []),
    ({**GOOD, "mobile_basic": 4}, NOTHING, {}, ["lines"]),
    ({**GOOD, "fixed_line_basic": 0}, NOTHING, {}, ["cardinality"]),
    ({**GOOD, "caller_id_addon": 2, "ring_tone": 1}, NOTHING, {}, ["cardinality"]),
    ({"fixed_line_basic": 1, "mobile_basic": 1}, frozenset({"broadband_basic"}), {}, []),
    ({"fixed_line_basic": 1, "mobile_basic": 1}, NOTHING, {"broadband_basic": 1}, []),
    ({"fixed_line_basic": 1, "mobile_basic": 1}, NOTHING, {}, ["requires"]),
    (GOOD, frozenset({"qh_campus_card"}), {}, ["campus"]),
    (GOOD, NOTHING, {"qh_campus_card": 1}, ["campus"]),
    ({"caller_id_addon": 1, "broadband_basic": 1}, NOTHING, {},
     ["cardinality", "lines", "addon_without_base"]),
]  # fmt: skip


@pytest.mark.parametrize(("body", "counts", "held", "cart", "codes"), CASES)
def test_single_rules(
    body: str, counts: dict[str, int], held: frozenset[str], cart: dict[str, int], codes: list[str]
) -> None:
    assert [f.code for f in both(block(body), counts, held, cart)] == codes


@pytest.mark.parametrize(("counts", "held", "cart", "codes"), FAMILY_CASES)
def test_family_bundle(
    counts: dict[str, int], held: frozenset[str], cart: dict[str, int], codes: list[str]
) -> None:
    assert [f.code for f in both(block(FAMILY), counts, held, cart)] == codes


def test_failures_carry_label_message_and_span() -> None:
    counts = {"caller_id_addon": 3, "mobile_basic": 5}
    failures = both(block(FAMILY), counts, frozenset({"qh_campus_card"}))
    assert [(f.rule, f.code, f.message, f.span.line) for f in failures] == [
        ("fixed_line_basic", "cardinality", "", 4),
        ("mobile_basic", "lines", "亲情1+ 可含 1 至 3 条手机线", 5),
        ("extras", "cardinality", "", 6),
        ("requires broadband_basic", "requires", "", 7),
        ("excludes qh_campus_card", "campus", "校园卡不能加入亲情1+", 8),
    ]


def test_labels_of_unnamed_groups_and_rules() -> None:
    rules = block("exactly 1 of {a, b}\nrequires a, b\nexcludes c, d\nadd-on x only with a")
    failures = both(rules, {"x": 1, "c": 1})
    assert [f.rule for f in failures] == ["a,b", "requires a,b", "excludes c,d", "add-on x"]


# -- property: random blocks, random members ---------------------------------------------------

POOL = ["a", "b", "c", "d"]
codes = st.sampled_from(POOL)
offer_lists = st.lists(codes, min_size=1, max_size=3).map(tuple)
reasons = st.one_of(
    st.none(),
    st.builds(n.Reason, code=st.sampled_from(["r1", "r2"]), message=st.sampled_from(["", "m"])),
)


@st.composite
def cardinalities(draw: st.DrawFn) -> n.Cardinality:
    low = draw(st.integers(min_value=0, max_value=4))
    high = draw(st.one_of(st.none(), st.integers(min_value=low, max_value=low + 3)))
    return n.Cardinality(low=low, high=high)


rules: st.SearchStrategy[n.CompositionRule] = st.one_of(
    st.builds(
        n.MemberRule,
        cardinality=cardinalities(),
        offers=offer_lists,
        group=st.sampled_from(["", "extras"]),
        reason=reasons,
    ),
    st.builds(n.RequiresRule, offers=offer_lists, reason=reasons),
    st.builds(n.ExcludesRule, offers=offer_lists, reason=reasons),
    st.builds(n.AddOnRule, addon=codes, bases=offer_lists, reason=reasons),
)
blocks = st.lists(rules, min_size=1, max_size=6).map(lambda rs: n.Composition(rules=tuple(rs)))
line_counts = st.dictionaries(st.sampled_from([*POOL, "z"]), st.integers(0, 4), max_size=5)
held_sets = st.frozensets(st.sampled_from([*POOL, "z"]), max_size=3)


@settings(max_examples=400, deadline=None)
@given(blocks, line_counts, held_sets, line_counts)
def test_compiled_agrees_with_interpreter(
    rules: n.Composition, counts: dict[str, int], held: frozenset[str], cart: dict[str, int]
) -> None:
    expected = ip.composition(rules, counts, held, cart)
    compiled = compile_composition(rules, "random.tariff")
    got = compiled.failures(counts, held, cart)
    assert [(f.rule, f.code) for f in got] == [(f.rule, f.code) for f in expected]
    assert got == expected


# -- generated code: caching, filenames, security ----------------------------------------------


def test_compiled_once_per_content() -> None:
    first = compile_composition(block(FAMILY), PATH)
    again = compile_composition(block("\n\n" + FAMILY), PATH)  # other spans
    assert first.program is again.program
    assert first.check is not again.check  # a fresh namespace every time
    assert first.program.filename.startswith(f"<rule {PATH} composition")
    assert linecache.getlines(first.program.filename) == first.program.source.splitlines(True)


def test_lines_map_back_to_rules() -> None:
    rules = block(FAMILY)
    compiled = compile_composition(rules, PATH)
    lines = compiled.program.source.splitlines()
    for rule in rules.rules:
        number = next(
            i
            for i, line in enumerate(lines, 1)
            if f"at {rule.span.line}:{rule.span.column}" in line
        )
        assert compiled.span_for_line(number) == rule.span


ALLOWED = frozenset({"counts", "held", "cart", "present", "failed"})


def test_generated_code_has_no_loops_and_sees_no_builtins() -> None:
    compiled = compile_composition(block(FAMILY), PATH)
    tree = ast.parse(compiled.program.source)
    loops = (ast.For, ast.While, ast.comprehension, ast.Lambda, ast.AsyncFor)
    assert not [node for node in ast.walk(tree) if isinstance(node, loops)]
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert [f.name for f in functions] == ["check"]
    constants = {t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets
                 if isinstance(t, ast.Name)}  # fmt: skip
    names = {node.id for node in ast.walk(functions[0]) if isinstance(node, ast.Name)}
    assert names <= ALLOWED | constants
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else ast.unparse(node.func)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    assert calls <= {"get", "frozenset"}
    namespace = compiled.check.__globals__
    assert namespace["__builtins__"] == {}
    assert set(namespace) == {*runtime.EXPORTS, "__builtins__", "check", *constants}


def test_codes_holding_python_stay_strings() -> None:
    evil = "__import__('os').system('true')\nimport os"
    rules = n.Composition(
        rules=(
            n.RequiresRule(offers=(evil,)),
            n.MemberRule(cardinality=n.Cardinality(low=1, high=None), offers=(evil,), group=evil),
        )
    )
    compiled = compile_composition(rules, PATH)
    assert "\nimport os" not in compiled.program.source
    assert compiled.check({evil: 1}, NOTHING, {}) == ()
    assert compiled.check({}, NOTHING, {}) == (0, 1)
    assert compiled.failures({}) == ip.composition(rules, {})


@pytest.mark.parametrize(
    "rule",
    [
        n.RequiresRule(offers=(1,)),  # type: ignore[arg-type]
        n.AddOnRule(addon=None, bases=("a",)),  # type: ignore[arg-type]
        n.MemberRule(cardinality=n.Cardinality(low="1 or __import__", high=None), offers=("a",)),  # type: ignore[arg-type]
        n.MemberRule(cardinality=n.Cardinality(low=0, high=True), offers=("a",)),
    ],
)
def test_nodes_the_parser_never_builds_do_not_compile(rule: n.CompositionRule) -> None:
    with pytest.raises(CompileError):
        compile_composition(n.Composition(rules=(rule,)), PATH)
