"""Percentages are fractions at run time: `70 CNY * 10%` is 7 CNY, on both paths."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dsl import nodes as n
from tests.unit.dsl.test_eval_support import arith, both, cmp, facts, money


def pct(value: str) -> n.PercentLit:
    return n.PercentLit(value=Decimal(value))


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (cmp(arith(money("70"), "*", pct("10")), "==", money("7")), True),
        (cmp(arith(money("70"), "*", pct("10")), "==", money("700")), False),
        (cmp(arith(money("39.00"), "*", pct("6.5")), "==", money("2.535")), True),
        (cmp(pct("20"), ">", pct("6.5")), True),
    ],
)
def test_percent_arithmetic(expr: n.Expr, expected: bool) -> None:
    assert both(expr, facts()) is expected
