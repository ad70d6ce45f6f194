"""Each version's repeated response parts, kept by the edge (quotes, eligibility answers): the same
answers as built fresh, and equal values still print as written."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from benchmarks.test_quote import CART, CHINA
from catalog.model import CatalogVersionInfo
from dsl.context import CustomerFacts
from rules.listing import list_offers
from rules.qualification import check_cart
from rules.quoting import QuotedCart, quote_cart
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog
from tariff.mappers.qualification import cart_to_proto, listing_parts, page_to_proto
from tariff.mappers.quote import parts_of, price_to_proto, quote_to_proto
from tests.support.catalogs import sample_content
from tests.support.quote_catalog import quote_content


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return SaleCatalog(CatalogVersionInfo(1, epoch, epoch, "t", "", 0, 0, 0), quote_content())


def quoted(catalog: SaleCatalog, day: int = 2) -> QuotedCart:
    customer = CustomerFacts(
        type="personal", segments=frozenset({"family"}), attributes={"address_installable": True}
    )
    sale = Sale(customer, "GD_SZ", "hall", datetime(2026, 3, day, 10, tzinfo=CHINA))
    return quote_cart(catalog, sale, CART, CHINA)


def test_a_quote_is_the_same_with_and_without_the_version_parts(catalog: SaleCatalog) -> None:
    paths, texts = catalog.book.plan_paths, catalog.book.texts
    for day in (2, 2, 3, 17):  # repeats read what earlier answers left in the version's parts
        answer = quoted(catalog, day)
        fresh = quote_to_proto(answer, paths, texts)
        assert quote_to_proto(answer, paths, texts, parts_of(catalog)) == fresh
        assert any(p.alterations for i in fresh.items for p in i.prices)


def test_equal_rates_written_differently_keep_their_own_text(catalog: SaleCatalog) -> None:
    line = next(line for line in quoted(catalog).quote.lines if line.prices)
    price = line.prices[0]
    parts = parts_of(None)
    nine = replace(price, tax_rate=Decimal("9"))
    nine_point_zero = replace(price, tax_rate=Decimal("9.000"))
    first = price_to_proto(nine, line.plan, "p", parts)
    second = price_to_proto(nine_point_zero, line.plan, "p", parts)
    assert first.list_price.tax_rate.value == "0.09"
    assert second.list_price.tax_rate.value == "0.090"


def test_the_parts_are_bounded(catalog: SaleCatalog) -> None:
    line = next(line for line in quoted(catalog).quote.lines if line.prices)
    parts = parts_of(None)
    for cents in range(parts.LIMIT + 10):
        price = replace(line.prices[0], list_amount=Decimal(cents) / 100)
        price_to_proto(price, line.plan, "p", parts)
    assert len(parts.found) <= parts.LIMIT


def test_a_check_answer_is_the_same_with_and_without_the_version_parts(
    catalog: SaleCatalog,
) -> None:
    sale = Sale(CustomerFacts(type="personal"), "GD_SZ", "hall", datetime(2026, 3, 2, tzinfo=UTC))
    cart = (CartItem("1", "caller_id_addon"), CartItem("2", "family_bundle"))
    for _ in range(2):  # the second answer reads the parts the first one filled
        verdict = check_cart(catalog, sale, cart)
        assert not verdict.qualified
        fresh = cart_to_proto(verdict, catalog.book.texts)
        assert cart_to_proto(verdict, catalog.book.texts, listing_parts(catalog)) == fresh
        assert fresh.items[0].reasons
        assert fresh.items[1].reasons


def test_a_listing_page_is_the_same_with_and_without_the_version_parts() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    catalog = SaleCatalog(CatalogVersionInfo(3, epoch, epoch, "t", "", 0, 0, 0), sample_content())
    customer = CustomerFacts(type="personal", segments=frozenset({"youth"}), age=20)
    sale = Sale(customer, "GD_SZ", "hall", datetime(2026, 3, 2, tzinfo=UTC))
    for size in (2, 2, 100, 100):  # repeats read what earlier pages left in the version's parts
        page = list_offers(catalog, sale, page_size=size)
        fresh = page_to_proto(page, catalog.book.texts)
        assert page_to_proto(page, catalog.book.texts, listing_parts(catalog)) == fresh
        assert fresh.offers
        assert bool(fresh.next_page_token) == (size == 2)
        assert fresh.catalog_version == 3


def test_the_parts_are_the_versions_own(catalog: SaleCatalog) -> None:
    assert parts_of(catalog) is parts_of(catalog)
    assert listing_parts(catalog) is listing_parts(catalog)
    other = SaleCatalog(catalog.info, catalog.content)
    assert parts_of(other) is not parts_of(catalog)
    assert listing_parts(other) is not listing_parts(catalog)
    assert parts_of(None) is not parts_of(None)
