"""Checker tests on hand-built syntax trees: expressions, the type rules and deep nesting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dsl import nodes as n
from dsl import types as t
from dsl.symbols import CatalogNames, Scope
from tests.unit.dsl.test_checker_helpers import (
    AT,
    CATALOG,
    at,
    codes,
    compare,
    integer,
    name,
    offer_module,
    only,
    rule,
    run,
)


def test_valid_condition_has_no_problems() -> None:
    age = n.Between(value=name("customer.age"), low=integer(15), high=integer(26), span=AT)
    channel = n.In(
        value=name("channel"),
        container=n.SetLit(items=(name("hall"), name("web"), name("agent")), span=AT),
        span=AT,
    )
    assert run([offer_module("youth_plan", rule(age, "age"), rule(channel, "channel"))]) == []


def test_unknown_context_name_has_a_hint() -> None:
    cond = n.Between(
        value=name("customer.agee", at(3, 5, 13)), low=integer(15), high=integer(26), span=AT
    )
    found = only(run([offer_module("youth_plan", rule(cond))]), "unknown-name")
    assert (found.severity, found.line, found.column, found.end_column) == ("error", 3, 5, 18)
    assert found.hint == "did you mean `customer.age`?"
    assert found.path == "t.tariff"


def test_unknown_channel_code_in_set_literal() -> None:
    cond = n.In(
        value=name("channel"),
        container=n.SetLit(items=(name("hall"), name("wbe", at(2, 30, 3))), span=AT),
        span=AT,
    )
    found = only(run([offer_module("youth_plan", rule(cond))]), "unknown-channel")
    assert (found.line, found.column, found.hint) == (2, 30, "did you mean `web`?")


def test_type_mismatch_in_comparison() -> None:
    cond = compare(name("customer.age"), ">=", n.StringLit(value="18"), at(4, 3, 20))
    found = only(run([offer_module("youth_plan", rule(cond))]), "type-mismatch")
    assert (found.line, found.column) == (4, 3)
    assert "int" in found.message
    assert "string" in found.message


def test_condition_must_be_bool() -> None:
    found = only(run([offer_module("youth_plan", rule(name("customer.age")))]), "type-mismatch")
    assert "bool" in found.message


def test_within_needs_areas_and_checks_codes() -> None:
    good = n.Within(value=name("area"), area=name("GD"), span=AT)
    bad = n.Within(value=name("area"), area=name("GD_SX", at(5, 15, 5)), span=AT)
    wrong = n.Within(value=name("channel", at(6, 3, 7)), area=name("GD"), span=AT)
    found = run([offer_module("youth_plan", rule(good, "a"), rule(bad, "b"), rule(wrong, "c"))])
    assert codes(found) == ["unknown-area", "type-mismatch"]
    assert (found[0].line, found[0].column, found[0].hint) == (5, 15, "did you mean `GD_SZ`?")


def test_segment_as_string_literal_is_checked() -> None:
    cond = n.In(
        value=n.StringLit(value="vipp", span=at(2, 9, 6)), container=name("customer.segments")
    )
    found = only(run([offer_module("youth_plan", rule(cond))]), "unknown-segment")
    assert found.hint == "did you mean `vip`?"


def test_free_attribute_needs_a_declaration() -> None:
    cond = compare(name("customer.address_installable", at(2, 3, 28)), "==", n.BoolLit(value=True))
    found = only(run([offer_module("youth_plan", rule(cond))]), "unknown-name")
    assert found.hint == "declare it first: `attribute customer.address_installable: TYPE`"
    declared = n.Module(
        path="attrs.tariff",
        declarations=(
            n.AttributeDecl(owner="customer", name="address_installable", type="bool", span=AT),
        ),
    )
    assert run([offer_module("youth_plan", rule(cond)), declared]) == []


def test_cart_count_takes_an_offer() -> None:
    call = n.Call(target=name("cart"), method="count", args=(name("mobile_basik", at(2, 12, 12)),))
    cond = compare(call, ">=", integer(1))
    found = only(run([offer_module("youth_plan", rule(cond))]), "unknown-offer")
    assert found.hint == "did you mean `mobile_basic`?"


def test_money_needs_a_currency_outside_a_plan() -> None:
    cond = compare(name("customer.age"), "<", n.MoneyLit(amount=Decimal(3), span=at(2, 20, 1)))
    found = run([offer_module("youth_plan", rule(cond))])
    assert "missing-currency" in codes(found)


def test_unknown_names_do_not_cascade() -> None:
    cond = n.And(
        operands=(
            compare(name("customer.agee"), ">", integer(1)),
            compare(n.Arith(op="+", left=name("nope"), right=integer(1)), ">", integer(2)),
        )
    )
    assert codes(run([offer_module("youth_plan", rule(cond))])) == ["unknown-name"] * 2


def test_deep_nesting_is_checked_without_recursion() -> None:
    expr: n.Expr = compare(name("customer.age"), ">", integer(1))
    for depth in range(2000):
        expr = n.Not(operand=expr) if depth % 2 else n.And(operands=(expr, n.BoolLit(value=True)))
    assert run([offer_module("youth_plan", rule(expr))]) == []


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        ("+", t.money("CNY"), t.money("CNY"), t.money("CNY")),
        ("+", t.money("CNY"), t.money("USD"), None),
        ("*", t.money("CNY"), t.PERCENT, t.money("CNY")),
        ("*", t.INT, t.money("CNY"), t.money("CNY")),
        ("/", t.money("CNY"), t.money("CNY"), t.DECIMAL),
        ("+", t.money("CNY"), t.INT, None),
        ("-", t.DURATION, t.DURATION, t.DURATION),
        ("*", t.DURATION, t.DURATION, None),
        ("+", t.INSTANT, t.DURATION, t.INSTANT),
        ("/", t.INT, t.INT, t.DECIMAL),
        ("+", t.INT, t.DECIMAL, t.DECIMAL),
        ("+", t.UNKNOWN, t.STRING, t.UNKNOWN),
    ],
)
def test_arithmetic_rules(op: str, left: t.Type, right: t.Type, expected: t.Type | None) -> None:
    assert t.arithmetic(op, left, right) == expected


def test_comparison_rules() -> None:
    assert t.comparison_problem(t.INT, t.DECIMAL, "<") is None
    assert t.comparison_problem(t.money("CNY"), t.money("USD"), "==") == (
        "currency-mismatch",
        "cannot compare money in CNY with money in USD",
    )
    assert t.comparison_problem(t.AREA, t.AREA, "<") is not None
    assert t.comparison_problem(t.UNKNOWN, t.STRING, "<") is None
    assert t.parse_type("set of segment") == t.set_of(t.SEGMENT)
    assert str(t.set_of(t.money("CNY"))) == "set of money CNY"


def test_catalog_names() -> None:
    assert CATALOG.lineage("GD_SZ") == ("GD_SZ", "GD", "CN")
    assert CATALOG.plans >= {"mobile_39", "family_plan"}
    empty = CatalogNames.empty()
    assert not empty.offers
    assert empty.lineage("GD") == ()


def test_scope_lists_duplicates_across_modules() -> None:
    first = n.Module(path="a", declarations=(n.CalendarDecl(name="cal", span=at(1, 1)),))
    second = n.Module(path="b", declarations=(n.CalendarDecl(name="cal", span=at(7, 1)),))
    scope = Scope.merge([first, second])
    assert list(scope.calendars) == ["cal"]
    assert [(k, name, path) for k, name, _, path in scope.duplicates] == [("calendar", "cal", "b")]
    found = only(run([first, second]), "duplicate")
    assert (found.path, found.line, found.message) == (
        "b",
        7,
        "calendar `cal` is declared twice (first on line 1)",
    )
