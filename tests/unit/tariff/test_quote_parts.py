"""The version memo of repeated response parts (quotes, eligibility answers): the same
answers as built fresh, and equal values still print as written."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from catalog.model import CatalogVersionInfo
from dsl.context import CustomerFacts
from rules.qualification import check_cart
from rules.sale import CartItem, Sale
from rules.sale_catalog import SaleCatalog
from tariff.mappers.qualification import cart_to_proto
from tariff.mappers.quote import _amount, parts_of
from tests.support.quote_catalog import quote_content


def test_equal_rates_written_differently_keep_their_own_text() -> None:
    parts = parts_of({})
    nine = parts.amount("CNY", Decimal("9"), Decimal("10.5"), None)
    nine_point_zero = parts.amount("CNY", Decimal("9.000"), Decimal("10.5"), None)
    assert nine.tax_rate.value == "0.09"
    assert nine_point_zero.tax_rate.value == "0.090"


def test_a_memoised_amount_is_the_amount_built_fresh() -> None:
    memo: dict[object, object] = {}
    for _ in range(2):
        found = parts_of(memo).amount("CNY", Decimal(6), Decimal("-1.25"), Decimal("-1.33"))
        assert found == _amount("CNY", Decimal(6), Decimal("-1.25"), Decimal("-1.33"))
    assert parts_of(memo) is parts_of(memo)


def test_the_memo_is_bounded() -> None:
    parts = parts_of({})
    for cents in range(parts.LIMIT + 10):
        parts.amount("CNY", Decimal(0), Decimal(cents) / 100, None)
    assert len(parts.found) <= parts.LIMIT


def test_a_check_answer_is_the_same_with_and_without_the_version_memo() -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    catalog = SaleCatalog(CatalogVersionInfo(1, epoch, epoch, "t", "", 0, 0, 0), quote_content())
    sale = Sale(CustomerFacts(type="personal"), "GD_SZ", "hall", datetime(2026, 3, 2, tzinfo=UTC))
    cart = (CartItem("1", "caller_id_addon"), CartItem("2", "family_bundle"))
    for _ in range(2):  # the second answer reads the memo the first one filled
        verdict = check_cart(catalog, sale, cart)
        assert not verdict.qualified
        fresh = cart_to_proto(verdict, catalog.book.texts)
        assert cart_to_proto(verdict, catalog.book.texts, catalog.memo) == fresh
        assert fresh.items[0].reasons
        assert fresh.items[1].reasons
