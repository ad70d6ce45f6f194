"""Sale contexts and carts as the messages an order system sends."""

from __future__ import annotations

from collections.abc import Sequence

from rules.sale import CartItem, Sale
from tariff.mappers.common import datetime_to_timestamp
from tariff.v1 import catalog_pb2, order_pb2

TYPES = {
    "personal": catalog_pb2.CUSTOMER_TYPE_PERSONAL,
    "enterprise": catalog_pb2.CUSTOMER_TYPE_ENTERPRISE,
}


def sale_context(sale: Sale) -> order_pb2.SaleContext:
    facts = sale.customer
    customer = order_pb2.Customer(
        id="bench",
        segment_codes=sorted(facts.segments),
        credit_class=facts.credit_class or "",
        held_products=[order_pb2.HeldProduct(offer_code=c) for c in sorted(facts.products)],
    )
    if facts.type is not None:
        customer.type = TYPES[facts.type]
    for name in ("age", "vip_level", "tenure_months"):
        value = getattr(facts, name)
        if value is not None:
            setattr(customer, name, value)
    for name, value in sorted(facts.attributes.items()):
        if isinstance(value, bool):
            customer.attributes[name].bool_value = value
        elif isinstance(value, int):
            customer.attributes[name].int_value = value
        else:
            customer.attributes[name].string_value = str(value)
    return order_pb2.SaleContext(
        customer=customer,
        area_code=sale.area,
        channel_code=sale.channel,
        time=datetime_to_timestamp(sale.time),
    )


def cart_items(items: Sequence[CartItem]) -> list[order_pb2.CartItem]:
    return [order_pb2.CartItem(item_id=i.item_id, offer_code=i.offer_code) for i in items]
