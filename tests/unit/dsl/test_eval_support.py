"""Builders shared by the evaluation tests: short node constructors, facts, and `both()`,
which runs an expression through the interpreter and the compiled path and checks they agree.
(No tests here.)"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from dsl import interpreter as ip
from dsl import nodes as n
from dsl.compiler import compile_expr
from dsl.context import CustomerFacts, ItemFacts, SaleFacts

CST = timezone(timedelta(hours=8))
MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=CST)
AREAS: Mapping[str, tuple[str, ...]] = {
    "CN": ("CN",),
    "GD": ("GD", "CN"),
    "GD_SZ": ("GD_SZ", "GD", "CN"),
    "GD_GZ": ("GD_GZ", "GD", "CN"),
    "QH": ("QH", "CN"),
    "QH_XN": ("QH_XN", "QH", "CN"),
}
ATTRIBUTES = {
    "customer.installable": "bool",
    "customer.spend": "money",
    "customer.home": "area",
    "customer.score": "decimal",
    "item.color": "string",
}


def name(dotted: str) -> n.Name:
    return n.Name(parts=tuple(dotted.split(".")))


def lit(value: object) -> n.Expr:
    """A literal node for a Python value (int, Decimal, str, bool)."""
    if isinstance(value, bool):
        return n.BoolLit(value=value)
    if isinstance(value, int):
        return n.IntLit(value=value)
    if isinstance(value, Decimal):
        return n.DecimalLit(value=value)
    if isinstance(value, str):
        return n.StringLit(value=value)
    raise TypeError(value)


def node(x: n.Expr | object) -> n.Expr:
    if isinstance(x, n.Expr):
        return x
    if isinstance(x, str) and x.replace(".", "").replace("_", "").isalnum():
        return name(x)
    return lit(x)


def cmp(left: object, op: n.CompareOp, right: object) -> n.Compare:
    return n.Compare(op=op, left=node(left), right=node(right))


def between(value: object, low: object, high: object, negated: bool = False) -> n.Between:
    return n.Between(value=node(value), low=node(low), high=node(high), negated=negated)


def in_(value: object, *items: object, negated: bool = False) -> n.In:
    container = n.SetLit(items=tuple(node(i) for i in items))
    return n.In(value=node(value), container=container, negated=negated)


def in_set(value: object, container: str, negated: bool = False) -> n.In:
    return n.In(value=node(value), container=name(container), negated=negated)


def within(value: str, area: str, negated: bool = False) -> n.Within:
    return n.Within(value=name(value), area=name(area), negated=negated)


def and_(*operands: n.Expr) -> n.And:
    return n.And(operands=operands)


def or_(*operands: n.Expr) -> n.Or:
    return n.Or(operands=operands)


def not_(operand: n.Expr) -> n.Not:
    return n.Not(operand=operand)


def money(amount: str, currency: str = "CNY") -> n.MoneyLit:
    return n.MoneyLit(amount=Decimal(amount), currency=currency)


def arith(left: object, op: n.ArithOp, right: object) -> n.Arith:
    return n.Arith(op=op, left=node(left), right=node(right))


def count(target: str, offer: str) -> n.Call:
    return n.Call(target=name(target), method="count", args=(name(offer),))


def facts(
    *,
    area: str = "GD_SZ",
    channel: str = "hall",
    time: datetime = MONDAY_10,
    cart: Mapping[str, int] | None = None,
    item: ItemFacts | None = None,
    bundle: Mapping[str, int] | None = None,
    **customer: Any,
) -> SaleFacts:
    return SaleFacts(
        customer=CustomerFacts(**customer),
        area=area,
        area_lineage=AREAS.get(area, (area,)),
        channel=channel,
        time=time,
        cart=cart or {},
        item=item,
        bundle=bundle,
    )


ENV = ip.Env(areas=AREAS)


def both(expr: n.Expr, sale: SaleFacts) -> object:
    """The expression's value by both evaluators; fails when they disagree."""
    expected = ip.evaluate(expr, sale, ENV)
    compiled = compile_expr(expr, "tests/eval.tariff", ATTRIBUTES)
    got = compiled.value(sale, AREAS)
    assert got == expected
    assert type(got) is type(expected), (got, expected)
    if compiled.test is not None and compiled.test_many is not None:
        assert compiled.test(sale, AREAS) is (expected is True)
        assert compiled.test_many([sale, sale], AREAS) == [expected is True] * 2
    return got
