"""The demo's sample carts (carts.json) as values the engines take and as command lines.

One file serves the README tour and the tests, so a documented answer cannot drift from what
the engines say: each cart gives its `Sale` and `CartItem`s for `rules.qualification` and
`rules.quoting`, and `args()` the same cart as arguments of `tariff eligible check` and
`tariff quote`. Items use the command line's syntax, `OFFER[=MEMBER,...][@GROUP=CHOICE,...]`
with members `[N*]OFFER`, parsed here the way the command line parses them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from dsl.context import CustomerFacts
from rules.sale import CartItem, Sale
from tariff.demo import CARTS

_ITEM = re.compile(r"^(?P<code>[^=@\s]+)(?:=(?P<members>[^@\s]+))?(?:@(?P<options>\S+))?$")
_MEMBER = re.compile(r"^(?:(?P<count>[0-9]+)\*)?(?P<code>[^,*\s]+)$")


@dataclass(frozen=True, slots=True)
class Expected:
    """The documented answer: the first item's result, its reason codes and proposals (as
    the command line prints them, e.g. "add mobile_39"), and the quote's totals."""

    result: str
    reasons: tuple[str, ...] = ()
    proposals: tuple[str, ...] = ()
    due_now: Decimal | None = None
    monthly: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DemoCart:
    name: str
    title: str
    sale: Sale
    items: tuple[CartItem, ...]
    item_texts: tuple[str, ...]
    expected: Expected

    def args(self) -> list[str]:
        """The sale and the items as `tariff eligible check` / `tariff quote` arguments."""
        customer = self.sale.customer
        found = ["--area", self.sale.area, "--channel", self.sale.channel]
        found += ["--time", self.sale.time.isoformat()]
        if customer.type:
            found += ["--customer-type", customer.type]
        for segment in sorted(customer.segments):
            found += ["--segment", segment]
        for flag, value in (
            ("--age", customer.age),
            ("--vip", customer.vip_level),
            ("--tenure", customer.tenure_months),
            ("--credit", customer.credit_class),
        ):
            if value is not None:
                found += [flag, str(value)]
        for held in sorted(customer.products):
            found += ["--held", held]
        for name, value in sorted(customer.attributes.items()):
            text = str(value).lower() if isinstance(value, bool) else str(value)
            found += ["--attr", f"{name}={text}"]
        return [*found, *self.item_texts]


def parse_item(text: str, item_id: str) -> CartItem:
    """Raises ValueError for text that is not OFFER[=MEMBER,...][@GROUP=CHOICE,...]."""
    match = _ITEM.match(text)
    if match is None:
        raise ValueError(f"cart item {text!r}: write OFFER[=MEMBER,...][@GROUP=CHOICE,...]")
    members: list[CartItem] = []
    for part in match["members"].split(",") if match["members"] else ():
        member = _MEMBER.match(part)
        if member is None:
            raise ValueError(f"cart item {text!r}: member {part!r} is not [N*]OFFER")
        for _ in range(int(member["count"] or 1)):
            members.append(CartItem(f"{item_id}.{len(members) + 1}", member["code"]))
    options = {}
    for option in match["options"].split(",") if match["options"] else ():
        group, _, choice = option.partition("=")
        if not group or not choice:
            raise ValueError(f"cart item {text!r}: option {option!r} is not GROUP=CHOICE")
        options[group] = choice
    return CartItem(item_id, match["code"], options=options, members=tuple(members))


def _customer(data: Mapping[str, Any]) -> CustomerFacts:
    return CustomerFacts(
        type=data.get("type"),
        segments=frozenset(data.get("segments", ())),
        age=data.get("age"),
        vip_level=data.get("vip_level"),
        tenure_months=data.get("tenure_months"),
        credit_class=data.get("credit_class"),
        products=frozenset(data.get("held", ())),
        attributes=dict(data.get("attributes", {})),
    )


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _cart(data: Mapping[str, Any]) -> DemoCart:
    time = datetime.fromisoformat(data["time"])
    if time.tzinfo is None:
        raise ValueError(f"cart {data['name']}: time {data['time']!r} has no UTC offset")
    texts = tuple(data["items"])
    expect = data["expect"]
    return DemoCart(
        name=data["name"],
        title=data["title"],
        sale=Sale(_customer(data["customer"]), data["area"], data["channel"], time),
        items=tuple(parse_item(text, str(i + 1)) for i, text in enumerate(texts)),
        item_texts=texts,
        expected=Expected(
            result=expect["result"],
            reasons=tuple(expect.get("reasons", ())),
            proposals=tuple(expect.get("proposals", ())),
            due_now=_money(expect.get("due_now")),
            monthly=_money(expect.get("monthly")),
        ),
    )


def load_carts(path: Path = CARTS) -> dict[str, DemoCart]:
    """The carts by name, in file order. Raises ValueError (or KeyError for a missing field)
    when the file does not describe carts."""
    document = json.loads(path.read_text(encoding="utf-8"))
    carts = [_cart(item) for item in document["carts"]]
    return {cart.name: cart for cart in carts}
