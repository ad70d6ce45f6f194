"""SaleContext and cart items -> rules.sale values, validated against the catalog version that
answers them: every unknown area, channel, segment or offer code, negative age, missing
customer or empty cart is a field violation (INVALID_ARGUMENT), all reported at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from dsl.context import CustomerFacts
from rules.sale import Action, CartItem, Sale
from rules.sale_catalog import SaleCatalog
from tariff.mappers.common import Problems, join, timestamp_to_datetime
from tariff.mappers.enums import CUSTOMER_TYPE
from tariff.mappers.money import decimal_from_proto, money_from_proto
from tariff.v1 import common_pb2, order_pb2

ACTIONS: Mapping[int, Action] = {
    order_pb2.CART_ACTION_UNSPECIFIED: "add",
    order_pb2.CART_ACTION_ADD: "add",
    order_pb2.CART_ACTION_MODIFY: "modify",
    order_pb2.CART_ACTION_REMOVE: "remove",
}
MAX_CART_ITEMS = 1000
MAX_MEMBERS = 100


def sale_time(
    msg: order_pb2.SaleContext,
    field: str,
    now: datetime,
    problems: Problems,
    tz: tzinfo = UTC,
) -> datetime:
    """The sale's instant (`time` when set, else now) in the operator's zone `tz`, where
    rules read its date and time of day."""
    moment = now
    if msg.HasField("time"):
        moment = timestamp_to_datetime(msg.time, join(field, "time"), problems) or now
    return moment.astimezone(tz)


def value_from_proto(msg: common_pb2.Value, field: str, problems: Problems) -> Any:
    """A free attribute as rules see it; None for an unset value (rules: unknown)."""
    which = msg.WhichOneof("kind")
    if which is None:
        return None
    if which == "decimal_value":
        return decimal_from_proto(msg.decimal_value, join(field, "decimal_value"), problems)
    if which == "money_value":
        return money_from_proto(msg.money_value, join(field, "money_value"), problems)
    return getattr(msg, which)


def attributes_from_proto(
    values: Mapping[str, common_pb2.Value], field: str, problems: Problems
) -> dict[str, Any]:
    found = {}
    for name, value in sorted(values.items()):
        if not name.isidentifier():
            problems.add(f"{field}[{name!r}]", "attribute names are identifiers")
            continue
        found[name] = value_from_proto(value, f"{field}[{name!r}]", problems)
    return {k: v for k, v in found.items() if v is not None}


def _customer(
    msg: order_pb2.Customer, field: str, catalog: SaleCatalog, problems: Problems
) -> CustomerFacts:
    customer_type = CUSTOMER_TYPE.optional_from_proto(msg.type, join(field, "type"), problems)
    for name in ("age", "vip_level", "tenure_months"):
        if msg.HasField(name) and getattr(msg, name) < 0:
            problems.add(join(field, name), "must not be negative")
    segments = catalog.content.segments
    for i, code in enumerate(msg.segment_codes):
        if code not in segments:
            problems.add(f"{join(field, 'segment_codes')}[{i}]", f"unknown segment {code!r}")
    held = []
    for i, product in enumerate(msg.held_products):
        where = f"{join(field, 'held_products')}[{i}].offer_code"
        if not product.offer_code.strip():
            problems.add(where, "is required")
        elif product.offer_code not in catalog.offers:
            problems.add(where, f"unknown offer {product.offer_code!r}")
        else:
            held.append(product.offer_code)
    return CustomerFacts(
        type=None if customer_type is None else customer_type.value,
        segments=frozenset(msg.segment_codes),
        age=msg.age if msg.HasField("age") else None,
        vip_level=msg.vip_level if msg.HasField("vip_level") else None,
        tenure_months=msg.tenure_months if msg.HasField("tenure_months") else None,
        credit_class=msg.credit_class or None,
        products=frozenset(held),
        attributes=attributes_from_proto(msg.attributes, join(field, "attributes"), problems),
    )


def sale_from_proto(
    msg: order_pb2.SaleContext,
    field: str,
    catalog: SaleCatalog,
    time: datetime,
    problems: Problems,
) -> Sale:
    """The sale in `catalog` (the version chosen for it) at `time`."""
    if not msg.HasField("customer"):
        problems.add(join(field, "customer"), "is required")
    customer = _customer(msg.customer, join(field, "customer"), catalog, problems)
    if not msg.area_code.strip():
        problems.add(join(field, "area_code"), "is required")
    elif msg.area_code not in catalog.tree:
        problems.add(join(field, "area_code"), f"unknown area {msg.area_code!r}")
    if not msg.channel_code.strip():
        problems.add(join(field, "channel_code"), "is required")
    elif msg.channel_code not in catalog.content.channels:
        problems.add(join(field, "channel_code"), f"unknown channel {msg.channel_code!r}")
    return Sale(customer, msg.area_code, msg.channel_code, time)


def cart_from_proto(
    items: Sequence[order_pb2.CartItem], field: str, catalog: SaleCatalog, problems: Problems
) -> tuple[CartItem, ...]:
    if not items:
        problems.add(field, "the cart is empty: add at least one item")
        return ()
    if len(items) > MAX_CART_ITEMS:
        problems.add(field, f"at most {MAX_CART_ITEMS} items per cart")
        return ()
    cart = tuple(
        _item(m, f"{field}[{i}]", str(i + 1), catalog, problems) for i, m in enumerate(items)
    )
    seen: set[str] = set()
    for i, item in enumerate(cart):
        if item.item_id in seen:
            problems.add(f"{field}[{i}].item_id", f"item id {item.item_id!r} is used twice")
        seen.add(item.item_id)
    return cart


def _item(
    msg: order_pb2.CartItem, field: str, default_id: str, catalog: SaleCatalog, problems: Problems
) -> CartItem:
    code = msg.offer_code
    if not code.strip():
        problems.add(join(field, "offer_code"), "is required")
    elif code not in catalog.offers:
        problems.add(join(field, "offer_code"), f"unknown offer {code!r}")
    action = ACTIONS.get(msg.action)
    if action is None:
        problems.add(join(field, "action"), f"unknown action {msg.action}")
        action = "add"
    if msg.quantity < 0:
        problems.add(join(field, "quantity"), "must not be negative")
    if len(msg.members) > MAX_MEMBERS:
        problems.add(join(field, "members"), f"at most {MAX_MEMBERS} members per combo")
    members = tuple(
        _item(m, f"{join(field, 'members')}[{i}]", f"{default_id}.{i + 1}", catalog, problems)
        for i, m in enumerate(msg.members[:MAX_MEMBERS])
    )
    if members and code in catalog.kinds and catalog.kinds[code] != "combo":
        problems.add(join(field, "members"), f"{code} is not a combo: it has no members")
    for i, member in enumerate(members):
        if member.members:
            problems.add(
                f"{join(field, 'members')}[{i}].members",
                "a member cannot list members of its own: put a nested combo in its own line",
            )
    return CartItem(
        item_id=msg.item_id or default_id,
        offer_code=code,
        action=action,
        quantity=max(msg.quantity, 0) or 1,
        options=dict(msg.options),
        members=members,
        attributes=attributes_from_proto(msg.attributes, join(field, "attributes"), problems),
    )
