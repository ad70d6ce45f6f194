"""SaleContext and cart items -> rules.sale values, validated against the catalog version that
answers them: every unknown area, channel, segment or held offer code, missing offer code,
negative age or quantity, duplicate item id, missing customer or empty cart is a field
violation (INVALID_ARGUMENT), all reported at once. A cart item's offer code that the version
does not know is not: it is that item's result (reason `unknown_offer`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from dsl.context import CustomerFacts
from rules.sale import Action, CartItem, Sale
from rules.sale_catalog import SaleCatalog
from tariff.mappers.common import Problems, join, moment_from_proto
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
#: Items and members together: what bounds a cart's work and its Quote answer (~0.4 KB a
#: line) well inside the 4 MiB a gRPC client accepts by default.
MAX_CART_LINES = 1000
#: The largest quantity of a cart item or member (docs/operations.md, "Request limits"):
#: quantities are priced arithmetically, so this bounds the amounts, not the work.
MAX_QUANTITY = 1_000_000


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
        moment = moment_from_proto(msg.time, join(field, "time"), problems) or now
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
    if not values:
        return {}
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
    customer_type = None
    if msg.type:  # UNSPECIFIED: not set
        customer_type = CUSTOMER_TYPE.optional_from_proto(msg.type, join(field, "type"), problems)
    has = msg.HasField
    age = msg.age if has("age") else None
    vip_level = msg.vip_level if has("vip_level") else None
    tenure = msg.tenure_months if has("tenure_months") else None
    for name, value in (("age", age), ("vip_level", vip_level), ("tenure_months", tenure)):
        if value is not None and value < 0:
            problems.add(join(field, name), "must not be negative")
    segments = catalog.content.segments
    codes = frozenset(msg.segment_codes)
    if not all(code in segments for code in codes):
        for i, code in enumerate(msg.segment_codes):
            if code not in segments:
                problems.add(f"{join(field, 'segment_codes')}[{i}]", f"unknown segment {code!r}")
    held = []
    offers = catalog.offers
    for i, product in enumerate(msg.held_products):
        code = product.offer_code
        if code in offers and code.strip():
            held.append(code)
            continue
        where = f"{join(field, 'held_products')}[{i}].offer_code"
        if not code.strip():
            problems.add(where, "is required")
        else:
            problems.add(where, f"unknown offer {code!r}")
    return CustomerFacts(
        type=None if customer_type is None else customer_type.value,
        segments=codes,
        age=age,
        vip_level=vip_level,
        tenure_months=tenure,
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
    lines = len(items) + sum(len(m.members) for m in items)
    if lines > MAX_CART_LINES:
        problems.add(
            field, f"at most {MAX_CART_LINES} lines per cart, items and members together ({lines})"
        )
        return ()
    cart = tuple([_item(m, field, i, str(i + 1), catalog, problems) for i, m in enumerate(items)])
    ids = {item.item_id for item in cart}
    if len(ids) < len(cart):
        seen: set[str] = set()
        for i, item in enumerate(cart):
            if item.item_id in seen:
                problems.add(f"{field}[{i}].item_id", f"item id {item.item_id!r} is used twice")
            seen.add(item.item_id)
    return cart


def _item(
    msg: order_pb2.CartItem,
    parent: str,
    index: int,
    default_id: str,
    catalog: SaleCatalog,
    problems: Problems,
) -> CartItem:
    """`parent[index]`'s item (its field path is only spelled out for a violation)."""
    code = msg.offer_code
    action = ACTIONS.get(msg.action)
    quantity = msg.quantity
    bad = quantity < 0 or quantity > MAX_QUANTITY
    # An offer code the version does not know is the item's result (`unknown_offer`), not a
    # malformed request: rules.qualification answers it.
    if action is None or bad or not code or code.isspace():
        field = f"{parent}[{index}]"
        if not code.strip():
            problems.add(join(field, "offer_code"), "is required")
        if action is None:
            problems.add(join(field, "action"), f"unknown action {msg.action}")
            action = "add"
        if quantity < 0:
            problems.add(join(field, "quantity"), "must not be negative")
        elif quantity > MAX_QUANTITY:
            problems.add(join(field, "quantity"), f"must be at most {MAX_QUANTITY:,}")
    members: tuple[CartItem, ...] = ()
    if msg.members:
        members = _members(msg, parent, index, default_id, catalog, problems)
    attributes: dict[str, Any] = {}
    if msg.attributes:
        where = join(f"{parent}[{index}]", "attributes")
        attributes = attributes_from_proto(msg.attributes, where, problems)
    options = msg.options
    return CartItem(  # positional: the frozen dataclass's keywords cost more
        msg.item_id or default_id,
        code,
        action,
        quantity if quantity > 0 else 1,
        dict(options) if options else {},  # copying an empty map costs ~2 us
        members,
        attributes,
    )


def _members(
    msg: order_pb2.CartItem,
    parent: str,
    index: int,
    default_id: str,
    catalog: SaleCatalog,
    problems: Problems,
) -> tuple[CartItem, ...]:
    field = f"{parent}[{index}]"
    code = msg.offer_code
    if len(msg.members) > MAX_MEMBERS:
        problems.add(join(field, "members"), f"at most {MAX_MEMBERS} members per combo")
    where = join(field, "members")
    members = tuple(
        [
            _item(m, where, i, f"{default_id}.{i + 1}", catalog, problems)
            for i, m in enumerate(msg.members[:MAX_MEMBERS])
        ]
    )
    if code in catalog.kinds and catalog.kinds[code] != "combo":
        problems.add(join(field, "members"), f"{code} is not a combo: it has no members")
    for i, member in enumerate(members):
        if member.members:
            problems.add(
                f"{where}[{i}].members",
                "a member cannot list members of its own: put a nested combo in its own line",
            )
    return members
