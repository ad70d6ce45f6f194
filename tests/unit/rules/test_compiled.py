"""rules.compiled: every price plan and combo pairing compiled when a version is installed,
so quoting never compiles (issue 16)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from catalog.model import CatalogVersionInfo, Combo
from dsl import compile_prices, loader
from dsl import nodes as n
from dsl.codegen import CompileError
from dsl.context import CustomerFacts
from dsl.eval_prices import price_line, quote
from dsl.eval_usage import UsageEvent
from dsl.runtime_usage import Lean
from rules.compiled import CompiledRuleSet, rates_usage
from rules.quoting import QuoteError, compiled_plan, quote_cart
from rules.rating import EventRating, RatingSession, UsageRecord
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog, _neutral_facts, summarize, summarize_quote
from tariff.gen.catalogs import CatalogSpec, generate_catalog
from tests.support.quote_catalog import quote_content

CHINA = timezone(timedelta(hours=8))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INFO = CatalogVersionInfo(1, EPOCH, EPOCH, "test", "", 0, 0, 0)
FAMILY = CustomerFacts(
    type="personal",
    segments=frozenset({"family"}),
    age=35,
    tenure_months=30,
    attributes={"address_installable": True},
)


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    return SaleCatalog(INFO, quote_content())


def test_every_plan_is_compiled_at_install(catalog: SaleCatalog) -> None:
    assert set(catalog.compiled.plans) == set(catalog.book.plans)
    assert not catalog.compiled.plan_errors
    for name, plan in catalog.book.plans.items():
        compiled = catalog.compiled.plan(name)
        assert compiled is not None
        assert compiled.plan is plan
    assert catalog.compiled.offers is catalog.book.offers


def test_a_quote_compiles_nothing(catalog: SaleCatalog, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("compiled on the request path")

    monkeypatch.setattr(loader, "build_program", refuse)
    monkeypatch.setattr(compile_prices, "_CODE", {})  # nor from the in-process table
    members = (
        CartItem("1.1", "fixed_line_basic"),
        CartItem("1.2", "broadband_basic"),
        CartItem("1.3", "family_plan"),
        CartItem("1.4", "family_plan"),
    )
    cart = [CartItem("1", "family_bundle", members=members), CartItem("2", "fixed_line_basic")]
    when = datetime(2026, 3, 10, 10, tzinfo=CHINA)
    quoted = quote_cart(catalog, Sale(FAMILY, "GD_SZ", "hall", when), cart, CHINA)
    assert len(quoted.quote.lines) >= 5


def generated() -> SaleCatalog:
    """A generated catalog: its combos' plans have no `when`, so their summaries are kept."""
    return SaleCatalog(INFO, generate_catalog(CatalogSpec(offers=60, areas=3, seed=7, combos=4)))


@pytest.mark.parametrize("make", [lambda: SaleCatalog(INFO, quote_content()), generated])
def test_list_price_summaries_agree_with_the_interpreter(make: Callable[[], SaleCatalog]) -> None:
    catalog = make()
    facts = _neutral_facts()
    checked = 0
    for code, offer in catalog.offers.items():
        plan = catalog.book.plans.get(offer.tariff_plan)
        if plan is None or (code, plan.name) not in catalog._summaries:
            continue
        if isinstance(offer, Combo):
            members = catalog.default_members(offer, ())
            plans = {
                c: catalog.book.plans[o.tariff_plan]
                for c in (code, *(m.offer for m in members))
                if (o := catalog.offers[c]).tariff_plan
            }
            combo = n.CartLine(offer=code, members=members)
            quoted = quote([combo], plans, facts, env=catalog.book.env)
            summary = catalog._summaries[(code, plan.name)]
            assert summary == summarize_quote(quoted)
            assert summary is not None
            assert summary.recurring > 0  # the bundle's rent and its discounted members
        else:
            priced = price_line(plan, n.CartLine(offer=code), facts, env=catalog.book.env)
            assert catalog._summaries[(code, plan.name)] == summarize(priced)
        checked += 1
    assert checked >= 3


def test_a_plan_that_does_not_compile_is_refused_by_every_quote() -> None:
    catalog = SaleCatalog(INFO, quote_content())
    error = CompileError("unknown name `x`", n.Span(3, 5, 3, 6))
    rules = CompiledRuleSet(catalog.book.offers, {}, {"broken": error})
    with pytest.raises(CompileError, match="3:5: unknown name"):
        rules.plan("broken")
    assert rules.plan("absent") is None
    catalog.compiled = rules  # as a version whose plan `broken` did not compile
    with pytest.raises(QuoteError, match="plan broken cannot be compiled"):
        compiled_plan(catalog, "broken")


def test_each_usage_rater_is_compiled_once_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = SaleCatalog(INFO, quote_content())  # a version nothing has rated yet
    raters = fresh.compiled.raters
    assert raters is not None
    rating = {name for name, plan in fresh.book.plans.items() if rates_usage(plan)}
    assert rating  # the quote catalog's plans rate some usage
    assert not raters.compiled
    offer = next(
        code
        for code, o in fresh.offers.items()
        if o.tariff_plan in rating
        and "sms" in {u.business for u in fresh.book.plans[o.tariff_plan].items
                      if isinstance(u, n.Usage)}
    )  # fmt: skip
    when = datetime(2026, 3, 10, 10, tzinfo=CHINA)
    usage = UsageEvent("sms", when, 3, "13800000000", "CN", False)
    rated = RatingSession(lambda _start: fresh, CHINA).rate(UsageRecord("e1", "s1", offer, usage))
    assert rated.rated.status == "rated", rated.rated
    assert set(raters.compiled) == {fresh.offers[offer].tariff_plan}

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("compiled again")

    monkeypatch.setattr(loader, "build_program", refuse)
    _key, _plan, lean = EventRating(lambda _start: fresh, CHINA).rate(fresh, "s1", offer, usage)
    assert isinstance(lean, Lean)  # named fields, not positions
    assert (lean.charge, lean.currency) == (rated.rated.charge, rated.rated.currency)
    monkeypatch.undo()
    raters.compile_all()
    assert set(raters.compiled) == rating
    assert fresh.compiled.usage_rater("vip_limits") is None  # a plan that rates nothing
    assert fresh.compiled.usage_rater("absent") is None


def test_a_version_keeps_no_untyped_memo(catalog: SaleCatalog) -> None:
    assert not hasattr(catalog, "memo")
    assert "memo" not in SaleCatalog.__slots__
