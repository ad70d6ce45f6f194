"""What rules read at run time: the facts of a sale, prepared once per request.

Compiled rules and the reference interpreter both take a `SaleFacts`; the schema below says
which dotted names a rule may use and their types, so the checker and the runtime agree.
Unknown values are None; a rule reading one gets *unknown* (three-valued logic).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class CustomerFacts:
    type: str | None = None  # "personal" | "enterprise"
    segments: frozenset[str] = frozenset()
    age: int | None = None
    vip_level: int | None = None
    tenure_months: int | None = None  # `customer.tenure` compares with periods in months
    credit_class: str | None = None
    products: frozenset[str] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class ItemFacts:
    offer: str
    quantity: int = 1
    options: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    attributes: Mapping[str, Any] = field(default_factory=lambda: EMPTY)


@dataclass(frozen=True, slots=True)
class SaleFacts:
    """One evaluation's input. `area_lineage` is the area then its ancestors up to the
    nation (for `within`); `cart` counts lines per offer; `bundle` counts a combo's members
    (None outside a combo)."""

    customer: CustomerFacts
    area: str
    area_lineage: tuple[str, ...]
    channel: str
    time: datetime  # tz-aware; local fields use the catalog's time zone
    cart: Mapping[str, int] = field(default_factory=lambda: EMPTY)
    item: ItemFacts | None = None
    bundle: Mapping[str, int] | None = None


#: Built-in context names and their types (see docs/dsl.md, "Expressions"). Free attributes
#: (`customer.NAME`, `item.NAME`, `event.NAME`) get their type from `attribute` declarations.
SCHEMA: Mapping[str, str] = MappingProxyType(
    {
        "customer.type": "customer_type",
        "customer.segments": "set of segment",
        "customer.age": "int",
        "customer.vip_level": "int",
        "customer.tenure": "period",
        "customer.credit_class": "string",
        "customer.products": "set of offer",
        "area": "area",
        "channel": "channel",
        "time": "instant",
        "time.date": "date",
        "time.time": "time_of_day",
        "time.weekday": "weekday",
        "cart": "set of offer",
        "item.quantity": "int",
        "bundle.lines": "int",
        "event.roaming": "bool",
        "event.origin": "area",
        "event.destination": "string",
    }
)

#: Methods: receiver.method(arg types) -> result type.
METHODS: Mapping[str, tuple[tuple[str, ...], str]] = MappingProxyType(
    {
        "cart.count": (("offer",), "int"),
        "bundle.count": (("offer",), "int"),
    }
)

#: `item.option.GROUP` is a string naming the chosen option of GROUP.
OPTION_PREFIX = "item.option."
