"""An example's `given` lines turned into run-time facts, shared by every example runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.context import CustomerFacts, SaleFacts
from dsl.runtime import EvalError

#: `customer.NAME` -> the CustomerFacts field; any other name is a free attribute.
CUSTOMER_FIELDS = {
    "type": "type",
    "segments": "segments",
    "age": "age",
    "vip_level": "vip_level",
    "tenure": "tenure_months",
    "credit_class": "credit_class",
    "products": "products",
}
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_SETS = ("segments", "products")


class GivenError(Exception):
    """A `given` value the runners cannot turn into facts."""


@dataclass(frozen=True, slots=True)
class Givens:
    """The sale facts of an example (without a cart), and its `event.*` values."""

    facts: SaleFacts
    events: dict[str, Any]
    has_item_names: bool


def given_value(expr: n.Expr) -> object:
    """A `given` value: codes as strings, sets as frozensets, tenure periods as months."""
    match expr:
        case n.Name(parts=(code,)):
            return code
        case n.SetLit(items=items):
            return frozenset(given_value(item) for item in items)
        case n.PeriodLit(count=count, unit=unit):
            if unit not in _MONTHS:
                raise GivenError(f"a tenure of {count} {unit}(s) is not whole months")
            return count * _MONTHS[unit]
        case n.Neg(operand=n.IntLit(value=v)):
            return -v
    try:
        return ip.literal(expr)
    except EvalError as error:
        raise GivenError(str(error)) from error


def read_givens(
    example: n.Example, now: datetime, lineage: Callable[[str], tuple[str, ...]]
) -> Givens:
    """Facts from `customer.*`, `area`, `channel` and `time` (default `now`); `event.NAME`
    values apart; `item.*` names are left to the price runner (it reads the cart lines)."""
    customer: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    events: dict[str, Any] = {}
    area, channel, moment, items = "", "", now, False
    for given in example.given:  # bounded by the example
        parts, value = given.name.parts, given_value(given.value)
        dotted = ".".join(parts)
        if dotted == "area":
            area = str(value)
        elif dotted == "channel":
            channel = str(value)
        elif dotted == "time":
            if not isinstance(value, datetime):
                raise GivenError("`time` needs an instant such as 2026-03-02T10:00:00+08:00")
            moment = value
        elif parts[0] == "event" and len(parts) == 2:
            events[parts[1]] = value
        elif parts[0] == "item":
            items = True
        elif parts[0] == "customer" and len(parts) == 2:
            field = CUSTOMER_FIELDS.get(parts[1])
            if field is None:
                attributes[parts[1]] = value
            elif field in _SETS and not isinstance(value, frozenset):
                customer[field] = frozenset({value})
            else:
                customer[field] = value
        else:
            raise GivenError(f"`{dotted}` cannot be given in an example")
    facts = SaleFacts(
        customer=CustomerFacts(**customer, attributes=attributes),
        area=area,
        area_lineage=(lineage(area) or (area,)) if area else (),
        channel=channel,
        time=moment,
    )
    return Givens(facts, events, items)
