"""The type vocabulary of the Tariff language (docs/dsl.md, "Types") and its rules.

A `Type` is a plain frozen value: a kind name, the element type of a set, and for money the
currency when it is known (`money CNY`; empty = some currency). `UNKNOWN` is the type of an
expression already reported as wrong: every rule accepts it, so one mistake is reported once
and does not cascade. `CODE` is the type of a bare identifier whose meaning (an area, a
channel, an offer, ...) depends on where it stands; the checker resolves it against the
catalog from the other operand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "AREA",
    "BAND",
    "BOOL",
    "BUSINESS",
    "CHANNEL",
    "CODE",
    "CODE_KINDS",
    "COUNT",
    "CUSTOMER_TYPE",
    "DATA",
    "DATE",
    "DECIMAL",
    "DURATION",
    "INSTANT",
    "INT",
    "KINDS",
    "MONEY",
    "OFFER",
    "PERCENT",
    "PERIOD",
    "SEGMENT",
    "STRING",
    "TIME_OF_DAY",
    "UNKNOWN",
    "WEEKDAY",
    "ZONE",
    "Type",
    "accepts",
    "arithmetic",
    "comparison_problem",
    "money",
    "negation",
    "parse_type",
    "set_of",
]

#: Kinds whose values are codes checked against the catalog (or a fixed list).
CODE_KINDS: Final = frozenset(
    {"area", "channel", "segment", "offer", "business", "zone", "band", "customer_type", "weekday"}
)
#: Kinds with an order (`<`, `between`).
ORDERED_KINDS: Final = frozenset(
    {
        "int",
        "decimal",
        "money",
        "percent",
        "duration",
        "period",
        "data",
        "count",
        "time_of_day",
        "date",
        "instant",
    }
)
KINDS: Final = frozenset({"bool", "string", "set", "unknown", "code"}) | CODE_KINDS | ORDERED_KINDS
_NUMBERS: Final = frozenset({"int", "decimal"})
_QUANTITIES: Final = frozenset({"percent", "duration", "period", "data", "count"})


@dataclass(frozen=True, slots=True)
class Type:
    kind: str
    element: Type | None = None  # for "set"
    currency: str = ""  # for "money", when known

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown type kind {self.kind!r}")
        if (self.kind == "set") != (self.element is not None):
            raise ValueError("a set type, and only a set type, has an element type")

    @property
    def is_unknown(self) -> bool:
        return self.kind == "unknown"

    @property
    def is_code(self) -> bool:
        """A code type (area, channel, ...), not the unresolved `CODE`."""
        return self.kind in CODE_KINDS

    @property
    def ordered(self) -> bool:
        return self.kind in ORDERED_KINDS

    def __str__(self) -> str:
        if self.kind == "set" and self.element is not None:
            return f"set of {self.element}"
        if self.kind == "money" and self.currency:
            return f"money {self.currency}"
        if self.kind == "code":
            return "identifier"
        return self.kind


BOOL: Final = Type("bool")
INT: Final = Type("int")
DECIMAL: Final = Type("decimal")
MONEY: Final = Type("money")
PERCENT: Final = Type("percent")
DURATION: Final = Type("duration")
PERIOD: Final = Type("period")
DATA: Final = Type("data")
COUNT: Final = Type("count")
TIME_OF_DAY: Final = Type("time_of_day")
DATE: Final = Type("date")
INSTANT: Final = Type("instant")
STRING: Final = Type("string")
WEEKDAY: Final = Type("weekday")
CUSTOMER_TYPE: Final = Type("customer_type")
AREA: Final = Type("area")
CHANNEL: Final = Type("channel")
SEGMENT: Final = Type("segment")
OFFER: Final = Type("offer")
BUSINESS: Final = Type("business")
ZONE: Final = Type("zone")
BAND: Final = Type("band")
UNKNOWN: Final = Type("unknown")
CODE: Final = Type("code")


def money(currency: str = "") -> Type:
    return Type("money", currency=currency)


def set_of(element: Type) -> Type:
    return Type("set", element=element)


def parse_type(text: str) -> Type:
    """`"int"`, `"set of segment"` (the spelling of `dsl.context.SCHEMA`)."""
    text = text.strip()
    if text.startswith("set of "):
        return set_of(parse_type(text[len("set of ") :]))
    if text in {"set", "code"} or text not in KINDS:
        raise ValueError(f"unknown type {text!r}")
    return Type(text)


def accepts(expected: Type, actual: Type) -> bool:
    """Whether a value of `actual` may stand where `expected` is wanted (unknown fits
    everything; an int fits a decimal; money of an unknown currency fits any money)."""
    if expected.is_unknown or actual.is_unknown:
        return True
    if expected.kind == "decimal" and actual.kind == "int":
        return True
    if expected.kind != actual.kind:
        return False
    if expected.kind == "money":
        return not (expected.currency and actual.currency and expected.currency != actual.currency)
    if expected.kind == "set" and expected.element and actual.element:
        return accepts(expected.element, actual.element)
    return True


def comparison_problem(left: Type, right: Type, op: str) -> tuple[str, str] | None:
    """(code, message) when `left OP right` is wrong; None when fine. `op` is a comparison
    operator or "between"."""
    if left.is_unknown or right.is_unknown:
        return None
    if not (accepts(left, right) or accepts(right, left)):
        if left.kind == right.kind == "money":
            return (
                "currency-mismatch",
                f"cannot compare money in {left.currency} with money in {right.currency}",
            )
        return "type-mismatch", f"cannot compare {left} with {right}"
    if op not in {"==", "!="} and not left.ordered:
        return "type-mismatch", f"`{op}` needs ordered values; {left} has no order"
    return None


def _same_quantity(a: Type, b: Type) -> bool:
    return (a.kind == b.kind and a.kind != "money") or (accepts(a, b) and accepts(b, a))


def arithmetic(op: str, left: Type, right: Type) -> Type | None:
    """The type of `left OP right`, None when the operation means nothing (money + int,
    duration * duration, ...). UNKNOWN in, UNKNOWN out."""
    if left.is_unknown or right.is_unknown:
        return UNKNOWN
    lk, rk = left.kind, right.kind
    if lk in _NUMBERS and rk in _NUMBERS:
        if op == "/" or "decimal" in (lk, rk):
            return DECIMAL
        return INT
    scalable = lk in _QUANTITIES | {"money"}
    if op in {"+", "-"}:
        if scalable and _same_quantity(left, right):
            return left if left.currency or lk != "money" else right
        if lk == "date" and rk == "period":
            return DATE
        if lk == "instant" and rk in {"duration", "period"}:
            return INSTANT
        if op == "+" and rk == "date" and lk == "period":
            return DATE
        return None
    if op == "*":
        if scalable and (rk in _NUMBERS or (lk == "money" and rk == "percent")):
            return left
        if lk in _NUMBERS and rk in _QUANTITIES | {"money"}:
            return right
        if lk == "percent" and rk == "money":
            return right
        return None
    # division
    if scalable and rk in _NUMBERS:
        return left
    if scalable and _same_quantity(left, right):
        return DECIMAL
    return None


def negation(operand: Type) -> Type | None:
    """The type of `-operand`."""
    if operand.is_unknown or operand.kind in _NUMBERS | _QUANTITIES | {"money"}:
        return operand
    return None
