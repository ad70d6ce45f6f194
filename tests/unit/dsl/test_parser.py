"""The parser turns every construct of docs/dsl.md into the expected `dsl.nodes` (spans are
not compared by node equality; a few tests check them explicitly)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from dsl import nodes as n
from dsl.parser import parse


def module(src: str) -> n.Module:
    return parse(src, "t.tariff")


def condition(src: str) -> n.Expr:
    decl = module(f"offer t {{ eligible all {{ r: {src} }} }}").declarations[0]
    assert isinstance(decl, n.OfferDecl)
    assert decl.eligibility is not None
    return decl.eligibility.rules[0].condition


def name(*parts: str) -> n.Name:
    return n.Name(parts=parts)


def i(value: int) -> n.IntLit:
    return n.IntLit(value=value)


def money(text: str, currency: str = "") -> n.MoneyLit:
    return n.MoneyLit(amount=Decimal(text), currency=currency)


A, B, C = name("a"), name("b"), name("c")
CST = timezone(timedelta(hours=8))


# -- literals ---------------------------------------------------------------------------------

LITERALS: list[tuple[str, n.Expr]] = [
    ("15", i(15)),
    ("0", i(0)),
    ("1_000", i(1000)),
    ("0.20", n.DecimalLit(value=Decimal("0.20"))),
    ("1_000.000_1", n.DecimalLit(value=Decimal("1000.0001"))),
    ("39.00 CNY", n.MoneyLit(amount=Decimal("39.00"), currency="CNY")),
    ("0.2 USD", n.MoneyLit(amount=Decimal("0.2"), currency="USD")),
    ("20%", n.PercentLit(value=Decimal("20"))),
    ("6.5 %", n.PercentLit(value=Decimal("6.5"))),
    ("60s", n.DurationLit(amount=Decimal(60), unit="s")),
    ("6 s", n.DurationLit(amount=Decimal(6), unit="s")),
    ("1 min", n.DurationLit(amount=Decimal(1), unit="min")),
    ("300 minutes", n.DurationLit(amount=Decimal(300), unit="min")),
    ("500 ms", n.DurationLit(amount=Decimal(500), unit="ms")),
    ("2 h", n.DurationLit(amount=Decimal(2), unit="h")),
    ("1.5 hours", n.DurationLit(amount=Decimal("1.5"), unit="h")),
    ("1 day", n.PeriodLit(count=1, unit="day")),
    ("2 weeks", n.PeriodLit(count=2, unit="week")),
    ("3 months", n.PeriodLit(count=3, unit="month")),
    ("1 quarter", n.PeriodLit(count=1, unit="quarter")),
    ("1 year", n.PeriodLit(count=1, unit="year")),
    ("5 years", n.PeriodLit(count=5, unit="year")),
    ("512 KB", n.DataLit(amount=Decimal(512), unit="KB")),
    ("1 MB", n.DataLit(amount=Decimal(1), unit="MB")),
    ("1.5GB", n.DataLit(amount=Decimal("1.5"), unit="GB")),
    ("1 TB", n.DataLit(amount=Decimal(1), unit="TB")),
    ("100 B", n.DataLit(amount=Decimal(100), unit="B")),
    ("1 message", n.CountLit(amount=1, unit="message")),
    ("10 messages", n.CountLit(amount=10, unit="message")),
    ("1 event", n.CountLit(amount=1, unit="event")),
    ("3 events", n.CountLit(amount=3, unit="event")),
    ("08:00", n.TimeOfDayLit(seconds=8 * 3600)),
    ("8:30", n.TimeOfDayLit(seconds=8 * 3600 + 1800)),
    ("23:59:59", n.TimeOfDayLit(seconds=86399)),
    ("24:00", n.TimeOfDayLit(seconds=86400)),
    ("00:00", n.TimeOfDayLit(seconds=0)),
    ("2026-10-01", n.DateLit(value=date(2026, 10, 1))),
    ("2028-02-29", n.DateLit(value=date(2028, 2, 29))),
    (
        "2026-03-02T10:00:00+08:00",
        n.InstantLit(value=datetime(2026, 3, 2, 10, tzinfo=CST)),
    ),
    (
        "2026-03-02T02:00:00Z",
        n.InstantLit(value=datetime(2026, 3, 2, 2, tzinfo=UTC)),
    ),
    ('"hall"', n.StringLit(value="hall")),
    ('""', n.StringLit(value="")),
    ('"亲情1+"', n.StringLit(value="亲情1+")),
    (r'"a\"b\\c\nd\te"', n.StringLit(value='a"b\\c\nd\te')),
    (r'"\u4e2d\u6587"', n.StringLit(value="中文")),
    ('"# not a comment"', n.StringLit(value="# not a comment")),
    ("true", n.BoolLit(value=True)),
    ("false", n.BoolLit(value=False)),
    ("{hall, web}", n.SetLit(items=(name("hall"), name("web")))),
    ('{"A", "B"}', n.SetLit(items=(n.StringLit(value="A"), n.StringLit(value="B")))),
    ("{}", n.SetLit(items=())),
    ("customer.age", name("customer", "age")),
    ("item.option.payment", name("item", "option", "payment")),
    ("亲情套餐", name("亲情套餐")),
    ("`price`", name("price")),
    ("`two words`", name("two words")),
    ("GD_SZ", name("GD_SZ")),
]


@pytest.mark.parametrize(("src", "expected"), LITERALS, ids=[s for s, _ in LITERALS])
def test_literals(src: str, expected: n.Expr) -> None:
    assert condition(src) == expected


def test_numbers_are_decimals_never_floats() -> None:
    lit = condition("0.1")
    assert isinstance(lit, n.DecimalLit)
    assert isinstance(lit.value, Decimal)
    assert lit.value == Decimal("0.1")
    assert condition("1_000_000_000_000_000_000_000") == i(10**21)


# -- operators ---------------------------------------------------------------------------------

EXPRESSIONS: list[tuple[str, n.Expr]] = [
    ("a or b and c", n.Or(operands=(A, n.And(operands=(B, C))))),
    ("a and b or c", n.Or(operands=(n.And(operands=(A, B)), C))),
    ("a or b or c", n.Or(operands=(A, B, C))),
    ("a and b and c", n.And(operands=(A, B, C))),
    ("(a or b) and c", n.And(operands=(n.Or(operands=(A, B)), C))),
    ("not a and b", n.And(operands=(n.Not(operand=A), B))),
    ("not not a", n.Not(operand=n.Not(operand=A))),
    ("not a == b", n.Not(operand=n.Compare(op="==", left=A, right=B))),
    ("a == b", n.Compare(op="==", left=A, right=B)),
    ("a != b", n.Compare(op="!=", left=A, right=B)),
    ("a < b", n.Compare(op="<", left=A, right=B)),
    ("a <= b", n.Compare(op="<=", left=A, right=B)),
    ("a > b", n.Compare(op=">", left=A, right=B)),
    ("a >= b", n.Compare(op=">=", left=A, right=B)),
    ("a + b * c", n.Arith(op="+", left=A, right=n.Arith(op="*", left=B, right=C))),
    ("a * b + c", n.Arith(op="+", left=n.Arith(op="*", left=A, right=B), right=C)),
    ("a - b - c", n.Arith(op="-", left=n.Arith(op="-", left=A, right=B), right=C)),
    ("a / b / c", n.Arith(op="/", left=n.Arith(op="/", left=A, right=B), right=C)),
    ("a - (b - c)", n.Arith(op="-", left=A, right=n.Arith(op="-", left=B, right=C))),
    ("-a * b", n.Arith(op="*", left=n.Neg(operand=A), right=B)),
    ("- -a", n.Neg(operand=n.Neg(operand=A))),
    ("a * -b", n.Arith(op="*", left=A, right=n.Neg(operand=B))),
    ("a + 1 > b", n.Compare(op=">", left=n.Arith(op="+", left=A, right=i(1)), right=B)),
    ("a between 1 and 2", n.Between(value=A, low=i(1), high=i(2))),
    ("a not between 1 and 2", n.Between(value=A, low=i(1), high=i(2), negated=True)),
    (
        "a between b + 1 and c and b",
        n.And(operands=(n.Between(value=A, low=n.Arith(op="+", left=B, right=i(1)), high=C), B)),
    ),
    ("a in {b, c}", n.In(value=A, container=n.SetLit(items=(B, C)))),
    ("a not in b", n.In(value=A, container=B, negated=True)),
    ("not a in b", n.Not(operand=n.In(value=A, container=B))),
    ("area within GD", n.Within(value=name("area"), area=name("GD"))),
    ("area not within GD", n.Within(value=name("area"), area=name("GD"), negated=True)),
    (
        "time.date in 2026-10-01 .. 2026-10-07",
        n.Between(
            value=name("time", "date"),
            low=n.DateLit(value=date(2026, 10, 1)),
            high=n.DateLit(value=date(2026, 10, 7)),
        ),
    ),
    (
        "time.time not in 08:00 .. 12:00",
        n.Between(
            value=name("time", "time"),
            low=n.TimeOfDayLit(seconds=28800),
            high=n.TimeOfDayLit(seconds=43200),
            negated=True,
        ),
    ),
    (
        "cart.count(mobile_basic) >= 2",
        n.Compare(
            op=">=",
            left=n.Call(target=name("cart"), method="count", args=(name("mobile_basic"),)),
            right=i(2),
        ),
    ),
    (
        "a.b.f(x, 1)",
        n.Call(target=name("a", "b"), method="f", args=(name("x"), i(1))),
    ),
    ("cart.count()", n.Call(target=name("cart"), method="count", args=())),
    (
        '"vip" in customer.segments and customer.tenure >= 24 months',
        n.And(
            operands=(
                n.In(value=n.StringLit(value="vip"), container=name("customer", "segments")),
                n.Compare(
                    op=">=",
                    left=name("customer", "tenure"),
                    right=n.PeriodLit(count=24, unit="month"),
                ),
            )
        ),
    ),
]


@pytest.mark.parametrize(("src", "expected"), EXPRESSIONS, ids=[s for s, _ in EXPRESSIONS])
def test_precedence_and_associativity(src: str, expected: n.Expr) -> None:
    assert condition(src) == expected


# -- contextual keywords and names --------------------------------------------------------------


def test_keywords_are_names_where_the_grammar_expects_a_name() -> None:
    m = module(
        "offer price { eligible all { rate: x in {price, rate, offer, plan, option} } }\n"
        "plan rate { price plan: one_time 1 for usage }\n"
        'zones calendar { "0": bands }\n'
    )
    offer, plan, zones = m.declarations
    assert isinstance(offer, n.OfferDecl)
    assert offer.code == "price"
    assert offer.eligibility is not None
    rule = offer.eligibility.rules[0]
    assert rule.name == "rate"
    expected_set = n.SetLit(
        items=tuple(name(w) for w in ("price", "rate", "offer", "plan", "option"))
    )
    assert rule.condition == n.In(value=name("x"), container=expected_set)
    assert isinstance(plan, n.PlanDecl)
    assert plan.name == "rate"
    price = plan.items[0]
    assert isinstance(price, n.Price)
    assert (price.name, price.business) == ("plan", "usage")
    assert isinstance(zones, n.ZonesDecl)
    assert zones.entries[0].zone == "bands"


def test_backquotes_escape_keywords_where_a_keyword_is_expected() -> None:
    m = module("plan p { option g default `price` { `price`: price `price`: one_time 1 } }")
    plan = m.declarations[0]
    assert isinstance(plan, n.PlanDecl)
    group = plan.items[0]
    assert isinstance(group, n.OptionGroup)
    assert group.default == "price"
    assert group.choices[0].name == "price"
    assert group.choices[0].prices[0].name == "price"


def test_keyword_prefixes_are_names() -> None:
    assert condition("index == notable") == n.Compare(
        op="==", left=name("index"), right=name("notable")
    )
    assert condition("orange and android") == n.And(operands=(name("orange"), name("android")))


def test_unicode_identifiers_and_strings() -> None:
    m = module(
        'offer 亲情套餐 { eligible all { 年龄: 客户 == "亲情1+" else "代码" "亲情1+ 说明" } }'
    )
    offer = m.declarations[0]
    assert isinstance(offer, n.OfferDecl)
    assert offer.code == "亲情套餐"
    assert offer.eligibility is not None
    rule = offer.eligibility.rules[0]
    assert rule == n.Rule(
        name="年龄",
        condition=n.Compare(op="==", left=name("客户"), right=n.StringLit(value="亲情1+")),
        reason=n.Reason(code="代码", message="亲情1+ 说明"),
    )


def test_comments_and_empty_files() -> None:
    assert module("").declarations == ()
    assert module("# only a comment\n\n   # another\n").declarations == ()
    assert module("\ufeffcalendar c { }  # trailing").declarations == (n.CalendarDecl(name="c"),)


# -- declarations ------------------------------------------------------------------------------


def test_eligible_all_with_reasons() -> None:
    m = module(
        """offer youth_plan {
  eligible all {
    age:     customer.age between 15 and 26
             else "age_out_of_range" "新势力仅限 15 至 26 岁客户办理"
    channel: channel in {hall, web, agent}
             else "channel"
  }
}"""
    )
    assert m.declarations == (
        n.OfferDecl(
            code="youth_plan",
            eligibility=n.Eligibility(
                mode="all",
                rules=(
                    n.Rule(
                        name="age",
                        condition=n.Between(value=name("customer", "age"), low=i(15), high=i(26)),
                        reason=n.Reason(
                            code="age_out_of_range", message="新势力仅限 15 至 26 岁客户办理"
                        ),
                    ),
                    n.Rule(
                        name="channel",
                        condition=n.In(
                            value=name("channel"),
                            container=n.SetLit(items=(name("hall"), name("web"), name("agent"))),
                        ),
                        reason=n.Reason(code="channel", message=""),
                    ),
                ),
            ),
        ),
    )


def test_eligible_first_branches() -> None:
    m = module(
        """offer vip_plan {
  eligible first {
    when customer.vip_level >= 5: allow
    when channel == sms: deny "channel" "VIP 套餐不支持短信办理"
    when x: deny
    otherwise: deny "not_vip" "仅限 VIP 客户"
  }
}"""
    )
    offer = m.declarations[0]
    assert isinstance(offer, n.OfferDecl)
    assert offer.eligibility == n.Eligibility(
        mode="first",
        branches=(
            n.Branch(
                condition=n.Compare(op=">=", left=name("customer", "vip_level"), right=i(5)),
                allow=True,
            ),
            n.Branch(
                condition=n.Compare(op="==", left=name("channel"), right=name("sms")),
                allow=False,
                reason=n.Reason(code="channel", message="VIP 套餐不支持短信办理"),
            ),
            n.Branch(condition=name("x"), allow=False),
            n.Branch(
                condition=None,
                allow=False,
                reason=n.Reason(code="not_vip", message="仅限 VIP 客户"),
            ),
        ),
    )


def test_composition() -> None:
    m = module(
        """offer family_bundle {
  composition {
    exactly 1 fixed_line_basic
    at least 1 broadband_basic
    1..3 mobile_basic          else "lines" "亲情1+ 可含 1 至 3 条手机线"
    at most 2 of {caller_id_addon, ring_tone} as extras
    at most 1 of {a, b}
    requires broadband_basic, fixed_line_basic
    excludes qh_campus_card    else "campus" "校园卡不能加入亲情1+"
    add-on caller_id_addon only with mobile_basic, fixed_line_basic
  }
}"""
    )
    offer = m.declarations[0]
    assert isinstance(offer, n.OfferDecl)
    assert offer.composition == n.Composition(
        rules=(
            n.MemberRule(cardinality=n.Cardinality(low=1, high=1), offers=("fixed_line_basic",)),
            n.MemberRule(cardinality=n.Cardinality(low=1, high=None), offers=("broadband_basic",)),
            n.MemberRule(
                cardinality=n.Cardinality(low=1, high=3),
                offers=("mobile_basic",),
                reason=n.Reason(code="lines", message="亲情1+ 可含 1 至 3 条手机线"),
            ),
            n.MemberRule(
                cardinality=n.Cardinality(low=0, high=2),
                offers=("caller_id_addon", "ring_tone"),
                group="extras",
            ),
            n.MemberRule(cardinality=n.Cardinality(low=0, high=1), offers=("a", "b")),
            n.RequiresRule(offers=("broadband_basic", "fixed_line_basic")),
            n.ExcludesRule(
                offers=("qh_campus_card",),
                reason=n.Reason(code="campus", message="校园卡不能加入亲情1+"),
            ),
            n.AddOnRule(addon="caller_id_addon", bases=("mobile_basic", "fixed_line_basic")),
        )
    )


PLAN = """plan broadband_100m "宽带 100M" {
  currency CNY
  tax 9% included
  rounding half_up 2
  price installation: one_time 58.00 for installation
  option payment default monthly {
    monthly:       price rent: recurring 70.00 per month for broadband_month prorated daily
    yearly_prepay: price prepay: one_time 720.00 for broadband_month starting next month
                     covering 12 months;
                   price gift: one_time 0 CNY starting now when item.gift == true
  }
  commitment 12 months
  discount loyalty: 10% on rent when customer.tenure >= 24 months priority 10 for 12 months
  waive installation when "family_bundle" in cart priority 5 "融合业务免初装费"
  override rent to 60.00 CNY
  cap rent at 60.00 when customer.vip_level >= 3
  floor rent at 1 credit
  discount any: 5.00 on *
  discount each: 50% on each mobile_basic.rent
  waive member: mobile_basic.installation
  replaces each family_plan.rent priority 2
}"""


def test_plan_prices_and_alterations() -> None:
    plan = module(PLAN).declarations[0]
    assert isinstance(plan, n.PlanDecl)
    assert (plan.name, plan.title) == ("broadband_100m", "宽带 100M")
    month = n.PeriodLit(count=1, unit="month")
    year = n.PeriodLit(count=12, unit="month")
    tenure = n.Compare(
        op=">=", left=name("customer", "tenure"), right=n.PeriodLit(count=24, unit="month")
    )
    assert plan.items == (
        n.Currency(code="CNY"),
        n.Tax(rate=n.PercentLit(value=Decimal(9)), included=True),
        n.Rounding(mode="half_up", decimals=2, scope="line"),
        n.Price(
            name="installation", kind="one_time", amount=money("58.00"), business="installation"
        ),
        n.OptionGroup(
            name="payment",
            default="monthly",
            choices=(
                n.OptionChoice(
                    name="monthly",
                    prices=(
                        n.Price(
                            name="rent",
                            kind="recurring",
                            amount=money("70.00"),
                            period=month,
                            business="broadband_month",
                            prorated=True,
                        ),
                    ),
                ),
                n.OptionChoice(
                    name="yearly_prepay",
                    prices=(
                        n.Price(
                            name="prepay",
                            kind="one_time",
                            amount=money("720.00"),
                            business="broadband_month",
                            starting="next_period",
                            covering=year,
                        ),
                        n.Price(
                            name="gift",
                            kind="one_time",
                            amount=n.MoneyLit(amount=Decimal(0), currency="CNY"),
                            condition=n.Compare(
                                op="==", left=name("item", "gift"), right=n.BoolLit(value=True)
                            ),
                        ),
                    ),
                ),
            ),
        ),
        n.Commitment(term=year),
        n.Alteration(
            kind="discount",
            name="loyalty",
            target=n.PriceTarget(price="rent"),
            amount=n.PercentLit(value=Decimal(10)),
            condition=tenure,
            priority=10,
            duration=year,
        ),
        n.Alteration(
            kind="waive",
            name="",
            target=n.PriceTarget(price="installation"),
            condition=n.In(value=n.StringLit(value="family_bundle"), container=name("cart")),
            priority=5,
            label="融合业务免初装费",
        ),
        n.Alteration(
            kind="override",
            name="",
            target=n.PriceTarget(price="rent"),
            amount=n.MoneyLit(amount=Decimal("60.00"), currency="CNY"),
        ),
        n.Alteration(
            kind="cap",
            name="",
            target=n.PriceTarget(price="rent"),
            amount=money("60.00"),
            condition=n.Compare(op=">=", left=name("customer", "vip_level"), right=i(3)),
        ),
        n.Alteration(
            kind="floor",
            name="",
            target=n.PriceTarget(price="rent"),
            amount=money("1"),
            credit=True,
        ),
        n.Alteration(
            kind="discount", name="any", target=n.PriceTarget(price="*"), amount=money("5.00")
        ),
        n.Alteration(
            kind="discount",
            name="each",
            target=n.PriceTarget(price="rent", offer="mobile_basic", each=True),
            amount=n.PercentLit(value=Decimal(50)),
        ),
        n.Alteration(
            kind="waive",
            name="member",
            target=n.PriceTarget(price="installation", offer="mobile_basic"),
        ),
        n.Alteration(
            kind="waive",
            name="",
            target=n.PriceTarget(price="rent", offer="family_plan", each=True),
            priority=2,
            replaces=True,
        ),
    )


USAGE = """plan mobile_39 {
  currency CNY
  usage local_voice {
    zones cn_zones
    bands peak_offpeak
    time zone "Asia/Shanghai"
    split at band edges
    rate local peak:     0.15 per minute increments 60s then 6 s connection 0.05 minimum 0.10
    rate intl_* *:       2.00 per minute increments 60s maximum 200.00 when event.roaming
    allowance voice_300: 300 minutes per month on local, domestic_ld in peak
    rounding half_up 2 per event
  }
  usage mobile_data {
    rate * *: 0.29 per MB increments 1 KB
    tiers graduated per month {
      0 GB .. 5 GB:  0.29 per MB
      5 GB .. :      0.10 per 1 MB
    }
    allowance data_1g: 1 GB per month
    cap 60.00 per month
  }
  usage sms {
    rate * *: 0.10 per message
    tiers volume per 1 month { 0 messages ..: 0.1 per message }
  }
}"""


def test_usage_tariffs() -> None:
    plan = module(USAGE).declarations[0]
    assert isinstance(plan, n.PlanDecl)
    voice, data, sms = plan.items[1:]
    minute = n.DurationLit(amount=Decimal(1), unit="min")
    month = n.PeriodLit(count=1, unit="month")
    mb = n.DataLit(amount=Decimal(1), unit="MB")
    assert voice == n.Usage(
        business="local_voice",
        zones="cn_zones",
        bands="peak_offpeak",
        time_zone="Asia/Shanghai",
        split=True,
        rates=(
            n.Rate(
                zone=n.Pattern(text="local"),
                band=n.Pattern(text="peak"),
                price=money("0.15"),
                per=minute,
                first_increment=n.DurationLit(amount=Decimal(60), unit="s"),
                next_increment=n.DurationLit(amount=Decimal(6), unit="s"),
                connection=money("0.05"),
                minimum=money("0.10"),
            ),
            n.Rate(
                zone=n.Pattern(text="intl_*"),
                band=n.Pattern(text="*"),
                price=money("2.00"),
                per=minute,
                first_increment=n.DurationLit(amount=Decimal(60), unit="s"),
                maximum=money("200.00"),
                condition=name("event", "roaming"),
            ),
        ),
        allowances=(
            n.Allowance(
                name="voice_300",
                amount=n.DurationLit(amount=Decimal(300), unit="min"),
                period=month,
                zones=(n.Pattern(text="local"), n.Pattern(text="domestic_ld")),
                bands=(n.Pattern(text="peak"),),
            ),
        ),
        rounding=n.Rounding(mode="half_up", decimals=2, scope="event"),
    )
    assert data == n.Usage(
        business="mobile_data",
        rates=(
            n.Rate(
                zone=n.Pattern(text="*"),
                band=n.Pattern(text="*"),
                price=money("0.29"),
                per=mb,
                first_increment=n.DataLit(amount=Decimal(1), unit="KB"),
            ),
        ),
        tiers=n.Tiers(
            mode="graduated",
            period=month,
            tiers=(
                n.Tier(
                    low=n.DataLit(amount=Decimal(0), unit="GB"),
                    high=n.DataLit(amount=Decimal(5), unit="GB"),
                    price=money("0.29"),
                    per=mb,
                ),
                n.Tier(
                    low=n.DataLit(amount=Decimal(5), unit="GB"),
                    high=None,
                    price=money("0.10"),
                    per=mb,
                ),
            ),
        ),
        allowances=(
            n.Allowance(
                name="data_1g", amount=n.DataLit(amount=Decimal(1), unit="GB"), period=month
            ),
        ),
        caps=(n.Cap(amount=money("60.00"), period=month),),
    )
    assert isinstance(sms, n.Usage)
    assert sms.rates[0].per == n.CountLit(amount=1, unit="message")
    assert sms.tiers is not None
    assert sms.tiers.mode == "volume"


def test_calendar_bands_zones_attributes() -> None:
    m = module(
        """calendar cn_holidays {
  weekend fri, sat
  holiday 2026-10-01 .. 2026-10-07 "国庆节"
  holiday 2026-01-01 "元旦"
  workday 2026-10-10
}
calendar plain { }
bands peak_offpeak {
  calendar cn_holidays
  peak:    weekdays 08:00 .. 22:00
  weekend: sat, sun
  night:   22:00 .. 24:00
  offpeak: otherwise
}
zones xining_local {
  "0971": local
  "0972": qinghai
}
attribute customer.address_installable: bool
attribute item.handset: string
attribute event.on_net: bool
"""
    )
    assert m.declarations == (
        n.CalendarDecl(
            name="cn_holidays",
            weekend=("fri", "sat"),
            days=(
                n.Holiday(start=date(2026, 10, 1), end=date(2026, 10, 7), label="国庆节"),
                n.Holiday(start=date(2026, 1, 1), end=date(2026, 1, 1), label="元旦"),
                n.Holiday(start=date(2026, 10, 10), end=date(2026, 10, 10), workday=True),
            ),
        ),
        n.CalendarDecl(name="plain", weekend=("sat", "sun")),
        n.BandsDecl(
            name="peak_offpeak",
            calendar="cn_holidays",
            bands=(
                n.Band(name="peak", days=("weekdays",), start=28800, end=79200),
                n.Band(name="weekend", days=("sat", "sun")),
                n.Band(name="night", start=79200, end=86400),
                n.Band(name="offpeak", otherwise=True),
            ),
        ),
        n.ZonesDecl(
            name="xining_local",
            entries=(
                n.ZoneEntry(prefix="0971", zone="local"),
                n.ZoneEntry(prefix="0972", zone="qinghai"),
            ),
        ),
        n.AttributeDecl(owner="customer", name="address_installable", type="bool"),
        n.AttributeDecl(owner="item", name="handset", type="string"),
        n.AttributeDecl(owner="event", name="on_net", type="bool"),
    )


def test_examples_with_every_expectation() -> None:
    m = module(
        """example everything {
  given customer.age = 20, area = GD_SZ, event.roaming = false
  given cart = [broadband_100m with payment = yearly_prepay, modem = buy,
                2 mobile_basic, family_bundle { fixed_line_basic, 3 family_plan } with x = y]
  given event local_voice 95s to "075512345678" at 2026-03-02T10:00:00+08:00 under mobile_39
  expect eligible youth_plan, not eligible vip_plan because not_vip,
         not eligible a because "age", not eligible b
  expect due now 720.00 CNY, monthly 70, price rent 70.00 CNY, charge 0.30 CNY
  expect zone local, band peak, allowance used 300 minutes, allowance used voice_300 95 s
}"""
    )
    ex = m.declarations[0]
    assert isinstance(ex, n.Example)
    assert ex.given == (
        n.Given(name=name("customer", "age"), value=i(20)),
        n.Given(name=name("area"), value=name("GD_SZ")),
        n.Given(name=name("event", "roaming"), value=n.BoolLit(value=False)),
    )
    assert ex.cart == (
        n.CartLine(
            offer="broadband_100m", options=(("payment", "yearly_prepay"), ("modem", "buy"))
        ),
        n.CartLine(offer="mobile_basic", quantity=2),
        n.CartLine(
            offer="family_bundle",
            options=(("x", "y"),),
            members=(
                n.CartLine(offer="fixed_line_basic"),
                n.CartLine(offer="family_plan", quantity=3),
            ),
        ),
    )
    assert ex.events == (
        n.EventSpec(
            business="local_voice",
            quantity=n.DurationLit(amount=Decimal(95), unit="s"),
            destination="075512345678",
            at=n.InstantLit(value=datetime(2026, 3, 2, 10, tzinfo=CST)),
            plan="mobile_39",
        ),
    )
    assert ex.expect == (
        n.Expectation(kind="eligible", subject="youth_plan"),
        n.Expectation(kind="not_eligible", subject="vip_plan", reason="not_vip"),
        n.Expectation(kind="not_eligible", subject="a", reason="age"),
        n.Expectation(kind="not_eligible", subject="b"),
        n.Expectation(kind="due_now", value=money("720.00", "CNY")),
        n.Expectation(kind="monthly", value=n.MoneyLit(amount=Decimal(70))),
        n.Expectation(kind="price", subject="rent", value=money("70.00", "CNY")),
        n.Expectation(kind="charge", value=money("0.30", "CNY")),
        n.Expectation(kind="zone", subject="local"),
        n.Expectation(kind="band", subject="peak"),
        n.Expectation(kind="allowance_used", value=n.DurationLit(amount=Decimal(300), unit="min")),
        n.Expectation(
            kind="allowance_used",
            subject="voice_300",
            value=n.DurationLit(amount=Decimal(95), unit="s"),
        ),
    )


def test_examples_nest_in_offers_and_plans() -> None:
    m = module(
        "offer o { example a { expect eligible o } }\n"
        "plan p { currency CNY example b { expect monthly 1 } }"
    )
    offer, plan = m.declarations
    assert isinstance(offer, n.OfferDecl)
    assert offer.examples[0].name == "a"
    assert isinstance(plan, n.PlanDecl)
    assert plan.examples[0].name == "b"
    assert plan.items == (n.Currency(code="CNY"),)


# -- spans ---------------------------------------------------------------------------------------


def test_spans_point_at_the_source() -> None:
    src = "offer youth_plan {\n  eligible all {\n    age: customer.age between 15 and 26\n  }\n}\n"
    m = module(src)
    offer = m.declarations[0]
    assert isinstance(offer, n.OfferDecl)
    assert offer.span == n.Span(1, 1, 5, 2)
    assert offer.eligibility is not None
    assert offer.eligibility.span == n.Span(2, 3, 4, 4)
    rule = offer.eligibility.rules[0]
    assert rule.span == n.Span(3, 5, 3, 40)
    cond = rule.condition
    assert isinstance(cond, n.Between)
    assert cond.span == n.Span(3, 10, 3, 40)
    assert cond.value.span == n.Span(3, 10, 3, 22)
    assert cond.low.span == n.Span(3, 31, 3, 33)
    lines = src.splitlines()
    assert lines[2][cond.value.span.column - 1 : cond.value.span.end_column - 1] == "customer.age"


def test_spans_count_code_points_and_every_node_has_one() -> None:
    src = 'example 例子 {\n  given 名字 = "亲情1+", x = 39.00 CNY\n}'
    m = module(src)
    ex = m.declarations[0]
    assert isinstance(ex, n.Example)
    assert ex.given[0].value.span == n.Span(2, 14, 2, 20)
    assert ex.given[1].value.span == n.Span(2, 26, 2, 35)
    for node in m.walk():
        if node is not m:
            assert node.span.line >= 1, node


def test_every_node_of_the_examples_has_a_span() -> None:
    root = Path(__file__).resolve().parents[3] / "dsl" / "examples"
    for path in sorted(root.glob("*.tariff")):
        m = parse(path.read_text(encoding="utf-8"), str(path))
        for node in m.walk():
            assert node.span.line >= 1
            assert node.span.column >= 1, (path, node)


def test_every_terminal_is_named() -> None:
    from dsl.parser import _lark

    names = [t.name for t in _lark().terminals]
    assert names
    assert not [name for name in names if "ANON" in name]
