"""Eligibility blocks, composition, traces, and what rule sources can never reach: written as
Tariff source (via `dsl.parser`) and run through the interpreter and the compiled path."""

from __future__ import annotations

import linecache
import traceback
from decimal import Decimal

import pytest

from dsl import interpreter as ip
from dsl import nodes as n
from dsl import runtime
from dsl.compiler import CompileError, compile_eligibility, compile_expr
from dsl.context import SaleFacts
from dsl.parser import parse
from tests.unit.dsl.test_eval_support import AREAS, ATTRIBUTES, ENV, facts

PATH = "products/youth.tariff"


def offer(body: str) -> n.OfferDecl:
    decl = parse("offer x {\n" + body + "\n}\n", PATH).declarations[0]
    assert isinstance(decl, n.OfferDecl)
    return decl


def block(body: str) -> n.Eligibility:
    eligibility = offer(body).eligibility
    assert eligibility is not None
    return eligibility


def outcome(body: str, sale: SaleFacts, *, trace: bool = False) -> ip.Outcome:
    """The interpreter's outcome, checked against the compiled one."""
    elig = block(body)
    expected = ip.eligibility(elig, sale, ENV, trace=trace)
    compiled = compile_eligibility(elig, PATH, ATTRIBUTES, offer="x")
    assert compiled.outcome(sale, ENV, trace=trace) == expected
    assert compiled.check_many([sale, sale], AREAS) == [compiled.check(sale, AREAS)] * 2
    return expected


YOUTH = """
  eligible all {
    age:     customer.age between 15 and 26
             else "age_out_of_range" "新势力仅限 15 至 26 岁客户办理"
    channel: channel in {hall, web, agent}
             else "channel" "请到营业厅办理"
    where:   area within GD
  }"""

VIP = """
  eligible first {
    when customer.vip_level >= 5: allow
    when "vip" in customer.segments and customer.tenure >= 24 months: allow
    when channel == sms: deny "channel" "VIP 套餐不支持短信办理"
    otherwise: deny "not_vip" "仅限 VIP 客户"
  }"""

NO_OTHERWISE = """
  eligible first {
    when customer.vip_level >= 5: allow
    when channel == sms: deny
  }"""

ALL_CASES: list[tuple[str, SaleFacts, bool, list[str]]] = [
    (YOUTH, facts(age=20, channel="hall", area="GD_SZ"), True, []),
    (YOUTH, facts(age=31, channel="hall"), False, ["age_out_of_range"]),
    (YOUTH, facts(channel="sms", area="QH_XN"), False, ["age_out_of_range", "channel", "where"]),
    (YOUTH, facts(age=15, channel="agent", area="GD"), True, []),
]
FIRST_CASES: list[tuple[str, SaleFacts, bool, int | None, list[str]]] = [
    (VIP, facts(vip_level=5), True, 0, []),
    (VIP, facts(segments=frozenset({"vip"}), tenure_months=24), True, 1, []),
    (VIP, facts(segments=frozenset({"vip"}), channel="sms"), False, 2, ["channel"]),
    (VIP, facts(), False, 3, ["not_vip"]),  # unknowns never match: otherwise decides
    (NO_OTHERWISE, facts(vip_level=1), False, None, ["no_rule_matched"]),
    (NO_OTHERWISE, facts(channel="sms"), False, 1, ["denied"]),
]


@pytest.mark.parametrize(("body", "sale", "qualified", "codes"), ALL_CASES)
def test_eligible_all(body: str, sale: SaleFacts, qualified: bool, codes: list[str]) -> None:
    result = outcome(body, sale)
    assert result.qualified is qualified
    assert [r.code for r in result.reasons] == codes


@pytest.mark.parametrize(("body", "sale", "qualified", "branch", "codes"), FIRST_CASES)
def test_eligible_first(
    body: str, sale: SaleFacts, qualified: bool, branch: int | None, codes: list[str]
) -> None:
    result = outcome(body, sale)
    assert (result.qualified, result.branch) == (qualified, branch)
    assert [r.code for r in result.reasons] == codes


def test_reasons_carry_message_and_span() -> None:
    result = outcome(YOUTH, facts(age=40))
    (reason,) = result.reasons
    assert reason == ip.Failure(
        "age", "age_out_of_range", "新势力仅限 15 至 26 岁客户办理", reason.span
    )
    assert (reason.span.line, reason.span.column) == (4, 5)


def test_trace_lists_every_rule_with_what_it_read() -> None:
    result = outcome(YOUTH, facts(channel="web", area="QH_XN"), trace=True)
    assert result.trace is not None
    assert [(t.rule, t.outcome, t.observed) for t in result.trace] == [
        ("age", None, (("customer.age", None),)),
        ("channel", True, (("channel", "web"),)),
        ("where", False, (("area", "QH_XN"),)),
    ]
    assert (result.trace[0].span.line, result.trace[0].span.column) == (4, 14)


def test_trace_of_first_stops_at_the_deciding_branch() -> None:
    result = outcome(VIP, facts(vip_level=1, channel="sms"), trace=True)
    assert result.trace is not None
    assert [(t.rule, t.outcome) for t in result.trace] == [
        ("first[1]", False), ("first[2]", False), ("first[3]", True),
    ]  # fmt: skip
    assert result.trace[1].observed == (("customer.segments", frozenset()),
                                        ("customer.tenure", None))  # fmt: skip


def test_tracing_is_a_separate_function() -> None:
    compiled = compile_eligibility(block(YOUTH), PATH, offer="x")
    check_source = compiled.program.source.split("def check(")[1].split("def check_many(")[0]
    assert "record" not in check_source


# -- composition -----------------------------------------------------------------------------

FAMILY = """
  composition {
    exactly 1 fixed_line_basic
    1..3 mobile_basic          else "lines" "亲情1+ 可含 1 至 3 条手机线"
    at most 2 of {caller_id_addon, ring_tone} as extras
    requires broadband_basic
    excludes qh_campus_card    else "campus" "校园卡不能加入亲情1+"
    add-on caller_id_addon only with mobile_basic, fixed_line_basic
  }"""

GOOD = {"fixed_line_basic": 1, "mobile_basic": 2, "broadband_basic": 1}
COMPOSITION_CASES: list[tuple[dict[str, int], frozenset[str], list[str]]] = [
    (GOOD, frozenset(), []),
    ({**GOOD, "mobile_basic": 4}, frozenset(), ["lines"]),
    ({**GOOD, "mobile_basic": 0, "caller_id_addon": 1}, frozenset(), ["lines"]),
    ({**GOOD, "fixed_line_basic": 0}, frozenset(), ["cardinality"]),
    ({**GOOD, "caller_id_addon": 2, "ring_tone": 1}, frozenset(), ["cardinality"]),
    ({"fixed_line_basic": 1, "mobile_basic": 1}, frozenset({"broadband_basic"}), []),  # held
    ({"fixed_line_basic": 1, "mobile_basic": 1}, frozenset(), ["requires"]),
    (GOOD, frozenset({"qh_campus_card"}), ["campus"]),
    ({"caller_id_addon": 1, "broadband_basic": 1}, frozenset(),
     ["cardinality", "lines", "addon_without_base"]),
]  # fmt: skip


@pytest.mark.parametrize(("counts", "held", "codes"), COMPOSITION_CASES)
def test_composition(counts: dict[str, int], held: frozenset[str], codes: list[str]) -> None:
    rules = offer(FAMILY).composition
    assert rules is not None
    assert [f.code for f in ip.composition(rules, counts, held)] == codes


def test_composition_failure_names_the_rule() -> None:
    rules = offer(FAMILY).composition
    assert rules is not None
    (failure,) = ip.composition(rules, {**GOOD, "caller_id_addon": 3}, frozenset())
    assert (failure.rule, failure.span.line) == ("extras", 6)


# -- generated code: filenames, caching, security --------------------------------------------


def test_tracebacks_show_rule_lines() -> None:
    elig = block("eligible all {\n  money: customer.spend > 5.00 USD\n}")
    compiled = compile_eligibility(elig, PATH, ATTRIBUTES, offer="x")
    sale = facts(attributes={"spend": (Decimal("1"), "CNY")})
    with pytest.raises(runtime.EvalError) as caught:
        compiled.check(sale)
    frame = traceback.extract_tb(caught.value.__traceback__)[1]
    assert frame.filename == compiled.program.filename
    assert frame.filename.startswith(f"<rule {PATH} x")  # `#hash>` when the name was taken
    assert frame.line is not None
    assert "'money' at 3:3" in frame.line
    assert compiled.span_for_line(frame.lineno or 0) == elig.rules[0].condition.span
    assert linecache.getlines(frame.filename)


def test_compiled_once_per_content() -> None:
    first = compile_eligibility(block(YOUTH), PATH, offer="x")
    again = compile_eligibility(block("\n\n" + YOUTH), PATH, offer="x")  # other spans
    assert first.program is again.program
    assert first.check is not again.check  # a fresh namespace every time


@pytest.mark.parametrize(
    "condition",
    ["__import__", "open", "eval", "customer.__class__", "customer.__class__ == x",
     "__builtins__ == x", "cart.__len__(x) > 1", "exec", "channel == __import__",
     "item.__dict__ == x", "customer.attributes == x", "customer.age.real > 1"],
)  # fmt: skip
def test_rules_cannot_reach_python(condition: str) -> None:
    with pytest.raises(CompileError):
        compile_eligibility(block(f"eligible all {{\n  r: {condition}\n}}"), PATH)


def test_strings_holding_python_stay_strings() -> None:
    code = '__import__(\\"os\\").system(\\"true\\")'
    elig = block(f'eligible all {{\n  r: customer.credit_class == "{code}"\n}}')
    compiled = compile_eligibility(elig, PATH)
    value = '__import__("os").system("true")'
    assert compiled.check(facts(credit_class=value)) == ()
    assert compiled.check(facts(credit_class="A")) == (0,)
    assert repr(value) in compiled.program.source


def test_rule_names_cannot_escape_comments() -> None:
    rule = n.Rule(name="a\nimport os", condition=n.BoolLit(value=True))
    compiled = compile_eligibility(n.Eligibility(mode="all", rules=(rule,)), PATH)
    assert "\nimport os" not in compiled.program.source


def test_generated_code_loops_only_over_its_batch_and_sees_no_builtins() -> None:
    sources = [compile_eligibility(block(b), PATH).program.source for b in (YOUTH, VIP)]
    lines = "\n".join(sources).splitlines()
    loops = [line.strip() for line in lines if " for " in f" {line}"]
    assert loops == ["for facts in facts_list:"] * 2
    assert not any("while" in line or "lambda" in line for line in lines)
    namespace = runtime.fresh_namespace()
    assert namespace["__builtins__"] == {}
    assert set(namespace) == {*runtime.EXPORTS, "__builtins__"}


def test_expressions_compile_too() -> None:
    expr = parse("offer x {\n eligible all {\n r: 1 + 2 * 3 > 6.5\n }\n}\n", PATH)
    decl = expr.declarations[0]
    assert isinstance(decl, n.OfferDecl)
    assert decl.eligibility is not None
    condition = decl.eligibility.rules[0].condition
    assert compile_expr(condition).value(facts()) is True
