"""What an order system asks about: a sale (who, where, through which channel, when) and a
cart. Plain values, already validated by the edge; rules read them through dsl.context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from dsl.context import EMPTY, CustomerFacts

Action = Literal["add", "modify", "remove"]


@dataclass(frozen=True, slots=True)
class Sale:
    """`customer.products` holds the codes of the products and combos already held."""

    customer: CustomerFacts
    area: str
    channel: str
    time: datetime  # tz-aware

    @property
    def held(self) -> frozenset[str]:
        return self.customer.products


@dataclass(frozen=True, slots=True)
class CartItem:
    """One cart line; a combo's chosen members are cart items of their own."""

    item_id: str
    offer_code: str
    action: Action = "add"
    quantity: int = 1
    options: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    members: tuple[CartItem, ...] = ()
    attributes: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
