"""Compiled price plans (`dsl.compile_prices`) against the reference interpreter
(`dsl.eval_prices`): one test per construct with hand-computed amounts, every PriceError, the
shape of the generated code, and a property over generated plans, carts and facts. Every
comparison goes through `both`, which holds the compiled answer to the interpreter's: equal
results down to their `repr` (so the spelling of every Decimal), or the same error."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import eval_prices as ep
from dsl import nodes as n
from dsl import runtime_prices
from dsl.codegen import CompileError
from dsl.compile_prices import (
    CompiledMembership,
    CompiledPlan,
    compile_plan,
    compile_plans,
    quote_compiled,
)
from dsl.context import CustomerFacts, SaleFacts
from dsl.eval_prices import PriceError, Quote
from dsl.interpreter import DEFAULT_ENV, Env
from dsl.runtime import EvalError
from tests.unit.dsl.test_eval_prices import (
    BROADBAND,
    CST,
    FAMILY,
    STACK,
    facts,
    line,
    one,
    plans_of,
)
from tests.unit.dsl.test_eval_support import AREAS

D = Decimal
ATTRIBUTES = {
    "customer.spend": "money",
    "customer.installable": "bool",
    "customer.home": "area",
    "item.buy_modem": "bool",
}
DECLARE = """
attribute customer.spend: money
attribute customer.installable: bool
attribute customer.home: area
attribute item.buy_modem: bool
"""

Outcome = Quote | tuple[str, str]


def outcome(run: Callable[[], Quote]) -> Outcome:
    """The quote, or the error's class and message."""
    try:
        return run()
    except (EvalError, ValueError, ArithmeticError) as err:
        return type(err).__name__, str(err)


def both(
    source: str,
    *lines: n.CartLine,
    sale: SaleFacts | None = None,
    tz: timedelta | None = None,
    env: Env | None = None,
) -> Outcome:
    """The interpreter's outcome, after checking the compiled plans give exactly it, on
    their first quote (nothing remembered yet) and on a second (from what they remember,
    as they are kept per source across calls)."""
    plans = parsed(source)
    sale = sale or facts()
    zone = None if tz is None else timezone(tz)
    environment = env or Env(areas=AREAS)
    expected = outcome(lambda: ep.quote(lines, plans, sale, tz=zone, env=environment))
    compiled = compiled_plans(source)
    for _ in range(2):
        actual = outcome(lambda: quote_compiled(lines, compiled, sale, tz=zone, env=environment))
        assert actual == expected
        assert repr(actual) == repr(expected)
    return expected


@functools.lru_cache(maxsize=64)
def parsed(source: str) -> dict[str, n.PlanDecl]:
    """The plans of `source` after the attribute declarations (parsed once: shrinking
    replays the same plans many times)."""
    return plans_of(DECLARE + source)


@functools.lru_cache(maxsize=64)
def compiled_plans(source: str) -> dict[str, CompiledPlan]:
    return compile_plans(parsed(source), "test.tariff", ATTRIBUTES)


def quoted(source: str, *lines: n.CartLine, **kwargs: Any) -> Quote:
    result = both(source, *lines, **kwargs)
    assert isinstance(result, Quote), result
    return result


def fails(source: str, *lines: n.CartLine, **kwargs: Any) -> tuple[str, str]:
    result = both(source, *lines, **kwargs)
    assert not isinstance(result, Quote), "expected an error"
    return result


# -- prices, periods, options, timing -----------------------------------------------------------


def test_one_time_and_recurring_prices_per_period() -> None:
    source = """
    plan p {
      currency CNY
      price setup: one_time 50.00 for installation
      price rent: recurring 30.00 per month
      price tv: recurring 60.00 per 3 months
      price box: recurring 20.00 per quarter
      price yearly: recurring 100 per year
    }
    """
    q = quoted(source, line("p"))
    assert (q.due_now, q.monthly, q.first_bill) == (D(50), D(30), D(210))
    assert [(p.type, p.due) for p in q.lines[0].prices[:2]] == [
        ("one_time", "now"),
        ("recurring", "every_period"),
    ]
    assert one(q, "tv").period == n.PeriodLit(count=3, unit="month")
    assert one(q, "setup").business == "installation"


def test_options_default_and_chosen() -> None:
    q = quoted(BROADBAND, line("bb"))
    assert [p.name for p in q.lines[0].prices] == ["installation", "rent"]
    q = quoted(BROADBAND, line("bb", payment="yearly_prepay"))
    assert [p.name for p in q.lines[0].prices] == ["installation", "prepay"]
    assert q.due_now == D("778.00")


def test_active_prices_agree_with_the_interpreter() -> None:
    source = """
    plan p {
      currency CNY
      price a: one_time 1.00 when customer.vip_level >= 3
      option pay default m {
        m: price b: one_time 2.00
        y: price c: one_time 3.00 when channel == web
      }
      price d: one_time 4.00
    }
    """
    plan = plans_of(source)["p"]
    compiled = compile_plan(plan, "t.tariff")
    for vip in (None, 3):
        for options in ((), (("pay", "y"),)):
            for channel in ("web", "hall"):
                sale = facts(vip_level=vip, channel=channel)
                cart_line = n.CartLine(offer="p", options=options)
                expected = ep.active_prices(plan, cart_line, sale, DEFAULT_ENV)
                assert compiled.active_prices(cart_line, sale) == expected
    with pytest.raises(PriceError, match="`z` is not a choice of option `pay`"):
        compiled.active_prices(line("p", pay="z"), facts())


def test_starts_next_month_is_due_now_and_follows_the_time_zone() -> None:
    prepay = one(quoted(BROADBAND, line("bb", payment="yearly_prepay")), "prepay")
    assert (prepay.due, prepay.starts) == ("now", datetime(2026, 4, 1, tzinfo=CST))
    assert prepay.covering == n.PeriodLit(count=12, unit="month")
    december = facts(time=datetime(2026, 12, 31, 20, 0, tzinfo=UTC))  # 1 January in CST
    q = quoted(BROADBAND, line("bb", payment="yearly_prepay"), sale=december)
    assert one(q, "prepay").starts == datetime(2027, 1, 1, tzinfo=UTC)
    q = quoted(BROADBAND, line("bb", payment="yearly_prepay"), sale=december, tz=timedelta(hours=8))
    assert one(q, "prepay").starts == datetime(2027, 2, 1, tzinfo=CST)


def test_daily_proration_of_the_first_month() -> None:
    rent = one(quoted(BROADBAND, line("bb")), "rent")
    assert (rent.proration, rent.first_period, rent.tax_included) == (
        Fraction(30, 31),
        D("67.74"),
        D("70.00"),
    )
    last_day = facts(time=datetime(2026, 2, 28, 23, 0, tzinfo=CST))
    q = quoted(BROADBAND, line("bb"), sale=last_day)
    assert one(q, "rent").proration == Fraction(1, 28)
    assert q.first_bill == D("2.50")


# -- alterations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("pct", "amt", "final"), [(2, 1, "72"), (1, 2, "70"), (1, 1, "70")])
def test_percent_and_amount_discounts_stack_by_priority(pct: int, amt: int, final: str) -> None:
    source = STACK.replace("PCT", str(pct)).replace("AMT", str(amt))
    rent = one(quoted(source, line("p")), "rent")
    assert rent.final_amount == D(final)
    first = "amt" if (pct, amt) == (2, 1) else "pct"
    assert rent.alterations[0].name == first


def test_waivers_overrides_and_their_conditions() -> None:
    source = """
    plan p {
      currency CNY
      price rent: recurring 100.00 per month
      price setup: one_time 30.00
      discount ent: 10% on * when customer.type == enterprise
      discount gd: 5.00 on rent when area within GD and channel == web
      waive setup when "family_bundle" in cart priority 9 "融合免初装"
      override vip: rent to 50.00 when customer.vip_level >= 3
      discount weekend: 1.00 on rent when time.weekday in {sat, sun}
      discount march: 2.00 on rent when time.date between 2026-03-01 and 2026-03-15
      discount two: 3.00 on rent when cart.count(p) >= 2 and item.quantity >= 2
    }
    """
    assert one(quoted(source, line("p")), "rent").final_amount == 98  # March 2
    sale = facts(type="enterprise", channel="web")
    assert one(quoted(source, line("p"), sale=sale), "rent").final_amount == D("83")
    q = quoted(source, line("p"), sale=facts(cart={"family_bundle": 1}))
    assert one(q, "setup").final_amount == 0
    assert one(q, "setup").alterations[0].label == "融合免初装"
    vip = one(quoted(source, line("p"), sale=facts(vip_level=3)), "rent")
    assert [(a.kind, a.name, a.change) for a in vip.alterations] == [
        ("override", "vip", D(-50)),
        ("discount", "march", D(-2)),
    ]
    saturday = facts(time=datetime(2026, 3, 21, 10, tzinfo=CST), cart={"p": 2})
    q = quoted(source, line("p", qty=2), sale=saturday)
    assert [p.final_amount for p in q.prices_named("rent")] == [D(96)]  # counted twice
    assert q.lines[0].quantity == 2


def test_caps_and_floors_come_last_whatever_their_priority() -> None:
    source = """
    plan p {
      currency CNY
      price rent: recurring 70.00 per month
      price tv: recurring 10.00 per month
      cap rent at 60.00 priority 0
      discount big: 50.00 on rent priority 9
      floor rent at 30.00
      floor tv at 15.00
      cap tv at 12.00 priority 1
    }
    """
    q = quoted(source, line("p"))
    assert [(a.kind, a.stage, a.change) for a in one(q, "rent").alterations] == [
        ("discount", "product", D(-50)),
        ("floor", "limit", D(10)),
    ]
    assert one(q, "tv").final_amount == 12
    assert q.monthly == 42


def test_credit_alone_goes_below_zero() -> None:
    source = """
    plan p {
      currency CNY
      price a: recurring 70.00 per month
      price b: recurring 70.00 per month
      price c: recurring 10.00 per month
      discount big: 100.00 on a
      discount back: 100.00 on b credit "返现"
      override neg: c to -5.00
      cap low: c at -1.00
      discount over: 150% on c credit
    }
    """
    q = quoted(source, line("p"))
    assert [p.final_amount for p in q.lines[0].prices] == [0, -30, 0]
    assert one(q, "b").alterations[0].credit
    assert [a.change for a in one(q, "c").alterations] == [D(-10), D(0), D(0)]


def test_durations_and_labels_are_shown() -> None:
    source = """
    plan p {
      currency CNY
      price rent: recurring 70.00 per month
      override promo: rent to 50.00 "开学季" for 3 months
    }
    """
    (promo,) = one(quoted(source, line("p")), "rent").alterations
    assert (promo.duration, promo.label, promo.span.line) == (
        n.PeriodLit(count=3, unit="month"),
        "开学季",
        10,  # DECLARE's lines come first
    )


def test_combos_replace_waive_and_discount_each_member() -> None:
    combo = line("family", line("fixed"), line("mobile", qty=2))
    q = quoted(FAMILY, combo)
    fixed, first, second = q.lines[1], q.lines[2], q.lines[3]
    assert [(a.kind, a.stage, a.plan) for a in fixed.prices[0].alterations] == [
        ("waive", "bundle", "family")
    ]
    assert [(a.kind, a.stage, a.change) for a in fixed.prices[1].alterations] == [
        ("discount", "product", D(-2)),
        ("cap", "limit", D(-3)),
    ]
    assert [p.final_amount for p in first.prices] == [0, D("4.5")]  # `mobile.data`: first only
    assert [p.final_amount for p in second.prices] == [0, D(5)]  # `each`: every line
    assert first.prices[0].alterations[0].kind == "replace"
    assert q.monthly == D("193.5")
    alone = quoted(FAMILY, line("family", line("fixed"), line("mobile")))
    assert [p.final_amount for p in alone.lines[2].prices] == [0, D(9)]
    q = quoted(FAMILY, line("family", line("router"), line("mobile", qty=0), line("mobile", qty=3)))
    # the first mobile, then the two after it as one line counted twice
    assert [(ln.offer, ln.quantity) for ln in q.lines] == [
        ("family", 1),
        ("router", 1),
        ("mobile", 1),
        ("mobile", 2),
    ]
    q = quoted(FAMILY, line("family", line("mobile"), line("mobile", qty=2), qty=2), line("fixed"))
    assert [(ln.offer, ln.quantity) for ln in q.lines] == [
        ("family", 2),
        ("mobile", 2),  # each family's first mobile
        ("mobile", 4),  # each family's other two
        ("fixed", 1),
    ]
    huge = quoted(FAMILY, line("family", line("fixed"), line("mobile", qty=3), qty=2**31 - 1))
    assert len(huge.lines) == 4  # priced arithmetically: no line per unit
    assert (
        huge.monthly
        == (2**31 - 1)
        * quoted(FAMILY, line("family", line("fixed"), line("mobile", qty=3))).monthly
    )


def test_price_line_with_a_membership() -> None:
    plans = plans_of(FAMILY)
    compiled = compile_plans(plans, "t.tariff")
    counts = {"mobile": 2}
    for index in (0, 1):
        expected = ep.price_line(
            plans["mobile"],
            line("mobile"),
            facts(),
            member_of=ep.Membership("family", plans["family"], counts, index),
        )
        member = CompiledMembership("family", compiled["family"], counts, index)
        actual = compiled["mobile"].price_line(line("mobile"), facts(), member_of=member)
        assert repr(actual) == repr(expected)
    plain = compiled["mobile"].price_line(line("mobile"), facts())
    assert repr(plain) == repr(ep.price_line(plans["mobile"], line("mobile"), facts()))


# -- tax and rounding ----------------------------------------------------------------------------


def test_tax_included_and_excluded() -> None:
    source = """
    plan inc { currency CNY tax 9% included rounding half_up 2 price r: one_time 109.00 }
    plan exc { currency CNY tax 6% excluded price r: one_time 100.00 }
    plan zero { currency CNY tax 0% excluded price r: one_time 100.50 }
    """
    inc = one(quoted(source, line("inc")), "r")
    assert (inc.duty_free, inc.tax_included, inc.tax_rate) == (D("100.00"), D("109.00"), D(9))
    exc = one(quoted(source, line("exc")), "r")
    assert (exc.duty_free, exc.tax_included, exc.tax_included_basis) == (D(100), D(106), False)
    assert quoted(source, line("exc")).due_now == 106
    assert one(quoted(source, line("zero")), "r").tax_included == D("100.5")


@pytest.mark.parametrize(
    ("mode", "positive", "negative"),
    [
        ("half_up", "7.14", "-2.13"),
        ("half_even", "7.14", "-2.12"),
        ("down", "7.13", "-2.12"),
        ("up", "7.14", "-2.13"),
        ("ceiling", "7.14", "-2.12"),
        ("floor", "7.13", "-2.13"),
    ],
)
def test_rounding_modes(mode: str, positive: str, negative: str) -> None:
    source = f"""
    plan r {{ currency CNY tax 6% excluded rounding {mode} 2
             price x: one_time 10.05 discount d: 33% on x }}
    plan c {{ currency CNY rounding {mode} 2 price y: one_time 1.00
             override y to -2.125 credit }}
    """
    x = one(quoted(source, line("r")), "x")
    assert (x.final_amount, x.tax_included) == (D("6.7335"), D(positive))  # 7.137510
    assert one(quoted(source, line("c")), "y").tax_included == D(negative)


def test_rounding_only_where_declared_and_per_total() -> None:
    exact = """
    plan e { currency CNY tax 6% excluded price x: one_time 10.05 discount d: 33% on x }
    """
    assert one(quoted(exact, line("e")), "x").tax_included == D("7.137510")
    total = """
    plan t { currency CNY tax 6% excluded rounding half_even 2 per total
             price a: one_time 0.125 price b: one_time 0.125 }
    """
    q = quoted(total, line("t"))
    assert [p.tax_included for p in q.lines[0].prices] == [D("0.1325"), D("0.1325")]
    assert q.due_now == D("0.26")
    event = total.replace("per total", "per event")
    assert quoted(event, line("t")).due_now == D("0.26")  # 0.13 + 0.13


# -- errors --------------------------------------------------------------------------------------

ERRORS = """
plan opt { currency CNY option pay default m { m: price a: one_time 1.00 } }
plan baddefault { currency CNY option pay default z { m: price a: one_time 1.00 } }
plan unknown { currency CNY price a: one_time 1.00 discount d: customer.spend on a }
plan notmoney { currency CNY price a: one_time customer.credit_class }
plan nocurrency { price a: one_time 1.00 }
plan usd { currency CNY price a: one_time 1.00 USD }
plan usdalt { currency CNY price a: one_time 1.00 cap a at 2.00 USD when channel == hall }
plan pctcap { currency CNY price a: one_time 1.00 cap a at 10% }
plan dutyfree { currency CNY tax 9% included price a: one_time 70.00 }
plan prorated { currency CNY price a: recurring 70.00 per month prorated }
plan pertotal { currency CNY tax 9% included rounding half_up 2 per total
                price a: one_time 70.00 }
plan cny { currency CNY price a: one_time 1.00 }
plan dollars { currency USD price a: one_time 1.00 }
plan spend { currency CNY price a: one_time 1.00 when customer.spend > 10.00 CNY }
"""


@pytest.mark.parametrize(
    ("cart", "sale", "message"),
    [
        ([line("opt", pay="z")], {}, "`z` is not a choice of option `pay`"),
        ([line("baddefault")], {}, "`z` is not a choice of option `pay`"),
        ([line("unknown")], {}, "the amount of alteration `d` is unknown"),
        ([line("notmoney")], {"credit_class": "A"}, "is not money: 'A'"),
        ([line("nocurrency")], {}, "price `a` has no currency: declare `currency`"),
        ([line("usd")], {}, "price `a` is in USD, the plan's currency is CNY"),
        ([line("usdalt")], {}, "alteration `cap` is in USD"),
        ([line("pctcap")], {}, "alteration `cap`: only a discount takes a percentage"),
        ([line("dutyfree")], {}, "the duty-free amount of price `a` of plan `dutyfree` is"),
        ([line("prorated")], {}, "the first period of price `a` of plan `prorated` is 2100/31"),
        ([line("pertotal")], {}, "7000/109, not a terminating decimal: declare `rounding`"),
        ([line("cny"), line("dollars")], {}, "the cart mixes currencies: CNY, USD"),
        ([line("spend")], {"attributes": {"spend": (D(20), "USD")}}, "currency mismatch"),
    ],
)
def test_every_price_error(cart: list[n.CartLine], sale: dict[str, Any], message: str) -> None:
    kind, text = fails(ERRORS, *cart, sale=facts(**sale))
    assert kind in ("PriceError", "EvalError")
    assert message in text


def test_an_error_is_raised_only_where_the_interpreter_gets_to() -> None:
    assert quoted(ERRORS, line("usdalt"), sale=facts(channel="web")).due_now == 1
    assert quoted(ERRORS, line("opt", qty=0), line("usd", qty=0)).lines == ()
    # the first price fails on tax before the second's amount is evaluated
    source = """
    plan p { currency CNY tax 9% included price a: one_time 70.00
             price b: one_time customer.spend }
    """
    assert "duty-free" in fails(source, line("p"))[1]


def test_an_alteration_without_an_amount() -> None:
    plan = plans_of("plan p { currency CNY price a: one_time 5.00 cap a at 1.00 }")["p"]
    cap = plan.items[2]
    assert isinstance(cap, n.Alteration)
    broken = dataclasses.replace(
        plan, items=(*plan.items[:2], dataclasses.replace(cap, amount=None))
    )
    with pytest.raises(PriceError, match="alteration `cap` has no amount"):
        ep.quote([line("p")], {"p": broken}, facts())
    with pytest.raises(PriceError, match="alteration `cap` has no amount"):
        quote_compiled([line("p")], {"p": compile_plan(broken)}, facts())


def test_a_percentage_that_is_not_a_literal_is_taken_as_money() -> None:
    """The interpreter takes `10% + 5%` (a percent, the checker accepts it) as 0.15 of the
    plan's currency: compiled plans agree, the behaviour is reported as a bug to fix in
    `dsl.eval_prices._apply` (compute any percent-typed amount as a percentage)."""
    source = "plan p { currency CNY price a: one_time 100.00 discount d: 10% + 5% on a }"
    (step,) = one(quoted(source, line("p")), "a").alterations
    assert (step.change, step.percent) == (D("-0.15"), None)


def test_an_undeclared_attribute_does_not_compile() -> None:
    plan = plans_of("plan p { currency CNY price a: one_time 1.00 when customer.nope }")["p"]
    with pytest.raises(CompileError, match=r"unknown name `customer\.nope`"):
        compile_plan(plan)


# -- the generated code --------------------------------------------------------------------------


def test_a_plan_without_conditions_reads_no_facts() -> None:
    compiled = compile_plan(plans_of(BROADBAND)["bb"], "t.tariff")
    assert "facts." not in compiled.source
    assert "if (" not in compiled.source
    conditional = compile_plan(plans_of(DECLARE + FAMILY)["family"], "t.tariff")
    assert "__" not in compiled.source + conditional.source
    assert "import" not in compiled.source + conditional.source


def test_generated_lines_point_back_at_the_rules() -> None:
    source = "plan p { currency CNY\n price a: one_time 9.00\n discount d: 1.00 on a }"
    compiled = compile_plan(plans_of(source)["p"], "spans.tariff")
    lines = compiled.source.splitlines()
    step = next(i for i, text in enumerate(lines, 1) if "discount 'd'" in text)
    span = compiled.span_for_line(step)
    assert span is not None
    assert span.line == 3


def test_equal_plans_share_code_but_keep_their_own_spans() -> None:
    source = "plan p { currency CNY price a: one_time 9.00 discount d: 1.00 on a }"
    moved = "\n\n\n" + source
    first, second = compile_plan(plans_of(source)["p"]), compile_plan(plans_of(moved)["p"])
    assert first.unit.code is second.unit.code
    q = quote_compiled([line("p")], {"p": second}, facts())
    assert q.lines[0].prices[0].span.line == 4
    assert q.lines[0].prices[0].alterations[0].span.line == 4
    assert isinstance(second, CompiledPlan)


def test_what_a_plan_remembers_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_prices, "MEMO_SIZE", 2)
    source = "plan p { currency CNY price a: one_time 2.00 * cart.count(a) discount d: 1.00 on a }"
    compiled = compile_plan(parsed(source)["p"])
    for count in range(1, 6):
        q = quote_compiled([line("p")], {"p": compiled}, facts(cart={"a": count}))
        assert q.due_now == 2 * count - 1
    assert 0 < len(compiled.unit.tables.shown) <= 2
    assert 0 < len(compiled.unit.tables.applied) <= 2


# -- property: compiled == interpreted ----------------------------------------------------------

CONDITIONS = [
    "customer.type == enterprise",
    "customer.vip_level >= 3",
    "customer.tenure >= 24 months",
    '"vip" in customer.segments',
    "area within GD",
    "customer.home within QH",
    "channel == web",
    "channel in {hall, web}",
    "cart.count(a) >= 2",
    '"c" in cart',
    "bundle.count(a) >= 2",
    "bundle.lines > 2",
    "item.quantity >= 2",
    'item.option.pay == "yearly"',
    "time.date between 2026-03-01 and 2026-03-15",
    "time.weekday in {sat, sun}",
    "customer.age between 18 and 30",
    "not customer.vip_level >= 3 or channel == web",
    "customer.spend > 100.00 CNY",
    "customer.installable",
]
MONEY = ["0", "5.00", "19.99", "70.00", "120.5", "0.125", "-5.00", "33.333", "70.0"]
MONEY += ["1234567890123456789012.3456789"]  # 29 digits: every step stays exact
DYNAMIC = ["2.50 * cart.count(a)", "customer.spend", "1.5 CNY * item.quantity", "3 USD"]
PERCENTS = ["10%", "6.5%", "33%", "100%", "0%", "150%", "10% + 5%"]  # last: see below
PERIODS = ["month", "3 months", "quarter", "year", "1 month"]

conditions = st.one_of(st.just(""), st.sampled_from(CONDITIONS).map(lambda c: f" when {c}"))
money = st.one_of(*[st.sampled_from(MONEY)] * 4, st.sampled_from(DYNAMIC))
list_money = st.one_of(*[st.sampled_from(MONEY)] * 12, st.sampled_from(DYNAMIC[:3]))
MODES = ["half_up", "half_even", "down", "up", "ceiling", "floor"]


@st.composite
def prices(draw: st.DrawFn, name: str) -> str:
    """One `price` line, either kind, with any of its options."""
    amount = draw(list_money)
    if draw(st.booleans()):
        text = f"price {name}: one_time {amount}"
        text += draw(st.sampled_from(["", " starting next month", " starting now"]))
        text += draw(st.sampled_from(["", " covering 12 months"]))
    else:
        text = f"price {name}: recurring {amount} per {draw(st.sampled_from(PERIODS))}"
        text += draw(st.sampled_from(["", " prorated", " prorated daily"]))
    return text + draw(conditions)


@st.composite
def alterations(draw: st.DrawFn, name: str, targets: list[str]) -> str:
    """One alteration of any kind, its options in any order."""
    target = draw(st.sampled_from(targets))
    kind = draw(st.sampled_from(["discount", "discount", "waive", "override", "cap", "floor"]))
    amount = draw(st.one_of(money, st.sampled_from(PERCENTS)) if kind == "discount" else money)
    options = [
        draw(st.sampled_from(["", " credit"])),
        draw(st.sampled_from(["", ' "促销"'])),
        draw(st.sampled_from(["", " priority 1", " priority 2", " priority 5"])),
        draw(st.sampled_from(["", " for 3 months"])),
    ]
    tail = "".join(draw(st.permutations(options))) + draw(conditions)
    if target.startswith("replaces "):
        return target + tail
    named = f"{name}: " if kind == "discount" or draw(st.booleans()) else ""
    if kind == "discount":
        return f"discount {named}{amount} on {target}{tail}"
    if kind == "waive":
        return f"waive {named}{target}{tail}"
    word = {"override": "to", "cap": "at", "floor": "at"}[kind]
    return f"{kind} {named}{target} {word} {amount}{tail}"


@st.composite
def option_group(draw: st.DrawFn, names: list[str]) -> str:
    """`option pay { … }` with `monthly` and some other choices; appends its price names."""
    others = draw(st.lists(st.sampled_from(["yearly", "free"]), max_size=2, unique=True))
    choices = []
    for c, choice in enumerate(["monthly", *others]):
        inner = [f"q{c}{k}" for k in range(draw(st.integers(1, 2)))]
        names += inner
        choices.append(f"{choice}: " + " ; ".join(draw(prices(name)) for name in inner))
    default = draw(st.sampled_from(["monthly"] * 12 + ["yearly", "nope"]))
    return f"option pay default {default} {{ " + " ".join(choices) + " }"


@st.composite
def plans(draw: st.DrawFn, plan: str, members: tuple[str, ...] = ()) -> str:
    """A plan: settings, prices, maybe an option group, alterations (a combo's plan also
    aims at its `members`' prices)."""
    body = [draw(st.sampled_from(["currency CNY"] * 15 + [""]))]
    taxes = ["", "tax 9% included", "tax 6% excluded", "tax 0% excluded"]
    body.append(draw(st.sampled_from(taxes)))
    scope = draw(st.sampled_from(["", " per line", " per total", " per event"]))
    decimals = draw(st.sampled_from([0, 1, 2, 2, 3, 20]))  # 20: beyond what rounding allows
    rounding = f"rounding {draw(st.sampled_from(MODES))} {decimals}{scope}"
    body.append(draw(st.sampled_from(["", rounding, rounding])))
    names = [f"p{i}" for i in range(draw(st.integers(1, 3)))]
    body += [draw(prices(name)) for name in names]
    if draw(st.booleans()):
        body.append(draw(option_group(names)))
    targets = ["*", *names]
    for member in members:
        targets += [f"{member}.{p}" for p in ("p0", "p1", "q00")]
        targets += [f"each {member}.{p}" for p in ("p0", "q10")]
        targets += [f"replaces {member}.p0", f"replaces each {member}.p1"]
    count = draw(st.integers(0, 6))
    body += [draw(alterations(f"d{i}", targets)) for i in range(count)]
    return f"plan {plan} {{\n  " + "\n  ".join(b for b in body if b) + "\n}\n"


options: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just({}),
    st.dictionaries(st.just("pay"), st.sampled_from(["monthly", "yearly", "free", "weekly"])),
)


def cart_line(
    offer: str, members: tuple[n.CartLine, ...] = (), quantities: tuple[int, int] = (0, 2)
) -> st.SearchStrategy[n.CartLine]:
    return st.builds(
        lambda qty, opts: line(offer, *members, qty=qty, **opts),
        st.integers(*quantities),
        options,
    )


members = st.lists(
    st.one_of(cart_line("a", (), (0, 3)), cart_line("b", (), (1, 2)), cart_line("x")),
    min_size=1,
    max_size=4,
)
combos = members.flatmap(lambda ms: cart_line("c", tuple(ms), (1, 2)))
carts = st.lists(
    st.one_of(cart_line("a"), cart_line("b"), cart_line("x"), combos, combos),
    min_size=1,
    max_size=3,
)
maybe_ints = st.one_of(st.none(), st.integers(0, 40))
customers = st.builds(
    CustomerFacts,
    type=st.sampled_from([None, "personal", "enterprise"]),
    segments=st.frozensets(st.sampled_from(["vip", "student"])),
    age=maybe_ints,
    vip_level=st.one_of(st.none(), st.integers(0, 5)),
    tenure_months=maybe_ints,
    attributes=st.fixed_dictionaries(
        {},
        optional={
            "spend": st.sampled_from([(D("150.00"), "CNY"), (D(20), "CNY"), (D(1), "USD")]),
            "installable": st.booleans(),
            "home": st.sampled_from(sorted(AREAS)),
        },
    ),
)
moments = st.sampled_from(
    [
        datetime(2026, 3, 2, 10, tzinfo=CST),
        datetime(2026, 3, 21, 23, 30, tzinfo=CST),
        datetime(2026, 2, 28, 20, tzinfo=UTC),
        datetime(2026, 12, 31, 18, tzinfo=UTC),
        datetime(2024, 2, 29, 0, 0, tzinfo=CST),
    ]
)
sales = st.builds(
    lambda customer, area, channel, moment, cart: SaleFacts(
        customer, area, AREAS[area], channel, moment, cart
    ),
    customers,
    st.sampled_from(sorted(AREAS)),
    st.sampled_from(["hall", "web", "sms"]),
    moments,
    st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 3)),
)
zones = st.sampled_from([None, timedelta(hours=8), timedelta(0), timedelta(hours=-5)])
cases = st.lists(st.tuples(carts, sales, zones), min_size=1, max_size=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans("a"), plans("b"), plans("c", ("a", "b")), cases)
def test_compiled_plans_equal_the_interpreter(
    a: str, b: str, c: str, cases: list[tuple[list[n.CartLine], SaleFacts, timedelta | None]]
) -> None:
    for cart, sale, zone in cases:
        both(a + b + c, *cart, sale=sale, tz=zone)
