"""The reference price interpreter: hand-computed waterfalls written as DSL source, properties,
and the price examples of the shipped samples (through `rules.examples_prices`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl import nodes as n
from dsl.context import CustomerFacts, SaleFacts
from dsl.eval_prices import PricedPrice, PriceError, Quote, quote
from dsl.parser import parse
from dsl.symbols import Scope
from rules.examples_prices import price_verdict

ROOT = Path(__file__).resolve().parents[3]
CST = timezone(timedelta(hours=8))
MARCH_2 = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
D = Decimal


def plans_of(source: str) -> dict[str, n.PlanDecl]:
    """Plans by name: in these tests an offer's plan has the offer's code."""
    module = parse(source, "test.tariff")
    return {d.name: d for d in module.declarations if isinstance(d, n.PlanDecl)}


def facts(
    *,
    cart: Mapping[str, int] | None = None,
    time: datetime = MARCH_2,
    area: tuple[str, ...] = ("GD_SZ", "GD", "CN"),
    channel: str = "hall",
    **customer: object,
) -> SaleFacts:
    return SaleFacts(
        customer=CustomerFacts(**customer),  # type: ignore[arg-type]
        area=area[0],
        area_lineage=area,
        channel=channel,
        time=time,
        cart=cart or {},
    )


def line(offer: str, *members: n.CartLine, qty: int = 1, **options: str) -> n.CartLine:
    return n.CartLine(offer=offer, quantity=qty, options=tuple(options.items()), members=members)


def one(q: Quote, name: str) -> PricedPrice:
    found = q.prices_named(name)
    assert len(found) >= 1, name
    return found[0]


def run(source: str, *lines: n.CartLine, sale: SaleFacts | None = None) -> Quote:
    return quote(lines, plans_of(source), sale or facts())


# -- the waterfall ------------------------------------------------------------------------------

STACK = """
plan p {
  currency CNY
  price rent: recurring 100.00 per month
  discount pct: 10% on rent priority PCT
  discount amt: 20.00 on rent priority AMT
}
"""


@pytest.mark.parametrize(("pct", "amt", "final"), [(2, 1, "72"), (1, 2, "70"), (1, 1, "70")])
def test_discounts_stack_in_priority_then_source_order(pct: int, amt: int, final: str) -> None:
    source = STACK.replace("PCT", str(pct)).replace("AMT", str(amt))
    rent = one(run(source, line("p")), "rent")
    assert rent.final_amount == D(final)
    kinds = [(a.name, a.change, a.percent, a.priority) for a in rent.alterations]
    if (pct, amt) == (2, 1):  # 100 - 20 = 80, then 10% of 80
        assert kinds == [("amt", D(-20), None, 1), ("pct", D(-8), D(10), 2)]
    else:  # 100 - 10% = 90, then - 20
        assert kinds == [("pct", D(-10), D(10), 1), ("amt", D(-20), None, amt)]


def test_caps_and_floors_come_after_discounts_whatever_their_priority() -> None:
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
    q = run(source, line("p"))
    rent, tv = one(q, "rent"), one(q, "tv")
    assert rent.final_amount == 30  # 70 - 50 = 20, cap does not bind, floor lifts to 30
    assert [(a.kind, a.stage, a.change) for a in rent.alterations] == [
        ("discount", "product", D(-50)),
        ("floor", "limit", D(10)),
    ]
    assert tv.final_amount == 12  # floor 15 (priority 0), then cap 12 (priority 1)
    assert q.monthly == 42


def test_alterations_apply_only_when_their_condition_holds() -> None:
    source = """
    plan p {
      currency CNY
      price rent: recurring 100.00 per month
      discount ent: 10% on * when customer.type == enterprise
      discount gd: 5.00 on rent when area within GD and channel == web
      waive rent when "family_bundle" in cart priority 9
      override vip: rent to 50.00 when customer.vip_level >= 3
    }
    """
    plain = one(run(source, line("p")), "rent")
    assert plain.final_amount == 100
    assert plain.alterations == ()
    ent = run(source, line("p"), sale=facts(type="enterprise", channel="web"))
    assert one(ent, "rent").final_amount == 85
    elsewhere = facts(type="enterprise", channel="web", area=("QH", "CN"))
    assert one(run(source, line("p"), sale=elsewhere), "rent").final_amount == 90
    in_bundle = facts(cart={"family_bundle": 1, "p": 1})
    assert one(run(source, line("p"), sale=in_bundle), "rent").final_amount == 0
    vip = one(run(source, line("p"), sale=facts(vip_level=3)), "rent")
    assert vip.final_amount == 50
    assert vip.alterations[0].kind == "override"
    assert vip.alterations[0].change == -50
    assert vip.alterations[0].name == "vip"
    unknown = facts()  # vip_level unknown: the override does not apply
    assert one(run(source, line("p"), sale=unknown), "rent").final_amount == 100


def test_prices_guarded_by_when_count_only_when_true() -> None:
    source = """
    attribute item.buy_modem: bool
    plan p {
      currency CNY
      price modem: one_time 100.00 when item.buy_modem == true
      price small: one_time 5.00 when cart.count(p) >= 2
    }
    """
    assert run(source, line("p")).due_now == 0
    two = facts(cart={"p": 2})
    assert run(source, line("p", qty=2), sale=two).due_now == D("10.00")  # 2 units


def test_credit_may_go_below_zero_otherwise_never() -> None:
    source = """
    plan p {
      currency CNY
      price a: recurring 70.00 per month
      price b: recurring 70.00 per month
      discount big: 100.00 on a
      discount back: 100.00 on b credit "返现"
    }
    """
    q = run(source, line("p"))
    assert one(q, "a").final_amount == 0
    assert one(q, "a").alterations[0].change == -70
    b = one(q, "b")
    assert b.final_amount == -30
    assert b.alterations[0].credit
    assert b.alterations[0].label == "返现"
    assert q.monthly == -30


def test_durations_are_shown_and_count_in_the_first_period() -> None:
    source = """
    plan p {
      currency CNY
      price rent: recurring 70.00 per month
      override promo: rent to 50.00 "开学季" for 3 months
    }
    """
    q = run(source, line("p"))
    rent = one(q, "rent")
    assert rent.final_amount == 50
    assert q.monthly == 50
    assert q.first_bill == 50
    (promo,) = rent.alterations
    assert promo.duration == n.PeriodLit(count=3, unit="month")
    assert promo.label == "开学季"
    assert promo.span.line == 5


# -- options, timing, proration ---------------------------------------------------------------

BROADBAND = """
plan bb {
  currency CNY
  tax 9% included
  rounding half_up 2
  price installation: one_time 58.00 for installation
  option payment default monthly {
    monthly: price rent: recurring 70.00 per month for broadband_month prorated daily
    yearly_prepay: price prepay: one_time 720.00 for broadband_month starting next month
        covering 12 months
  }
}
"""


def test_prepay_option_starts_next_month_and_is_due_now() -> None:
    q = run(BROADBAND, line("bb", payment="yearly_prepay"))
    prepay = one(q, "prepay")
    assert prepay.due == "now"
    assert prepay.type == "one_time"
    assert prepay.starts == datetime(2026, 4, 1, tzinfo=CST)
    assert prepay.covering == n.PeriodLit(count=12, unit="month")
    assert q.due_now == D("778.00")
    assert q.monthly == 0
    assert q.first_bill == 0
    december = facts(time=datetime(2026, 12, 31, 20, 0, tzinfo=UTC))  # Jan 1 in CST
    q = quote([line("bb", payment="yearly_prepay")], plans_of(BROADBAND), december)
    assert one(q, "prepay").starts == datetime(2027, 1, 1, tzinfo=UTC)
    in_cst = quote([line("bb", payment="yearly_prepay")], plans_of(BROADBAND), december, tz=CST)
    assert one(in_cst, "prepay").starts == datetime(2027, 2, 1, tzinfo=CST)


def test_default_option_and_unknown_choice() -> None:
    q = run(BROADBAND, line("bb"))
    assert [p.name for p in q.lines[0].prices] == ["installation", "rent"]
    with pytest.raises(PriceError, match="not a choice"):
        run(BROADBAND, line("bb", payment="weekly"))


def test_daily_proration_of_the_first_month() -> None:
    rent = one(run(BROADBAND, line("bb")), "rent")
    assert rent.proration == Fraction(30, 31)  # March 2 to 31, the sale's day included
    assert rent.first_period == D("67.74")  # 70 * 30/31 = 67.7419…
    assert rent.tax_included == D("70.00")  # `price` and `monthly` show the full month
    first_day = facts(time=datetime(2026, 2, 1, 0, 0, tzinfo=CST))
    assert one(run(BROADBAND, line("bb"), sale=first_day), "rent").proration == 1
    last_day = facts(time=datetime(2026, 2, 28, 23, 0, tzinfo=CST))
    q = run(BROADBAND, line("bb"), sale=last_day)
    assert one(q, "rent").proration == Fraction(1, 28)
    assert q.first_bill == D("2.50")


# -- tax and rounding ---------------------------------------------------------------------------


def test_tax_included_and_excluded() -> None:
    source = """
    plan inc { currency CNY tax 9% included rounding half_up 2 price r: one_time 109.00 }
    plan exc { currency CNY tax 6% excluded price r: one_time 100.00 }
    """
    inc = one(run(source, line("inc")), "r")
    assert (inc.duty_free, inc.tax_included, inc.tax_rate) == (D("100.00"), D("109.00"), D(9))
    exc = one(run(source, line("exc")), "r")
    assert (exc.duty_free, exc.tax_included) == (D(100), D(106))
    assert run(source, line("exc")).due_now == 106  # totals are tax included


def test_rounding_only_at_the_declared_place() -> None:
    source = """
    plan r { currency CNY tax 6% excluded rounding half_up 2
             price x: one_time 10.05 discount d: 33% on x }
    plan e { currency CNY tax 6% excluded price x: one_time 10.05 discount d: 33% on x }
    plan bad { currency CNY tax 9% included price x: one_time 70.00 }
    """
    rounded = one(run(source, line("r")), "x")
    assert rounded.final_amount == D("6.7335")  # 10.05 - 3.3165: steps stay exact
    assert rounded.alterations[0].change == D("-3.3165")
    assert rounded.duty_free == D("6.73")
    assert rounded.tax_included == D("7.14")
    exact = one(run(source, line("e")), "x")
    assert exact.duty_free == D("6.7335")
    assert exact.tax_included == D("7.137510")
    with pytest.raises(PriceError, match="declare `rounding`"):
        run(source, line("bad"))  # 70 / 1.09 does not terminate


def test_rounding_per_total_rounds_line_totals_only() -> None:
    source = """
    plan t { currency CNY tax 6% excluded rounding half_even 2 per total
             price a: one_time 0.125 price b: one_time 0.125 }
    """
    q = run(source, line("t"))
    assert [p.tax_included for p in q.lines[0].prices] == [D("0.1325"), D("0.1325")]
    assert q.due_now == D("0.26")  # 0.265 half even


# -- combos -------------------------------------------------------------------------------------

FAMILY = """
plan family {
  currency CNY
  price bundle_rent: recurring 169.00 per month
  replaces each mobile.rent "由套餐月租替代"
  waive fixed.installation "融合免初装"
  discount second: 50% on each mobile.data when bundle.count(mobile) >= 2 priority 20
      for 12 months
  discount first_only: 1.00 on mobile.data
  cap fixed.rent at 15.00
}
plan fixed {
  currency CNY
  price installation: one_time 58.00
  price rent: recurring 20.00 per month
  discount own: 10% on rent
}
plan mobile {
  currency CNY
  price rent: recurring 39.00 per month
  price data: recurring 10.00 per month
}
"""


def test_a_combo_waives_replaces_and_discounts_its_members() -> None:
    combo = line("family", line("fixed"), line("mobile", qty=2))
    q = run(FAMILY, combo)
    assert [(ln.offer, ln.member_of) for ln in q.lines] == [
        ("family", ""),
        ("fixed", "family"),
        ("mobile", "family"),
        ("mobile", "family"),
    ]
    fixed = q.lines[1]
    inst = fixed.prices[0]
    assert inst.final_amount == 0
    assert [(a.kind, a.stage, a.plan, a.label) for a in inst.alterations] == [
        ("waive", "bundle", "family", "融合免初装")
    ]
    rent = fixed.prices[1]  # 20 - 10% = 18 (product), cap 15 (combo's limit)
    assert [(a.kind, a.stage, a.change) for a in rent.alterations] == [
        ("discount", "product", D(-2)),
        ("cap", "limit", D(-3)),
    ]
    first, second = q.lines[2], q.lines[3]
    assert [p.final_amount for p in first.prices] == [0, D("4.5")]  # (10 - 1, first only) - 50%
    assert [p.final_amount for p in second.prices] == [0, D(5)]
    replaced = first.prices[0].alterations[0]
    assert (replaced.kind, replaced.change, replaced.label) == ("replace", D(-39), "由套餐月租替代")
    assert q.monthly == D("193.5")
    assert q.due_now == 0
    alone = run(FAMILY, line("fixed"), line("mobile"))
    assert alone.due_now == 58
    assert alone.monthly == 18 + 39 + 10


def test_on_each_discount_needs_its_condition() -> None:
    q = run(FAMILY, line("family", line("fixed"), line("mobile")))
    assert [p.final_amount for p in q.lines[2].prices] == [0, D(9)]  # one mobile: no 50%


def test_mixing_currencies_is_an_error() -> None:
    source = """
    plan a { currency CNY price r: one_time 1.00 }
    plan b { currency USD price r: one_time 1.00 }
    """
    with pytest.raises(PriceError, match="mixes currencies"):
        run(source, line("a"), line("b"))


def test_an_offer_without_a_plan_has_no_prices() -> None:
    q = run(FAMILY, line("family", line("router")))
    assert q.lines[1].prices == ()
    assert q.lines[1].member_of == "family"
    assert q.currency == "CNY"


# -- properties ---------------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False, allow_infinity=False)
percent = st.decimals(min_value=0, max_value=100, places=1, allow_nan=False, allow_infinity=False)
alteration = st.tuples(
    st.booleans(), percent, money, st.integers(min_value=0, max_value=5), st.booleans()
)


def _source(rents: list[Decimal], alts: list[tuple[bool, Decimal, Decimal, int, bool]]) -> str:
    body = ["currency CNY", "tax 6% excluded", "rounding half_up 2", "price fee: one_time 9.99"]
    body += [f"price r{i}: recurring {amount} per month" for i, amount in enumerate(rents)]
    for j, (is_pct, pct, amt, prio, credit) in enumerate(alts):
        value = f"{pct}%" if is_pct else str(amt)
        body.append(f"discount d{j}: {value} on * priority {prio}" + (" credit" if credit else ""))
    return "plan p {\n" + "\n".join(body) + "\n}\n"


@settings(max_examples=60, deadline=None)
@given(
    st.lists(money, min_size=1, max_size=3),
    st.lists(alteration, max_size=4),
    st.integers(1, 3),
)
def test_totals_are_sums_and_credit_alone_goes_negative(
    rents: list[Decimal], alts: list[tuple[bool, Decimal, Decimal, int, bool]], qty: int
) -> None:
    source = _source(rents, alts)
    q = run(source, line("p", qty=qty))
    assert q == run(source, line("p", qty=qty))  # deterministic
    assert [ln.quantity for ln in q.lines] == [qty]  # one line, counted: never one per unit
    prices = [(p, ln.quantity) for ln in q.lines for p in ln.prices]
    assert q.due_now == sum(p.tax_included * k for p, k in prices if p.type == "one_time")
    assert q.monthly == sum(p.tax_included * k for p, k in prices if p.monthly)
    assert q.first_bill == sum(ln.first_bill * ln.quantity for ln in q.lines)
    assert q.monthly == sum(ln.monthly * ln.quantity for ln in q.lines)
    prices = [(p, 1) for p, _ in prices]
    if not any(credit for *_, credit in alts):
        assert all(p.final_amount >= 0 and p.tax_included >= 0 for p, _ in prices)


@settings(max_examples=40, deadline=None)
@given(st.lists(money, min_size=1, max_size=3))
def test_a_zero_percent_discount_changes_nothing(rents: list[Decimal]) -> None:
    plain = run(_source(rents, []), line("p"))
    zero = run(_source(rents, [(True, D(0), D(0), 0, False)]), line("p"))
    assert (zero.due_now, zero.monthly, zero.first_bill) == (
        plain.due_now,
        plain.monthly,
        plain.first_bill,
    )
    for a, b in zip(plain.lines[0].prices, zero.lines[0].prices, strict=True):
        assert (a.final_amount, a.duty_free, a.tax_included) == (
            b.final_amount,
            b.duty_free,
            b.tax_included,
        )


# -- the samples' price examples ----------------------------------------------------------------


def _sample_facts(example: n.Example) -> SaleFacts:
    customer: dict[str, object] = {}
    area, channel, moment = "", "", MARCH_2
    for g in example.given:
        value = g.value
        if g.name.dotted == "area" and isinstance(value, n.Name):
            area = value.dotted
        elif g.name.dotted == "channel" and isinstance(value, n.Name):
            channel = value.dotted
        elif g.name.dotted == "time" and isinstance(value, n.InstantLit):
            moment = value.value
        elif g.name.dotted == "customer.tenure" and isinstance(value, n.PeriodLit):
            customer["tenure_months"] = value.count * {"month": 1, "year": 12}[value.unit]
    cart: dict[str, int] = {}
    for ln in example.cart:
        cart[ln.offer] = cart.get(ln.offer, 0) + ln.quantity
    return facts(cart=cart, time=moment, area=(area, "GD", "CN"), channel=channel, **customer)


SAMPLES = ["broadband.tariff", "family_bundle.tariff"]


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_price_examples_pass(name: str) -> None:
    module = parse((ROOT / "dsl" / "examples" / name).read_text(encoding="utf-8"), name)
    scope = Scope.of(module)
    plans = dict(scope.plans)
    ran = 0
    for example in scope.examples.values():
        if not any(e.kind in ("due_now", "monthly", "price") for e in example.expect):
            continue
        status, expected, actual = price_verdict(example, plans, scope, _sample_facts(example))
        assert status == "passed", (example.name, expected, actual)
        ran += 1
    assert ran >= 1


def test_price_verdict_reports_failures() -> None:
    module = parse(
        BROADBAND
        + """
        example wrong {
          given cart = [bb with payment = yearly_prepay]
          expect due now 720.00 CNY, price prepay 720.00
        }
        example nothing { given cart = [bb] expect eligible bb }
        """,
        "t.tariff",
    )
    scope = Scope.of(module)
    wrong, nothing = scope.examples["wrong"], scope.examples["nothing"]
    status, expected, actual = price_verdict(wrong, {}, scope, facts())
    assert status == "failed"
    assert expected == "due now 720.00 CNY; price prepay 720.00 CNY"
    assert actual == "due now 778.00 CNY; price prepay 720.00 CNY"
    assert price_verdict(nothing, {}, scope, facts())[0] == "not_run"
