"""Expressions, one table per construct, each case run through the interpreter and the
compiled path (`both`), which must agree on value and type."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.compiler import CompileError, compile_eligibility, compile_expr
from dsl.context import ItemFacts, SaleFacts
from dsl.parser import parse
from dsl.runtime import EvalError
from tests.unit.dsl.test_eval_support import (
    AREAS,
    ATTRIBUTES,
    CST,
    ENV,
    and_,
    arith,
    between,
    both,
    cmp,
    count,
    facts,
    in_,
    in_set,
    money,
    name,
    not_,
    or_,
    within,
)

Case = tuple[n.Expr, SaleFacts, object]

COMPARISONS: list[Case] = [
    (cmp("customer.age", ">=", 18), facts(age=20), True),
    (cmp("customer.age", ">=", 18), facts(age=17), False),
    (cmp("customer.age", ">=", 18), facts(), None),  # unknown age: unknown
    (cmp("customer.age", "!=", 18), facts(), None),
    (cmp("customer.age", "==", Decimal("20.0")), facts(age=20), True),  # int vs decimal
    (cmp("customer.vip_level", "<", 3), facts(vip_level=0), True),
    (cmp("channel", "==", "hall"), facts(channel="hall"), True),  # bare code
    (cmp("channel", "!=", "hall"), facts(channel="web"), True),
    (cmp("customer.credit_class", "==", "A"), facts(credit_class="A"), True),
    (cmp("customer.credit_class", "==", "A"), facts(), None),
    (cmp("customer.type", "==", "personal"), facts(type="enterprise"), False),
    (cmp("area", "==", "GD"), facts(area="GD_SZ"), False),  # `==` on areas is equality
    (cmp("customer.tenure", ">=", n.PeriodLit(count=24, unit="month")),
     facts(tenure_months=24), True),
    (cmp("customer.tenure", ">=", n.PeriodLit(count=2, unit="year")),
     facts(tenure_months=23), False),
    (cmp("customer.tenure", "<", n.PeriodLit(count=1, unit="quarter")), facts(), None),
]  # fmt: skip

BETWEEN: list[Case] = [
    (between("customer.age", 15, 26), facts(age=15), True),  # inclusive
    (between("customer.age", 15, 26), facts(age=26), True),
    (between("customer.age", 15, 26), facts(age=27), False),
    (between("customer.age", 15, 26), facts(), None),
    (between("customer.age", 15, 26, negated=True), facts(age=30), True),
    (between("customer.age", 15, 26, negated=True), facts(age=20), False),
    (between("customer.age", 15, 26, negated=True), facts(), None),
    (between("customer.age", 26, 15), facts(age=20), False),  # empty range
]

MEMBERSHIP: list[Case] = [
    (in_("channel", "hall", "web"), facts(channel="web"), True),
    (in_("channel", "hall", "web"), facts(channel="sms"), False),
    (in_("channel", "hall", "web", negated=True), facts(channel="sms"), True),
    (in_("channel"), facts(), False),  # empty set
    (in_("channel", negated=True), facts(), True),
    (in_("customer.credit_class", "A", "B"), facts(), None),
    (in_("customer.credit_class", "A", "B", negated=True), facts(), None),
    (in_("customer.age", 18, 19), facts(age=19), True),
    (n.In(value=n.StringLit(value="vip"), container=name("customer.segments")),
     facts(segments=frozenset({"vip"})), True),
    (in_set("youth_plan", "customer.products"), facts(), False),
    (in_set("family_bundle", "cart"), facts(cart={"family_bundle": 1}), True),
    (in_set("family_bundle", "cart"), facts(cart={"family_bundle": 0}), False),
]  # fmt: skip

WITHIN: list[Case] = [
    (within("area", "CN"), facts(area="GD_SZ"), True),  # nation
    (within("area", "GD"), facts(area="GD_SZ"), True),  # province
    (within("area", "GD_SZ"), facts(area="GD_SZ"), True),  # city: itself
    (within("area", "GD_GZ"), facts(area="GD_SZ"), False),  # a sibling
    (within("area", "GD_SZ"), facts(area="GD"), False),  # not below a child
    (within("area", "QH"), facts(area="GD_SZ"), False),
    (within("area", "QH", negated=True), facts(area="GD_SZ"), True),
    (within("customer.home", "QH"), facts(attributes={"home": "QH_XN"}), True),  # env lookup
    (within("customer.home", "QH"), facts(), None),  # unknown home
    (within("customer.home", "QH", negated=True), facts(attributes={"home": "GD"}), True),
    (within("customer.home", "XX"), facts(attributes={"home": "XX_1"}), False),  # not in table
]

T, F, U = cmp("channel", "==", "hall"), cmp("channel", "==", "web"), cmp("customer.age", ">", 1)
VALUES = {T: True, F: False, U: None}
KLEENE_AND = {(a, b): (False if False in (VALUES[a], VALUES[b]) else
                       None if None in (VALUES[a], VALUES[b]) else True)
              for a in VALUES for b in VALUES}  # fmt: skip
LOGIC: list[Case] = [
    *((and_(a, b), facts(), v) for (a, b), v in KLEENE_AND.items()),
    (or_(T, U), facts(), True),
    (or_(U, T), facts(), True),
    (or_(F, U), facts(), None),
    (or_(F, F), facts(), False),
    (or_(U, U), facts(), None),
    (not_(T), facts(), False),
    (not_(F), facts(), True),
    (not_(U), facts(), None),
    (not_(not_(U)), facts(), None),
    (not_(and_(F, U)), facts(), True),
    (and_(T, T, T), facts(), True),
    (or_(F, F, U, T), facts(), True),
    (n.BoolLit(value=True), facts(), True),
    (name("customer.installable"), facts(attributes={"installable": True}), True),
    (name("customer.installable"), facts(), None),
    (not_(name("customer.installable")), facts(attributes={"installable": False}), True),
]

ARITHMETIC: list[Case] = [
    (arith("customer.age", "+", 1), facts(age=20), 21),
    (arith("customer.age", "+", 1), facts(), None),
    (arith(7, "/", 2), facts(), Decimal("3.5")),  # exact, folded
    (arith(Decimal("0.1"), "+", Decimal("0.2")), facts(), Decimal("0.3")),
    (arith("customer.age", "*", Decimal("1.5")), facts(age=10), Decimal("15.0")),
    (n.Neg(operand=name("customer.age")), facts(age=3), -3),
    (cmp(arith("customer.age", "-", 10), ">", 5), facts(age=16), True),
    (arith(money("39.00"), "+", money("1.00")), facts(), (Decimal("40.00"), "CNY")),
    (arith(money("10.00"), "*", 3), facts(), (Decimal("30.00"), "CNY")),
    (arith(name("customer.spend"), "/", 4), facts(attributes={"spend": (Decimal("10"), "CNY")}),
     (Decimal("2.5"), "CNY")),
    (cmp("customer.spend", ">=", money("50.00")),
     facts(attributes={"spend": (Decimal("50"), "CNY")}), True),
    (cmp("customer.spend", ">=", money("50.00")), facts(), None),
    (cmp("customer.score", "<", Decimal("0.5")), facts(attributes={"score": Decimal("0.2")}),
     True),
]  # fmt: skip

NIGHT = datetime(2026, 3, 7, 23, 59, 59, tzinfo=CST)  # a Saturday
TIME: list[Case] = [
    (cmp("time.time", ">=", n.TimeOfDayLit(seconds=8 * 3600)), facts(), True),
    (cmp("time.time", "<", n.TimeOfDayLit(seconds=86400)), facts(time=NIGHT), True),  # 24:00
    (cmp("time.time", "<=", n.TimeOfDayLit(seconds=86399)), facts(time=NIGHT), True),
    (cmp("time.weekday", "==", "mon"), facts(), True),
    (in_("time.weekday", "sat", "sun"), facts(time=NIGHT), True),
    (cmp("time.date", "==", n.DateLit(value=date(2026, 3, 2))), facts(), True),
    (cmp("time", "<", n.InstantLit(value=datetime(2026, 3, 2, 3, 0, tzinfo=CST))), facts(),
     False),
    (name("time.date"), facts(time=NIGHT), date(2026, 3, 7)),  # in the instant's own zone
]  # fmt: skip

LINES = ItemFacts(offer="broadband_100m", quantity=2, options={"payment": "yearly_prepay"},
                  attributes={"color": "red"})  # fmt: skip
COUNTS: list[Case] = [
    (count("cart", "mobile_basic"), facts(cart={"mobile_basic": 2}), 2),
    (count("cart", "mobile_basic"), facts(), 0),
    (count("bundle", "mobile_basic"), facts(bundle={"mobile_basic": 3}), 3),
    (count("bundle", "mobile_basic"), facts(), None),  # outside a combo
    (name("bundle.lines"), facts(bundle={"a": 1, "b": 2}), 3),
    (cmp(count("bundle", "a"), ">=", 1), facts(), None),
    (name("item.quantity"), facts(item=LINES), 2),
    (name("item.quantity"), facts(), None),
    (cmp("item.option.payment", "==", n.StringLit(value="yearly_prepay")), facts(item=LINES),
     True),
    (cmp("item.option.speed", "==", n.StringLit(value="x")), facts(item=LINES), None),
    (cmp("item.color", "==", n.StringLit(value="red")), facts(item=LINES), True),
]  # fmt: skip

TABLES = {
    "comparisons": COMPARISONS, "between": BETWEEN, "membership": MEMBERSHIP, "within": WITHIN,
    "logic": LOGIC, "arithmetic": ARITHMETIC, "time": TIME, "counts": COUNTS,
}  # fmt: skip


@pytest.mark.parametrize(
    ("expr", "sale", "expected"),
    [pytest.param(*case, id=f"{table}-{i}") for table, cases in TABLES.items()
     for i, case in enumerate(cases)],
)  # fmt: skip
def test_both_evaluators_agree_with_the_table(
    expr: n.Expr, sale: SaleFacts, expected: object
) -> None:
    assert both(expr, sale) == expected


def test_money_currency_mismatch_is_an_error() -> None:
    spend = cmp("customer.spend", ">", money("50.00", "USD"))
    sale = facts(attributes={"spend": (Decimal("60"), "CNY")})
    with pytest.raises(EvalError, match="currency"):
        ip.evaluate(spend, sale, ENV)
    with pytest.raises(EvalError, match="currency"):
        compile_expr(spend, attributes=ATTRIBUTES).value(sale, AREAS)
    with pytest.raises(CompileError, match="currency"):  # literals: found when folding
        compile_expr(arith(money("1.00", "USD"), "+", money("1.00")))
    with pytest.raises(CompileError, match="cannot compare money with int"):
        compile_expr(cmp("customer.spend", ">", 5), attributes=ATTRIBUTES)


def test_division_by_zero_is_unknown() -> None:
    """docs/dsl.md, "Division by zero": unknown, in both evaluators, folded or not."""
    for expr in (
        arith("customer.age", "/", 0),
        arith(1, "/", 0),
        arith(money("9.00"), "/", 0),
        arith(arith(1, "/", 0), "+", 1),
        n.Neg(operand=arith("customer.age", "/", arith("customer.age", "-", "customer.age"))),
    ):
        assert both(expr, facts(age=1)) is None
    assert both(arith("customer.age", "/", count("cart", "a")), facts(age=3, cart={"a": 2})) == (
        Decimal("1.5")
    )


@pytest.mark.parametrize(
    "text",
    [
        "customer.vip_level > 1 / cart.count(mobile_basic)",
        "not (customer.vip_level > 1 / cart.count(mobile_basic))",
        "customer.vip_level > 1 and 1 / cart.count(mobile_basic) > 0",
        "customer.vip_level > 1 or 1 / cart.count(mobile_basic) > 0",
        "1 / cart.count(mobile_basic) between customer.vip_level and 3",
        "customer.age / cart.count(mobile_basic) * 2 == customer.vip_level",
    ],
)
def test_division_by_zero_beside_an_unknown_is_unknown(text: str) -> None:
    """Issue 21: the interpreter raised where the compiled code answered false."""
    empty_cart = facts(age=20)  # vip_level unknown, cart.count(mobile_basic) is 0
    assert both(condition(text), empty_cart) is None
    block = n.Eligibility(mode="all", rules=(n.Rule(name="r", condition=condition(text)),))
    compiled = compile_eligibility(block, "tests/eval.tariff")
    assert compiled.outcome(empty_cart, ENV) == ip.eligibility(block, empty_cart, ENV)
    assert not ip.eligibility(block, empty_cart, ENV).qualified


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (cmp("customer.agee", ">", 1), "unknown name `customer.agee`"),
        (cmp("event.roaming", "==", True), "only known in usage rules"),
        (cmp("customer.age", "==", "hall"), "cannot compare int with code"),
        (cmp("time.date", "<", 5), "cannot compare date with int"),
        (n.In(value=name("channel"), container=name("channel")), "`in` needs a set"),
        (in_("channel", "customer.age"), "set items must be literals"),
        (cmp("customer.tenure", ">", n.PeriodLit(count=3, unit="day")), "does not compare"),
        (n.Call(target=name("cart"), method="sum", args=()), "unknown method"),
    ],
)
def test_compile_errors_point_at_the_node(expr: n.Expr, message: str) -> None:
    with pytest.raises(CompileError, match=message):
        compile_expr(expr).test  # noqa: B018


def test_folded_constants_are_hoisted_once() -> None:
    expr = and_(cmp("customer.score", ">=", arith(Decimal("0.1"), "*", 3)), in_("channel", "a"))
    source = compile_expr(expr, attributes=ATTRIBUTES).program.source
    assert re.search(r"^K\d+ = Decimal\('0.3'\)$", source, re.MULTILINE)
    assert re.search(r"^K\d+ = frozenset\(\('a', \)\)$", source, re.MULTILINE)
    assert source.count("Decimal(") == 1  # not re-created per call


# -- the same, written as Tariff source ------------------------------------------------------


def condition(text: str) -> n.Expr:
    module = parse(f"offer t {{\n  eligible all {{\n    r: {text}\n  }}\n}}\n", "text.tariff")
    decl = module.declarations[0]
    assert isinstance(decl, n.OfferDecl)
    assert decl.eligibility is not None
    return decl.eligibility.rules[0].condition


SOURCE_CASES: list[tuple[str, SaleFacts, object]] = [
    ("customer.age between 15 and 26", facts(age=26), True),
    ("customer.age between 15 and 26", facts(), None),
    ("customer.age not between 15 and 26 or channel == hall", facts(), True),
    ("channel in {hall, web} and area within GD", facts(channel="web", area="GD_GZ"), True),
    ("channel not in {hall, web}", facts(channel="sms"), True),
    ("area within CN and not (area within QH)", facts(area="QH_XN"), False),
    ('"vip" in customer.segments and customer.tenure >= 24 months',
     facts(segments=frozenset({"vip"})), None),
    ('"vip" in customer.segments and customer.tenure >= 2 years',
     facts(segments=frozenset({"vip"}), tenure_months=30), True),
    ("customer.vip_level >= 5 or customer.age < 18", facts(age=12), True),
    ("not customer.vip_level >= 5", facts(), None),
    ("cart.count(mobile_basic) + 1 > 2", facts(cart={"mobile_basic": 2}), True),
    ("bundle.lines between 1 and 3", facts(bundle={"a": 4}), False),
    ('item.option.payment == "yearly_prepay"', facts(), None),
    ("time.time < 24:00 and time.weekday in {mon, tue}", facts(), True),
    ("time.time >= 08:00 and time.time < 22:00", facts(), True),
    ("customer.spend >= 50.00 CNY", facts(attributes={"spend": (Decimal("50.00"), "CNY")}),
     True),
    ("customer.spend * 2 > 99.99 CNY", facts(attributes={"spend": (Decimal("50"), "CNY")}),
     True),
    ("customer.score <= 1.5 * 2 - 0.5", facts(attributes={"score": Decimal("2.5")}), True),
    ("customer.home within GD", facts(attributes={"home": "GD_SZ"}), True),
    ("customer.installable and customer.age >= 18", facts(age=20), None),
    ("customer.installable or customer.age >= 18", facts(age=20), True),
]  # fmt: skip


@pytest.mark.parametrize(("text", "sale", "expected"), SOURCE_CASES)
def test_source_table(text: str, sale: SaleFacts, expected: object) -> None:
    assert both(condition(text), sale) == expected
