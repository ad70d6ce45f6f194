"""Every name and string that reaches generated Python source goes through one escaping
function (`dsl.codegen_text.text_literal`), in code and in comments alike.

The checker's name rules keep line breaks and quotes out of names today; these tests bypass
it: they parse rules written with placeholder names, then put text full of quotes,
backslashes and every character Python or `str.splitlines` breaks a line at into the tree
(names, codes, strings, offer, plan, path, attribute and option names), compile it through
every emitter (eligibility, expressions, composition, prices, usage) and check that the
source still has exactly its own lines and does what the interpreter does with the same tree.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl import eval_prices
from dsl import interpreter as ip
from dsl import nodes as n
from dsl.codegen_text import text_literal
from dsl.compile_prices import compile_plan
from dsl.compile_usage import compile_usage
from dsl.compiler import CompileError, compile_composition, compile_eligibility, compile_expr
from dsl.context import CustomerFacts, ItemFacts, SaleFacts
from dsl.eval_usage import Counters, UsageEvent, rate
from dsl.parser import parse
from dsl.symbols import Scope
from tests.support.fuzz import fuzz_settings
from tests.unit.dsl.test_eval_support import AREAS, ENV, name

#: Every line break of Python (CR, LF) and of `str.splitlines` (VT, FF, FS, GS, RS, NEL,
#: LINE SEPARATOR, PARAGRAPH SEPARATOR), quotes, a backslash and a would-be comment or code.
BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
NASTY = "a\rfailed = (0,)\n\"b'\\c\\'\u2028d\u2029e\x85f\x0bg\x0ch\x1ci\x1dj\x1ek\r\n# )亲"

T = TypeVar("T")
CST = timezone(timedelta(hours=8))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=CST)


def nasty(placeholder: str) -> str:
    """A distinct nasty text per placeholder, so codes stay distinct."""
    return f"{placeholder.removeprefix('zz_')}{NASTY}"


def rename(tree: T, names: Mapping[str, str]) -> T:
    """`tree` with every string equal to a key of `names` replaced (spans kept)."""

    def walk(obj: Any) -> Any:
        if isinstance(obj, str):
            return names.get(obj, obj)
        if isinstance(obj, tuple):
            return tuple(walk(item) for item in obj)
        if isinstance(obj, n.Node):
            fields = (f.name for f in dataclasses.fields(obj) if f.init and f.name != "span")
            return dataclasses.replace(obj, **{name: walk(getattr(obj, name)) for name in fields})
        return obj

    renamed: T = walk(tree)
    return renamed


def placeholders(*words: str) -> dict[str, str]:
    return {word: nasty(word) for word in words}


def assert_clean(source: str, *texts: str) -> None:
    """The source has only its own `\\n` lines (no comment or literal ended early, line
    tables intact), compiles, and shows each text escaped (alone, or inside a comment's
    literal)."""
    assert source.splitlines() == source.split("\n")[:-1]
    assert not set(source) & set(BREAKS.replace("\n", ""))
    compile(source, "<test>", "exec")
    for text in texts:
        assert text_literal(text)[1:-1] in source, text


def test_the_escaping_function_writes_a_literal_of_exactly_the_text() -> None:
    literal = text_literal(NASTY)
    assert ast.literal_eval(literal) == NASTY
    assert len(literal.splitlines()) == 1
    assert not set(literal) & set(BREAKS)

    class Sneaky(str):
        def __repr__(self) -> str:
            return "'\nimport os'"

    assert text_literal(Sneaky("x")) == "'x'"


@fuzz_settings(200)
@given(st.text())
def test_any_text_is_one_line_of_itself(text: str) -> None:
    literal = text_literal(text)
    assert ast.literal_eval(literal) == text
    assert literal.splitlines() == [literal]
    assert not set(literal) & set(BREAKS)


@pytest.mark.parametrize(
    "expr",
    [
        n.Compare(op=cast(n.CompareOp, "> 0 or True or"), left=n.IntLit(value=1), right=name("x")),
        n.Compare(op=cast(n.CompareOp, "\r=="), left=n.IntLit(value=1), right=n.IntLit(value=1)),
        n.Compare(
            op=">",
            left=n.Arith(
                op=cast(n.ArithOp, ""), left=name("customer.age"), right=n.IntLit(value=1)
            ),
            right=n.IntLit(value=1),
        ),
    ],
)
def test_an_operator_not_of_the_language_is_refused(expr: n.Expr) -> None:
    with pytest.raises(CompileError, match="unknown"):
        compile_expr(expr)


# -- eligibility and expressions ---------------------------------------------------------------

ELIGIBILITY = """
offer zz_offer {
  eligible all {
    zz_rule1: customer.zz_attr > 1 and channel in {zz_code, hall}
    zz_rule2: customer.credit_class == "zz_string" or item.option.zz_group == "zz_choice"
    zz_rule3: cart.count(zz_code2) > 0 and "zz_segment" in customer.segments
  }
}

offer zz_offer2 {
  eligible first {
    when customer.zz_attr > 3: deny "zz_reason" "zz_message"
    when area within zz_area: allow
    otherwise: deny
  }
}
"""

WORDS = ("zz_offer", "zz_offer2", "zz_rule1", "zz_rule2", "zz_rule3", "zz_attr", "zz_code",
         "zz_string", "zz_group", "zz_choice", "zz_code2", "zz_segment", "zz_reason",
         "zz_message", "zz_area")  # fmt: skip


def sales(names: Mapping[str, str]) -> list[SaleFacts]:
    """Facts naming the nasty codes, for each rule to pass and to fail."""
    attr, area = names["zz_attr"], names["zz_area"]
    areas = {**AREAS, area: (area, "CN")}
    found: list[SaleFacts] = []
    for value in (None, 0, 2, 5):
        for hit in (False, True):
            customer = CustomerFacts(
                attributes={} if value is None else {attr: value},
                credit_class=names["zz_string"] if hit else "A",
                segments=frozenset({names["zz_segment"]} if hit else ()),
            )
            item = ItemFacts(offer="x", quantity=1, options={names["zz_group"]: names["zz_choice"]})
            found.append(
                SaleFacts(
                    customer=customer,
                    area=area if hit else "GD",
                    area_lineage=areas[area if hit else "GD"],
                    channel=names["zz_code"] if hit else "web",
                    time=MONDAY_10,
                    cart={names["zz_code2"]: 1} if hit else {},
                    item=item if not hit else None,
                )
            )
    return found


def test_names_in_eligibility_reach_the_source_escaped_and_mean_themselves() -> None:
    names = placeholders(*WORDS)
    decls = rename(parse(ELIGIBILITY, "t.tariff").declarations, names)
    path = nasty("path.tariff")
    attributes = {f"customer.{names['zz_attr']}": "int"}
    area = names["zz_area"]
    env = ip.Env(areas={**AREAS, area: (area, "CN")})
    blocks: list[n.Eligibility] = []
    for decl in decls:
        assert isinstance(decl, n.OfferDecl)
        assert decl.eligibility is not None
        block = decl.eligibility
        blocks.append(block)
        compiled = compile_eligibility(block, path, attributes, decl.code)
        texts = [decl.code, path] + [r.name for r in block.rules]
        assert_clean(compiled.program.source, *texts)
        for sale in sales(names):
            for trace in (False, True):
                want = ip.eligibility(block, sale, env, trace=trace)
                assert compiled.outcome(sale, env, trace=trace) == want
    expr = blocks[0].rules[0].condition
    compiled_expr = compile_expr(expr, path, attributes)
    assert_clean(compiled_expr.program.source, path, names["zz_attr"], names["zz_code"])
    assert [compiled_expr.value(s, env.areas) for s in sales(names)] == [
        ip.evaluate(expr, s, env) for s in sales(names)
    ]


# -- composition -------------------------------------------------------------------------------

COMPOSITION = """
offer zz_combo {
  composition {
    exactly 1 zz_a
    at most 1 of {zz_b, zz_c} as zz_label
    requires zz_b
    excludes zz_c else "zz_reason" "zz_message"
    add-on zz_addon only with zz_a
  }
}
"""


def test_names_in_composition_reach_the_source_escaped_and_mean_themselves() -> None:
    names = placeholders("zz_combo", "zz_a", "zz_b", "zz_c", "zz_label", "zz_reason",
                         "zz_message", "zz_addon")  # fmt: skip
    [decl] = rename(parse(COMPOSITION, "t.tariff").declarations, names)
    assert isinstance(decl, n.OfferDecl)
    block = decl.composition
    assert block is not None
    path = nasty("path.tariff")
    compiled = compile_composition(block, path)
    codes = [names[w] for w in ("zz_a", "zz_b", "zz_c", "zz_addon")]
    assert_clean(compiled.program.source, path, names["zz_label"], *codes)
    a, b, c, addon = codes
    for counts in ({}, {a: 1}, {a: 2, b: 1}, {b: 1, c: 1}, {addon: 1}, {a: 1, addon: 1}):
        for held in (frozenset(), frozenset({b})):
            for cart in ({}, {c: 1}):
                want = ip.composition(block, counts, held, cart)
                assert compiled.failures(counts, held, cart) == want


# -- prices ------------------------------------------------------------------------------------

PLAN = """
plan zz_plan {
  currency CNY
  price zz_rent: recurring 10.00 per month when customer.zz_attr > 1
  option zz_group default zz_choice1 {
    zz_choice1: price zz_fee1: one_time 5.00
    zz_choice2: price zz_fee2: one_time 7.00
  }
  discount zz_discount: 10% on zz_rent when item.option.zz_group == "zz_choice2"
  cap zz_cap: zz_fee2 at 6.00
}
"""


def test_names_in_prices_reach_the_source_escaped_and_mean_themselves() -> None:
    names = placeholders("zz_plan", "zz_rent", "zz_attr", "zz_group", "zz_choice1",
                         "zz_choice2", "zz_fee1", "zz_fee2", "zz_discount", "zz_cap")  # fmt: skip
    [decl] = rename(parse(PLAN, "t.tariff").declarations, names)
    assert isinstance(decl, n.PlanDecl)
    path = nasty("path.tariff")
    attributes = {f"customer.{names['zz_attr']}": "int"}
    compiled = compile_plan(decl, path, attributes)
    texts = [names[w] for w in ("zz_plan", "zz_rent", "zz_group", "zz_choice1", "zz_discount")]
    assert_clean(compiled.source, *texts)
    for value in (None, 0, 2):
        customer = CustomerFacts(attributes={} if value is None else {names["zz_attr"]: value})
        sale = SaleFacts(customer=customer, area="GD", area_lineage=AREAS["GD"],
                         channel="hall", time=MONDAY_10)  # fmt: skip
        for options in ((), ((names["zz_group"], names["zz_choice2"]),)):
            line = n.CartLine(offer="x", options=options)
            want = eval_prices.price_line(decl, line, sale, env=ENV)
            assert compiled.price_line(line, sale, env=ENV) == want
    weird = cast(n.AlterationKind, NASTY)  # a tree built by a tool
    odd = [dataclasses.replace(i, kind=weird) if isinstance(i, n.Alteration) else i
           for i in decl.items]  # fmt: skip
    odd_plan = dataclasses.replace(decl, items=tuple(odd))
    assert_clean(compile_plan(odd_plan, path, attributes).source, NASTY)


# -- usage -------------------------------------------------------------------------------------

USAGE = """
attribute event.zz_event: bool

zones zz_zones {
  "0755": zz_local
  "07": zz_province
  "00": zz_prefix_x
}

plan zz_plan {
  currency CNY
  usage zz_voice {
    zones zz_zones
    rate zz_local *: 0.10 per minute when event.zz_event
    rate zz_local *: 0.20 per minute
    rate zz_prefix_* *: 0.30 per minute
    rate * *: 1.00 per minute
    allowance zz_allowance: 10 minutes per month on zz_local, zz_prefix_*
  }
}
"""


def test_names_in_usage_reach_the_source_escaped_and_mean_themselves() -> None:
    words = ("zz_event", "zz_zones", "zz_local", "zz_province", "zz_plan", "zz_voice",
             "zz_allowance")  # fmt: skip
    prefix = nasty("zz_prefix_")
    names = {**placeholders(*words), "zz_prefix_x": prefix + "x", "zz_prefix_*": prefix + "*"}
    module = rename(parse(USAGE, "t.tariff"), names)
    scope = Scope.of(module)
    plan = scope.plans[names["zz_plan"]]
    path = nasty("path.tariff")
    compiled = compile_usage(plan, scope, {}, path)
    texts = [names[w] for w in ("zz_plan", "zz_voice", "zz_allowance", "zz_local", "zz_event")]
    assert_clean(compiled.program.source, path, prefix, *texts)
    voice, on_net = names["zz_voice"], names["zz_event"]
    events = [
        UsageEvent(voice, MONDAY_10, 6 * 60_000, "075512345", attributes={on_net: True}),
        UsageEvent(voice, MONDAY_10, 6 * 60_000, "075512345", attributes={on_net: False}),
        UsageEvent(voice, MONDAY_10, 9 * 60_000, "075512345"),
        UsageEvent(voice, MONDAY_10, 2 * 60_000, "0012345"),
        UsageEvent(voice, MONDAY_10, 3 * 60_000, "0731"),
        UsageEvent("sms", MONDAY_10, 1),
    ]
    counters_i = counters_c = Counters()
    for event in events:
        want = rate(plan, event, counters_i, scope, {}, None, env=ENV)
        got = compiled.rate(event, counters_c, None, ENV)
        assert got == want
        assert repr(got) == repr(want)
        counters_i, counters_c = want.counters, got.counters
    assert dict(counters_c) == {f"allowance:{names['zz_allowance']}": 10 * 60_000}
