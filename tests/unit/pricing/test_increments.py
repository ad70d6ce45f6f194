"""Increments and the charge of one event: hand-computed tables for every increment shape,
the exact charge, and the documented order connection fee + usage, then minimum, then maximum."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.increments import (
    billed_units,
    charge,
    charge_exact,
    event_charge,
    event_charge_exact,
    increments,
)
from pricing.rounding import InexactAmountError, RoundingMode, round_exact

D = Decimal
MINUTE = 60_000  # ms

BILLED_CASES = [
    # "60 s then 6 s" in seconds
    (0, 60, 6, 0),
    (1, 60, 6, 60),
    (59, 60, 6, 60),
    (60, 60, 6, 60),
    (61, 60, 6, 66),
    (66, 60, 6, 66),
    (67, 60, 6, 72),
    (95, 60, 6, 96),
    (120, 60, 6, 120),
    (121, 60, 6, 126),
    (3600, 60, 6, 3600),
    (3601, 60, 6, 3606),
    # the same in milliseconds
    (1, 60_000, 6_000, 60_000),
    (60_000, 60_000, 6_000, 60_000),
    (60_001, 60_000, 6_000, 66_000),
    (95_000, 60_000, 6_000, 96_000),
    # first only (`increments 60s`: whole minutes)
    (1, 60, 60, 60),
    (60, 60, 60, 60),
    (61, 60, 60, 120),
    (119, 60, 60, 120),
    (121, 60, 60, 180),
    # first as a minimum, then exact (`60s then 1s`)
    (1, 60, 1, 60),
    (61, 60, 1, 61),
    (95, 60, 1, 95),
    # next only (first = 0)
    (1, 0, 6, 6),
    (6, 0, 6, 6),
    (7, 0, 6, 12),
    (0, 0, 6, 0),
    # no increments: every unit as used
    (0, 0, 1, 0),
    (1, 0, 1, 1),
    (12_345, 0, 1, 12_345),
    # data: per 1 KB
    (1, 0, 1024, 1024),
    (1024, 0, 1024, 1024),
    (1025, 0, 1024, 2048),
    (1_500_000, 0, 1024, 1_500_160),
    # first smaller than next
    (1, 1, 10, 1),
    (2, 1, 10, 11),
    (11, 1, 10, 11),
    (12, 1, 10, 21),
    # first not a multiple of next
    (31, 30, 20, 50),
    (50, 30, 20, 50),
    (51, 30, 20, 70),
]


@pytest.mark.parametrize(("used", "first", "nxt", "expected"), BILLED_CASES)
def test_billed_units(used: int, first: int, nxt: int, expected: int) -> None:
    assert billed_units(used, first, nxt) == expected


@pytest.mark.parametrize(
    ("used", "first", "nxt"), [(-1, 60, 6), (1, -1, 6), (1, 60, 0), (1, 60, -6), (0, 0, 0)]
)
def test_billed_units_refuses(used: int, first: int, nxt: int) -> None:
    with pytest.raises(ValueError, match="need used"):
        billed_units(used, first, nxt)


@pytest.mark.parametrize(
    ("first", "then", "expected"),
    [(None, None, (0, 1)), (60, None, (60, 60)), (60, 6, (60, 6)), (0, 6, (0, 6)), (1, 1, (1, 1))],
)
def test_increments_forms(first: int | None, then: int | None, expected: tuple[int, int]) -> None:
    assert increments(first, then) == expected


def test_increments_then_without_first() -> None:
    with pytest.raises(ValueError, match="then"):
        increments(None, 6)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 3600), st.integers(1, 3600))
def test_billed_units_is_monotonic_and_tight(a: int, b: int, first: int, nxt: int) -> None:
    low, high = sorted((a, b))
    assert billed_units(low, first, nxt) <= billed_units(high, first, nxt)
    billed = billed_units(high, first, nxt)
    assert billed >= high
    if high:
        assert billed - high < max(first, nxt)
        assert billed == first or (billed - first) % nxt == 0
        assert billed >= first


# (units, price, per_units, expected): exact, never rounded
CHARGE_CASES = [
    (60, "0.15", 60, "0.15"),
    (66, "0.15", 60, "0.165"),
    (96, "0.15", 60, "0.24"),
    (96_000, "0.15", MINUTE, "0.24"),
    (66_000, "0.10", MINUTE, "0.11"),
    (0, "0.15", 60, "0"),
    (120, "0.20", 60, "0.4"),
    (1, "0.29", 1_048_576, "0.0000002765655517578125"),  # one byte at 0.29 per MB
    (1024, "0.29", 1_048_576, "0.00028320312500"),
    (1_048_576, "0.29", 1_048_576, "0.29"),
    (3, "0.10", 1, "0.3"),
    (6, "2.00", 60, "0.2"),
    (1, "0.0001", 1, "0.0001"),
    (10**12, "0.000000001", 1, "1000"),
]


@pytest.mark.parametrize(("units", "price", "per", "expected"), CHARGE_CASES)
def test_charge_is_exact(units: int, price: str, per: int, expected: str) -> None:
    assert charge(units, D(price), per) == D(expected)
    assert charge_exact(units, D(price), per) == Fraction(D(expected))


@pytest.mark.parametrize(
    ("units", "price", "per", "exact"),
    [
        (1, "0.10", 60, Fraction(1, 600)),
        (61, "0.10", 60, Fraction(61, 600)),
        (7, "2.00", 60, Fraction(7, 30)),
        (1, "1", 3, Fraction(1, 3)),
    ],
)
def test_non_terminating_charges(units: int, price: str, per: int, exact: Fraction) -> None:
    assert charge_exact(units, D(price), per) == exact
    with pytest.raises(InexactAmountError):
        charge(units, D(price), per)


@pytest.mark.parametrize(
    ("units", "price", "per"), [(-1, "0.1", 60), (1, "0.1", 0), (1, "NaN", 60), (1, "Inf", 1)]
)
def test_charge_refuses(units: int, price: str, per: int) -> None:
    with pytest.raises(ValueError, match=r"units|price"):
        charge(units, D(price), per)


# (billed s, price per minute, connection, minimum, maximum, expected) with per_units = 60
EVENT_CASES = [
    (66, "0.15", "0", None, None, "0.165"),
    (66, "0.15", "0.05", None, None, "0.215"),  # connection fee + usage
    (60, "0.15", "0.05", "0.10", None, "0.20"),  # above the minimum: untouched
    (6, "0.15", "0.05", "0.10", None, "0.10"),  # 0.05 + 0.015 = 0.065 -> minimum 0.10
    (6, "0.15", "0", "0.10", None, "0.10"),
    (60, "0.15", "0.05", "0.20", None, "0.20"),  # exactly the minimum
    (6000, "2.00", "0", None, "150.00", "150.00"),  # 200.00 of usage -> maximum
    (6000, "2.00", "0.50", None, "200.00", "200.00"),  # the maximum caps the fee too
    (5970, "2.00", "0.50", None, "200.00", "199.50"),  # 199.00 + 0.50 stays below
    (60, "0.15", "0.05", "0.10", "0.12", "0.12"),  # 0.20 -> maximum
    (6, "0.15", "0.00", "0.10", "0.10", "0.10"),  # minimum == maximum: flat charge
    (60, "0.15", "0.30", "0.10", "0.25", "0.25"),  # fee alone above the maximum
    (0, "0.15", "0.05", "0.10", None, "0"),  # nothing billed: no fee, no minimum
    (0, "0.15", "0", None, "1.00", "0"),
    (1, "0", "0.05", None, None, "0.05"),  # free usage still pays its fee
]


@pytest.mark.parametrize(
    ("billed", "price", "connection", "minimum", "maximum", "expected"), EVENT_CASES
)
def test_event_charge_order(
    billed: int,
    price: str,
    connection: str,
    minimum: str | None,
    maximum: str | None,
    expected: str,
) -> None:
    result = event_charge(
        billed,
        D(price),
        60,
        connection=D(connection),
        minimum=None if minimum is None else D(minimum),
        maximum=None if maximum is None else D(maximum),
    )
    assert result == D(expected)


def test_event_charge_example_long_call() -> None:
    """The DSL reference's `long_call`: 95 s peak, 0.15 per minute, 60 s then 6 s, connection
    0.05, minimum 0.10, rounding half_up 2 per event. 96 s billed: 0.05 + 0.24 = 0.29 (the
    reference's example says 0.30, which no reading of its own increment rule gives)."""
    billed = billed_units(95_000, 60_000, 6_000)
    exact = event_charge_exact(billed, D("0.15"), MINUTE, connection=D("0.05"), minimum=D("0.10"))
    assert exact == Fraction(D("0.29"))  # 0.05 + 0.15 * 96 / 60 = 0.05 + 0.24
    assert round_exact(exact, RoundingMode.HALF_UP, 2) == D("0.29")


def test_event_charge_rounds_only_at_the_end() -> None:
    """0.10 per minute, per second: 61 s is 61/600 exactly; rounded once, half_up 2."""
    exact = event_charge_exact(61, D("0.10"), 60, connection=D("0.01"))
    assert exact == Fraction(61, 600) + Fraction(1, 100)
    assert round_exact(exact, RoundingMode.HALF_UP, 2) == D("0.11")
    with pytest.raises(InexactAmountError):
        event_charge(61, D("0.10"), 60)


@pytest.mark.parametrize(
    ("connection", "minimum", "maximum", "message"),
    [
        ("-0.01", None, None, "connection"),
        ("0", "-1", None, "minimum"),
        ("0", "0.20", "0.10", "above maximum"),
    ],
)
def test_event_charge_refuses(
    connection: str, minimum: str | None, maximum: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        event_charge(
            60,
            D("0.15"),
            60,
            connection=D(connection),
            minimum=None if minimum is None else D(minimum),
            maximum=None if maximum is None else D(maximum),
        )


prices = st.decimals(min_value=0, max_value=100, places=4)


@given(st.integers(0, 10**6), prices, prices, st.one_of(st.none(), prices))
def test_event_charge_bounds(
    billed: int, price: Decimal, fee: Decimal, cap: Decimal | None
) -> None:
    total = event_charge_exact(billed, price, 60, connection=fee, maximum=cap)
    if billed == 0:
        assert total == 0
    else:
        uncapped = Fraction(fee) + Fraction(price) * billed / 60
        assert total == (uncapped if cap is None else min(uncapped, Fraction(cap)))
