"""Workload `quote`: Quote's engine in process on a 5-item cart with a bundle (the family
bundle with four members, broadband with the yearly prepay, a fixed line, a mobile plan and
its caller-ID add-on) for 32 varied family customers in Guangdong's cities.

Variants: `compiled` (rules.quoting: eligibility, then the compiled plans) against the
baseline `interpreter` (the same eligibility, then the reference price interpreter on the
same plans): both give equal quotes, asserted.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone

import pytest

from benchmarks.conftest import Measure
from catalog.model import CatalogVersionInfo
from dsl.context import CustomerFacts
from dsl.eval_prices import quote as interpreted
from dsl.eval_prices_model import Quote
from rules.qualification import check_cart, sale_facts
from rules.quoting import cart_line, quote_cart
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog
from tests.support.quote_catalog import quote_content

SIZES = {"gate": (5,), "full": (5,)}
CHINA = timezone(timedelta(hours=8))
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CART = (
    CartItem(
        "1",
        "family_bundle",
        members=(
            CartItem("1.1", "fixed_line_basic"),
            CartItem("1.2", "broadband_basic"),
            CartItem("1.3", "family_plan"),
            CartItem("1.4", "family_plan"),
        ),
    ),
    CartItem("2", "broadband_100m", options={"payment": "yearly_prepay"}),
    CartItem("3", "fixed_line_basic"),
    CartItem("4", "mobile_basic"),
    CartItem("5", "caller_id_addon"),
)


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    return SaleCatalog(CatalogVersionInfo(1, EPOCH, EPOCH, "bench", "", 0, 0, 0), quote_content())


def customers(count: int = 32, seed: int = 3) -> list[Sale]:
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        customer = CustomerFacts(
            type="personal",
            segments=frozenset({"family"}),
            age=rng.randint(25, 70),
            tenure_months=rng.randint(0, 120),
            vip_level=rng.choice((0, 1, 3)),
            attributes={"address_installable": True},
        )
        day = datetime(2026, 3, 2, 10, tzinfo=CHINA) + timedelta(days=rng.randint(0, 20))
        if day.weekday() == 6:
            day += timedelta(days=1)
        found.append(Sale(customer, rng.choice(("GD_SZ", "GD_GZ")), "hall", day))
    return found


def compiled_all(catalog: SaleCatalog, sales: Sequence[Sale]) -> list[Quote]:
    return [quote_cart(catalog, sale, CART, CHINA).quote for sale in sales]


def interpreted_all(catalog: SaleCatalog, sales: Sequence[Sale]) -> list[Quote]:
    found = []
    for sale in sales:
        assert check_cart(catalog, sale, CART).qualified
        lineage = catalog.tree.lineage(sale.area)
        plans = {}
        for item in CART:
            for code in (item.offer_code, *(m.offer_code for m in item.members)):
                plan = catalog.book.plans.get(catalog.plan_name(catalog.offers[code], lineage))
                if plan is not None:
                    plans[code] = plan
        facts = sale_facts(catalog, sale, {i.offer_code: i.quantity for i in CART})
        lines = [cart_line(i) for i in CART]
        found.append(interpreted(lines, plans, facts, tz=CHINA, env=catalog.book.env))
    return found


def test_quote_compiled(measure: Measure, size: int, catalog: SaleCatalog) -> None:
    sales = customers()
    bench = measure("quote", "compiled", size=size, items=len(sales))
    quotes = bench(compiled_all, catalog, sales)
    assert quotes == interpreted_all(catalog, sales)
    assert all(q.due_now > 0 for q in quotes)


def test_quote_interpreter(measure: Measure, size: int, catalog: SaleCatalog) -> None:
    sales = customers()
    bench = measure("quote", "interpreter", size=size, items=len(sales))
    quotes = bench(interpreted_all, catalog, sales)
    assert len(quotes) == len(sales)
