"""rules.offering_prices: a plan's prices as data, read off its checked tree - constants
exact, everything else as its rule text and place - and an offer's plans by area."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from catalog.model import CatalogVersionInfo
from dsl import nodes as n
from dsl.codegen import CompileError
from dsl.parser import parse
from rules import offering_prices as op
from rules.compiled import CompiledRuleSet
from rules.sale_catalog import SaleCatalog
from tests.support.quote_catalog import quote_content

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INFO = CatalogVersionInfo(1, EPOCH, EPOCH, "test", "", 0, 0, 0)

PLAN = """\
plan p "标题" {
  currency CNY
  tax 6% included
  rounding half_up 2
  commitment 12 months

  price rent: recurring 59.00 per month for sms prorated daily
  price setup: one_time 30.00 starting next month covering 3 months when channel == web
  price extra: one_time 2.00 * cart.count(p)
  option payment default monthly {
    monthly: price fee: recurring 1.50 per 3 months
    yearly: price prepay: one_time 600.00; price router: one_time 99.00
  }
  discount loyal: 10% on rent when customer.tenure >= 24 months
      priority 5 for 12 months "老客户"
  waive setup
  cap rent at 50.00 credit
  discount minus: -1.00 on rent

  usage local_voice {
    zones z
    rate local *: 0.15 per minute increments 60s then 6s connection 0.05 minimum 0.10
        maximum 9.00 when not event.roaming
    rate * *: 0.20 per 30 s
    allowance free_100: 100 min per month on local
  }
  usage mobile_data {
    tiers graduated per month {
      0 GB .. 5 GB: 0.29 per MB
      5 GB ..: 0.10 per MB
    }
    rate * *: 0.29 per MB increments 1 KB
    cap 60.00 per month
    rounding down 2 per event
  }
}
"""


@pytest.fixture(scope="module")
def plan() -> op.PlanPrices:
    module = parse(PLAN, "p.tariff")
    decl = module.declarations[0]
    assert isinstance(decl, n.PlanDecl)
    return op.plan_prices(decl, "p.tariff", PLAN)


def period(value: n.PeriodLit | None) -> tuple[int, str] | None:
    """A period without its place."""
    return None if value is None else (value.count, value.unit)


def by_name(plan: op.PlanPrices) -> dict[str, op.ListPrice]:
    return {p.name: p for p in plan.prices}


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (n.Span(1, 1, 1, 5), "plan"),
        (n.Span(1, 6, 1, 7), "p"),
        (n.Span(14, 19, 15, 17), "10% on rent when customer.tenure >= 24 months priority 5"),
        (n.Span(0, 1, 0, 1), ""),  # before the text
        (n.Span(99, 1, 99, 2), ""),  # after it
        (n.Span(3, 5, 2, 1), ""),  # ending before it starts
    ],
)
def test_rule_text_joins_the_lines_a_span_covers(span: n.Span, text: str) -> None:
    assert op.rule_text(PLAN, span) == text


def test_plan_settings_are_read_as_written(plan: op.PlanPrices) -> None:
    assert (plan.plan, plan.path, plan.title, plan.currency) == ("p", "p.tariff", "标题", "CNY")
    assert (plan.tax_rate, plan.tax_included) == (Decimal(6), True)
    assert plan.rounding is not None
    assert (plan.rounding.mode, plan.rounding.decimals) == (
        "half_up",
        2,
    )
    assert period(plan.commitment) == (12, "month")
    assert not plan.error


def test_constant_prices_are_exact_money_in_the_plan_currency(plan: op.PlanPrices) -> None:
    rent = by_name(plan)["rent"]
    assert rent.amount == op.Money(Decimal("59.00"), "CNY")
    assert (rent.kind, period(rent.period), rent.business, rent.prorated) == (
        "recurring",
        (1, "month"),
        "sms",
        True,
    )
    assert rent.condition is None
    assert (rent.option, rent.choice) == ("", "")
    setup = by_name(plan)["setup"]
    assert setup.kind == "one_time"
    assert setup.starts_next_period
    assert period(setup.covering) == (3, "month")
    assert setup.condition is not None
    assert setup.condition.text == "channel == web"
    assert setup.condition.path == "p.tariff"
    assert setup.condition.span.line == 8


def test_an_amount_over_the_facts_is_given_as_its_rule_text(plan: op.PlanPrices) -> None:
    extra = by_name(plan)["extra"].amount
    assert isinstance(extra, op.Expression)
    assert extra.text == "2.00 * cart.count(p)"
    assert (extra.span.line, extra.span.column) == (9, 25)


def test_option_prices_follow_the_plan_own_in_choice_order(plan: op.PlanPrices) -> None:
    assert [p.name for p in plan.prices] == ["rent", "setup", "extra", "fee", "prepay", "router"]
    assert [(p.option, p.choice) for p in plan.prices[3:]] == [
        ("payment", "monthly"),
        ("payment", "yearly"),
        ("payment", "yearly"),
    ]
    assert plan.options == (op.Option("payment", "monthly", ("monthly", "yearly")),)
    assert period(by_name(plan)["fee"].period) == (3, "month")


def test_alterations_keep_amount_condition_and_options(plan: op.PlanPrices) -> None:
    loyal, waive, cap, minus = plan.alterations
    assert (loyal.name, loyal.kind, loyal.target_price, loyal.amount) == (
        "loyal",
        "discount",
        "rent",
        op.Percent(Decimal(10)),
    )
    assert loyal.condition is not None
    assert loyal.condition.text == "customer.tenure >= 24 months"
    assert (loyal.priority, period(loyal.duration), loyal.label) == (5, (12, "month"), "老客户")
    assert (waive.kind, waive.amount, waive.condition) == ("waive", None, None)
    assert (cap.kind, cap.amount, cap.credit) == ("cap", op.Money(Decimal("50.00"), "CNY"), True)
    assert minus.amount == op.Money(Decimal("-1.00"), "CNY")  # a negated constant stays one


def test_usage_rates_tiers_allowances_and_caps(plan: op.PlanPrices) -> None:
    voice, data = plan.usage
    assert (voice.business, voice.zones, voice.bands) == ("local_voice", "z", "")
    first, second = voice.rates
    assert (first.zone, first.band, first.price) == (
        "local",
        "*",
        op.Money(Decimal("0.15"), "CNY"),
    )
    assert first.per == op.UsageQuantity(Decimal(1), "min")  # units in their canonical words
    assert first.first_increment == op.UsageQuantity(Decimal(60), "s")
    assert first.next_increment == op.UsageQuantity(Decimal(6), "s")
    assert first.connection == op.Money(Decimal("0.05"), "CNY")
    assert (first.minimum, first.maximum) == (
        op.Money(Decimal("0.10"), "CNY"),
        op.Money(Decimal("9.00"), "CNY"),
    )
    assert first.condition is not None
    assert first.condition.text == "not event.roaming"
    assert second.per == op.UsageQuantity(Decimal(30), "s")
    assert (second.first_increment, second.connection, second.condition) == (None, None, None)
    (allowance,) = voice.allowances
    assert (allowance.name, allowance.amount, allowance.zones, allowance.bands) == (
        "free_100",
        op.UsageQuantity(Decimal(100), "min"),
        ("local",),
        (),
    )
    assert period(allowance.period) == (1, "month")
    assert data.tiers is not None
    assert data.tiers.mode == "graduated"
    low, high = data.tiers.tiers
    assert (low.low, low.high) == (
        op.UsageQuantity(Decimal(0), "GB"),
        op.UsageQuantity(Decimal(5), "GB"),
    )
    assert high.high is None
    assert high.price == op.Money(Decimal("0.10"), "CNY")
    (cap,) = data.caps
    assert (cap.amount, period(cap.period)) == (op.Money(Decimal("60.00"), "CNY"), (1, "month"))
    assert data.rounding is not None
    assert data.rounding.mode == "down"


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    return SaleCatalog(INFO, quote_content())


def test_a_book_makes_each_plan_once_and_knows_no_other(catalog: SaleCatalog) -> None:
    book = catalog.offering_prices
    first = book.plan("fixed_20")
    assert first is not None
    assert first.plan == "fixed_20"
    assert book.plan("fixed_20") is first
    assert book.plan("no_such_plan") is None


def test_a_plan_that_does_not_compile_is_given_with_its_error_only(
    catalog: SaleCatalog,
) -> None:
    compiled = catalog.compiled
    broken = {"fixed_20": CompileError("unknown name `x`", n.Span(3, 5, 3, 6))}
    rules = CompiledRuleSet(compiled.offers, compiled.plans, broken)
    book = op.OfferingPriceBook(rules, catalog.book.plan_paths, catalog.book.texts)
    found = book.plan("fixed_20")
    assert found is not None
    assert found.error == "unknown name `x`"
    assert (found.prices, found.usage, found.currency) == ((), (), "")


def test_an_offer_gives_its_own_plan_then_each_override(catalog: SaleCatalog) -> None:
    offer = catalog.offers["fixed_line_basic"]
    everywhere = op.offering_prices(catalog, offer)
    assert [(p.plan, areas) for p, areas in everywhere.plans] == [
        ("fixed_20", ()),
        ("fixed_gd", ("GD",)),
    ]
    in_shenzhen = op.offering_prices(catalog, offer, catalog.tree.lineage("GD_SZ"))
    assert [p.plan for p, _ in in_shenzhen.plans] == ["fixed_gd"]
    in_beijing = op.offering_prices(catalog, offer, catalog.tree.lineage("BJ_BJ"))
    assert [p.plan for p, _ in in_beijing.plans] == ["fixed_20"]
    assert everywhere.version == 1
    assert not everywhere.members


def test_a_combo_gives_each_member_plan_where_the_sale_happens(catalog: SaleCatalog) -> None:
    combo = catalog.offers["family_bundle"]
    prices = op.offering_prices(catalog, combo, catalog.tree.lineage("GD_SZ"))
    members = {m.offer: (m.plan.plan if m.plan else None) for m in prices.members}
    assert members["fixed_line_basic"] == "fixed_gd"  # the province's override
    assert members["family_plan"] == "family_mobile"
    assert [p.plan for p, _ in prices.plans] == ["family_bundle"]
