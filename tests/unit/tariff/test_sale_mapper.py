"""Sale contexts and carts from the wire: every violation, at its field path, in order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.model import CatalogVersionInfo
from rules.sale import CartItem
from rules.sale_catalog import SaleCatalog
from tariff.mappers.common import Problems
from tariff.mappers.sale import cart_from_proto, sale_from_proto
from tariff.v1 import order_pb2
from tests.support.quote_catalog import quote_content

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def catalog() -> SaleCatalog:
    return SaleCatalog(CatalogVersionInfo(1, EPOCH, EPOCH, "t", "", 0, 0, 0), quote_content())


def test_a_clean_cart_maps_with_default_ids_and_quantities(catalog: SaleCatalog) -> None:
    problems = Problems()
    items = [
        order_pb2.CartItem(
            offer_code="family_bundle",
            members=[order_pb2.CartItem(offer_code="family_plan", quantity=2)],
        ),
        order_pb2.CartItem(
            item_id="b", offer_code="broadband_100m", options={"payment": "yearly_prepay"}
        ),
    ]
    cart = cart_from_proto(items, "items", catalog, problems)
    assert not problems
    assert cart == (
        CartItem("1", "family_bundle", members=(CartItem("1.1", "family_plan", quantity=2),)),
        CartItem("b", "broadband_100m", options={"payment": "yearly_prepay"}),
    )


def test_every_cart_violation_is_reported_at_its_path(catalog: SaleCatalog) -> None:
    problems = Problems()
    items = [
        order_pb2.CartItem(item_id="x", offer_code=" ", quantity=-1),
        order_pb2.CartItem(
            item_id="x",
            offer_code="mobile_basic",
            action=99,  # type: ignore[arg-type]
            members=[
                order_pb2.CartItem(
                    offer_code="nope", members=[order_pb2.CartItem(offer_code="family_plan")]
                )
            ],
        ),
    ]
    cart_from_proto(items, "items", catalog, problems)
    assert [(v.field, v.description) for v in problems.violations] == [
        ("items[0].offer_code", "is required"),
        ("items[0].quantity", "must not be negative"),
        ("items[1].action", "unknown action 99"),
        ("items[1].members", "mobile_basic is not a combo: it has no members"),
        (
            "items[1].members[0].members",
            "a member cannot list members of its own: put a nested combo in its own line",
        ),
        ("items[1].item_id", "item id 'x' is used twice"),
    ]


def test_every_customer_violation_is_reported_at_its_path(catalog: SaleCatalog) -> None:
    problems = Problems()
    customer = order_pb2.Customer(
        age=-1,
        segment_codes=["family", "martians"],
        held_products=[order_pb2.HeldProduct(offer_code=""), order_pb2.HeldProduct(offer_code="z")],
    )
    context = order_pb2.SaleContext(customer=customer, area_code="GD_SZ", channel_code="hall")
    sale = sale_from_proto(context, "context", catalog, EPOCH, problems)
    assert [(v.field, v.description) for v in problems.violations] == [
        ("context.customer.age", "must not be negative"),
        ("context.customer.segment_codes[1]", "unknown segment 'martians'"),
        ("context.customer.held_products[0].offer_code", "is required"),
        ("context.customer.held_products[1].offer_code", "unknown offer 'z'"),
    ]
    assert sale.customer.age == -1
    assert sale.customer.products == frozenset()
