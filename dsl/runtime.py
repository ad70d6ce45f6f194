"""The only names compiled rules can see, and the value model both evaluators share.

Generated code is exec'd into a fresh copy of `NAMESPACE` with empty `__builtins__`: these
helpers are all it can call. None of them reaches attributes by name, builtins, imports or
files, and none loops except over its own bounded input (a mapping of cart lines).

Values at run time (the interpreter and compiled code agree on them):

| type | Python value |
| --- | --- |
| bool, int, string, codes, weekday | bool, int, str (`mon` … `sun` for weekdays) |
| decimal, percent | Decimal (a percent as a fraction: `20%` is Decimal("0.2")) |
| money | `(Decimal, currency)`; mixing currencies raises EvalError |
| duration, data | Decimal milliseconds, Decimal bytes |
| count | int |
| period | int months (`customer.tenure`); day and week periods do not compare with it |
| time_of_day | int seconds since midnight (24:00 is 86400) |
| date, instant | date, tz-aware datetime |
| set of T | frozenset |
| unknown | None |
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

from dsl.errors import LanguageError

Money = tuple[Decimal, str]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

NO_AREAS: Mapping[str, tuple[str, ...]] = MappingProxyType({})


class EvalError(LanguageError):
    """A rule could not be evaluated with these facts (currency mismatch, a value of the
    wrong type in a free attribute). Division by zero is not one: it is unknown."""


class Observation(NamedTuple):
    """One rule or branch as a traced evaluation saw it: its index in the block, the
    condition's three-valued outcome and the context values it read."""

    position: int
    outcome: bool | None
    observed: tuple[tuple[str, object], ...]


class Recorder:
    """Collects observations from the tracing variant of a compiled block."""

    __slots__ = ("observations",)

    def __init__(self) -> None:
        self.observations: list[Observation] = []

    def __call__(self, position: int, outcome: bool | None, observed: tuple[Any, ...]) -> None:
        self.observations.append(Observation(position, outcome, observed))


# -- constructors for hoisted constants --------------------------------------------------------


def instant(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int, offset: int
) -> datetime:
    """A tz-aware instant with a fixed UTC offset in seconds (InstantLit constants)."""
    tz = timezone(timedelta(seconds=offset))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


# -- context reads ---------------------------------------------------------------------------


def time_of_day(moment: datetime) -> int:
    """Seconds since midnight in the instant's own time zone."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def weekday(moment: datetime) -> str:
    return WEEKDAYS[moment.weekday()]


def cart_set(cart: Mapping[str, int]) -> frozenset[str]:
    """The offers in the cart: lines with a positive count (bounded by the cart's size)."""
    return frozenset(code for code, count in cart.items() if count > 0)


def bundle_lines(bundle: Mapping[str, int] | None) -> int | None:
    return None if bundle is None else sum(bundle.values())


def lineage_of(areas: Mapping[str, tuple[str, ...]], area: str | None) -> tuple[str, ...] | None:
    """An area and its ancestors: from the catalog's table, else the area alone."""
    if area is None:
        return None
    return areas.get(area, (area,))


def within(lineage: tuple[str, ...], area: str) -> bool:
    return area in lineage


def member(value: object, container: frozenset[Any] | Mapping[str, Any]) -> bool:
    """Set membership that cannot raise on an unhashable value."""
    try:
        return value in container
    except TypeError:
        return False


# -- arithmetic --------------------------------------------------------------------------------


def _num(value: object) -> int | Decimal:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise EvalError(f"expected a number, got {value!r}")
    return value


def _money(value: object) -> Money:
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or not isinstance(value[0], Decimal)
        or not isinstance(value[1], str)
    ):
        raise EvalError(f"expected money, got {value!r}")
    return value[0], value[1]


def same_currency(left: object, right: object) -> tuple[Decimal, Decimal]:
    """The amounts of two money values; raises EvalError when their currencies differ."""
    a, b = _money(left), _money(right)
    if a[1] != b[1]:
        raise EvalError(f"currency mismatch: {a[1] or '(none)'} and {b[1] or '(none)'}")
    return a[0], b[0]


def div(left: object, right: object) -> Decimal | None:
    """Decimal division; None (unknown) when dividing by zero (docs/dsl.md, "Division by
    zero"), so a rule reading it never passes and evaluation never depends on the order
    in which the operands of a condition are looked at."""
    dividend, divisor = Decimal(_num(left)), Decimal(_num(right))
    if not divisor:
        return None
    return dividend / divisor


def money_add(left: object, right: object) -> Money:
    a, b = same_currency(left, right)
    return a + b, _money(left)[1]


def money_sub(left: object, right: object) -> Money:
    a, b = same_currency(left, right)
    return a - b, _money(left)[1]


def money_scale(money: object, factor: object) -> Money:
    amount, currency = _money(money)
    return amount * _num(factor), currency


def money_div(money: object, divisor: object) -> Money | None:
    """Money by a number; None (unknown) when dividing by zero, as `div`."""
    amount, currency = _money(money)
    quotient = div(amount, divisor)
    return None if quotient is None else (quotient, currency)


def money_neg(money: object) -> Money:
    amount, currency = _money(money)
    return -amount, currency


def money_cmp(op: str, left: object, right: object) -> bool:
    """Compare two money values of one currency; raises EvalError otherwise."""
    a, b = same_currency(left, right)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


#: What generated code sees (plus `__builtins__: {}` and its own hoisted constants).
EXPORTS: Mapping[str, object] = MappingProxyType(
    {
        "Decimal": Decimal,
        "date": date,
        "instant": instant,
        "frozenset": frozenset,
        "WEEKDAYS": WEEKDAYS,
        "NO_AREAS": NO_AREAS,
        "time_of_day": time_of_day,
        "weekday": weekday,
        "cart_set": cart_set,
        "bundle_lines": bundle_lines,
        "lineage_of": lineage_of,
        "within": within,
        "member": member,
        "div": div,
        "money_add": money_add,
        "money_sub": money_sub,
        "money_scale": money_scale,
        "money_div": money_div,
        "money_neg": money_neg,
        "money_cmp": money_cmp,
    }
)


def fresh_namespace() -> dict[str, object]:
    """A new exec namespace: the exports and no builtins."""
    namespace: dict[str, object] = dict(EXPORTS)
    namespace["__builtins__"] = {}
    return namespace
