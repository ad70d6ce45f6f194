"""Allowances and caps: the documented order (increments, then the allowance, then fee and
usage, then minimum and maximum; a fully free event pays no fee unless told), on hand-computed
tables, and caps that never let a period pay more than its cap."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.allowances import AllowanceRating, apply_cap, cap_delta, consume, rate_with_allowance

D = Decimal


@pytest.mark.parametrize(
    ("remaining", "units", "expected"),
    [
        (300, 66, (66, 0)),
        (10, 66, (10, 56)),
        (0, 66, (0, 66)),
        (66, 66, (66, 0)),
        (67, 66, (66, 0)),
        (65, 66, (65, 1)),
        (100, 0, (0, 0)),
        (0, 0, (0, 0)),
        (10**12, 10**9, (10**9, 0)),
    ],
)
def test_consume(remaining: int, units: int, expected: tuple[int, int]) -> None:
    assert consume(remaining, units) == expected


@pytest.mark.parametrize(("remaining", "units"), [(-1, 5), (5, -1)])
def test_consume_refuses_negatives(remaining: int, units: int) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        consume(remaining, units)


# Seconds; 0.15 per minute, 60 s then 6 s, connection 0.05, minimum 0.10 unless stated.
# (used, remaining, connection_when_free, billed, free, paid, charge)
VOICE_CASES = [
    (95, 300, False, 96, 96, 0, "0"),  # fully free: no fee, no minimum
    (95, 300, True, 96, 96, 0, "0.05"),  # the tariff says the fee is due anyway
    (95, 0, False, 96, 0, 96, "0.29"),  # 0.05 + 0.24
    (95, 60, False, 96, 60, 36, "0.14"),  # partly free: fee + 0.09
    (95, 90, False, 96, 90, 6, "0.10"),  # 0.05 + 0.015 = 0.065 -> minimum
    (61, 60, False, 66, 60, 6, "0.10"),  # the allowance pays billed seconds (66, not 61)
    (61, 66, False, 66, 66, 0, "0"),  # 66 free seconds cover a 61 s call exactly
    (60, 60, False, 60, 60, 0, "0"),
    (0, 0, False, 0, 0, 0, "0"),  # nothing used: nothing charged
    (0, 0, True, 0, 0, 0, "0"),  # ... even when the fee is due on free calls
    (0, 100, True, 0, 0, 0, "0"),
    (1, 0, False, 60, 0, 60, "0.20"),
    (600, 540, False, 600, 540, 60, "0.20"),
]


@pytest.mark.parametrize(
    ("used", "remaining", "fee_when_free", "billed", "free", "paid", "charge"), VOICE_CASES
)
def test_rate_with_allowance(
    used: int,
    remaining: int,
    fee_when_free: bool,
    billed: int,
    free: int,
    paid: int,
    charge: str,
) -> None:
    result = rate_with_allowance(
        used,
        remaining,
        first=60,
        next=6,
        price=D("0.15"),
        per_units=60,
        connection=D("0.05"),
        minimum=D("0.10"),
        connection_when_free=fee_when_free,
    )
    assert result == AllowanceRating(billed, free, paid, Fraction(D(charge)))


def test_allowance_with_maximum_and_without_increments() -> None:
    expensive = rate_with_allowance(
        6000, 0, first=60, next=60, price=D("2.00"), per_units=60, maximum=D("150.00")
    )
    assert expensive == AllowanceRating(6000, 0, 6000, Fraction(150))
    free_with_fee = rate_with_allowance(
        30,
        60,
        first=60,
        next=60,
        price=D("2.00"),
        per_units=60,
        connection=D("0.05"),
        maximum=D("0.02"),
        connection_when_free=True,
    )
    assert free_with_fee.charge == Fraction(D("0.02"))
    per_second = rate_with_allowance(61, 30, first=0, next=1, price=D("0.12"), per_units=60)
    assert per_second == AllowanceRating(61, 30, 31, Fraction(D("0.062")))


def test_allowance_still_validates_the_rate() -> None:
    with pytest.raises(ValueError, match="above maximum"):
        rate_with_allowance(
            30, 60, first=60, next=6, price=D("1"), per_units=60, minimum=D(2), maximum=D(1)
        )


CAP_CASES = [
    ("0", "10", "60", "10", "10"),
    ("55", "10", "60", "5", "60"),
    ("60", "10", "60", "0", "60"),
    ("70", "10", "60", "0", "70"),  # the cap was lowered below what is paid: nothing more
    ("59.99", "0.02", "60", "0.01", "60.00"),
    ("0", "0", "60", "0", "0"),
    ("0", "60", "60", "60", "60"),
    ("0", "10", "0", "0", "0"),
    ("0.1234567891", "0.0000000001", "100", "0.0000000001", "0.1234567892"),
    ("123456789012345678901234567.89", "0.01", "1E+40", "0.01", "123456789012345678901234567.90"),
]


@pytest.mark.parametrize(("spent", "charge", "cap", "charged", "after"), CAP_CASES)
def test_apply_cap(spent: str, charge: str, cap: str, charged: str, after: str) -> None:
    assert apply_cap(D(spent), D(charge), D(cap)) == (D(charged), D(after))


@pytest.mark.parametrize(
    ("spent", "charge", "cap"), [("-1", "1", "60"), ("0", "-1", "60"), ("0", "1", "-60")]
)
def test_apply_cap_refuses_negatives(spent: str, charge: str, cap: str) -> None:
    with pytest.raises(ValueError, match="cap_delta"):
        apply_cap(D(spent), D(charge), D(cap))


@pytest.mark.parametrize(
    ("before", "after", "cap", "delta"),
    [
        ("10", "20", "60", "10"),
        ("55", "70", "60", "5"),
        ("70", "80", "60", "0"),
        ("70", "50", "60", "-10"),  # a credit brings the period back under its cap
        ("50", "40", "60", "-10"),
        ("80", "70", "60", "0"),  # still above the cap after the credit
        ("0", "0", "0", "0"),
        ("0", "100", "0", "0"),
    ],
)
def test_cap_delta(before: str, after: str, cap: str, delta: str) -> None:
    assert cap_delta(D(before), D(after), D(cap)) == D(delta)


def test_cap_delta_refuses_negative_cap() -> None:
    with pytest.raises(ValueError, match="cap"):
        cap_delta(D(0), D(1), D(-1))


money = st.decimals(min_value=0, max_value=1000, places=2)


@given(st.lists(money, max_size=20), money)
def test_a_period_never_pays_more_than_its_cap(charges: list[Decimal], cap: Decimal) -> None:
    spent = D(0)
    paid = D(0)
    for amount in charges:
        charged, spent = apply_cap(spent, amount, cap)
        assert D(0) <= charged <= amount
        paid += charged
    assert paid == spent == min(sum(charges, D(0)), cap)


@given(money, money, money)
def test_apply_cap_agrees_with_cap_delta(uncapped: Decimal, amount: Decimal, cap: Decimal) -> None:
    charged, _ = apply_cap(min(uncapped, cap), amount, cap)
    assert charged == cap_delta(uncapped, uncapped + amount, cap)


@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 3600), st.integers(1, 60))
def test_allowance_splits_billed_units(used: int, remaining: int, first: int, nxt: int) -> None:
    result = rate_with_allowance(
        used, remaining, first=first, next=nxt, price=D("0.15"), per_units=60
    )
    assert result.free + result.paid == result.billed
    assert result.free == min(remaining, result.billed)
    assert result.charge == Fraction(D("0.15")) * result.paid / 60
