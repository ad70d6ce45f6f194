"""Rounding: every mode on hand-computed ties and near-ties, both signs, any size; Money
(units, nanos) conversions exact both ways and refusing what Money cannot carry."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.rounding import (
    InexactAmountError,
    RoundingMode,
    from_units_nanos,
    round_amount,
    round_exact,
    to_decimal,
    to_units_nanos,
)

D = Decimal
HU, HE, DN, UP, CE, FL = (
    RoundingMode.HALF_UP,
    RoundingMode.HALF_EVEN,
    RoundingMode.DOWN,
    RoundingMode.UP,
    RoundingMode.CEILING,
    RoundingMode.FLOOR,
)

# (amount, mode, decimals, expected) - computed by hand.
ROUNDING_CASES = [
    # half_up: ties away from zero
    ("1.005", HU, 2, "1.01"),
    ("1.004", HU, 2, "1.00"),
    ("1.0049999", HU, 2, "1.00"),
    ("-1.005", HU, 2, "-1.01"),
    ("-1.004", HU, 2, "-1.00"),
    ("2.5", HU, 0, "3"),
    ("-2.5", HU, 0, "-3"),
    ("0.5", HU, 0, "1"),
    ("0.174", HU, 2, "0.17"),  # the CGRateS complaint: exact input, exact answer
    ("0.175", HU, 2, "0.18"),
    ("474.995", HU, 2, "475.00"),
    ("1.2345", HU, 3, "1.235"),
    ("0.165", HU, 2, "0.17"),
    ("99.995", HU, 2, "100.00"),
    ("-99.995", HU, 2, "-100.00"),
    # half_even: ties to the even neighbour
    ("2.5", HE, 0, "2"),
    ("3.5", HE, 0, "4"),
    ("-2.5", HE, 0, "-2"),
    ("-3.5", HE, 0, "-4"),
    ("1.005", HE, 2, "1.00"),
    ("1.015", HE, 2, "1.02"),
    ("1.0051", HE, 2, "1.01"),
    ("474.995", HE, 2, "475.00"),
    ("474.985", HE, 2, "474.98"),
    ("0.125", HE, 2, "0.12"),
    ("0.135", HE, 2, "0.14"),
    ("0.1251", HE, 2, "0.13"),
    # down: toward zero
    ("1.999", DN, 2, "1.99"),
    ("-1.999", DN, 2, "-1.99"),
    ("0.009", DN, 2, "0.00"),
    ("-0.009", DN, 2, "0.00"),
    ("7.9", DN, 0, "7"),
    # up: away from zero
    ("1.001", UP, 2, "1.01"),
    ("-1.001", UP, 2, "-1.01"),
    ("1.000", UP, 2, "1.00"),
    ("0.0001", UP, 2, "0.01"),
    ("7.1", UP, 0, "8"),
    # ceiling: toward +infinity
    ("1.001", CE, 2, "1.01"),
    ("-1.009", CE, 2, "-1.00"),
    ("-0.009", CE, 2, "0.00"),
    ("2.000", CE, 2, "2.00"),
    # floor: toward -infinity
    ("1.009", FL, 2, "1.00"),
    ("-1.001", FL, 2, "-1.01"),
    ("0.009", FL, 2, "0.00"),
    ("-0.001", FL, 2, "-0.01"),
    # exponents and sizes
    ("2", HU, 2, "2.00"),
    ("0", HE, 4, "0.0000"),
    ("1E+3", HU, 2, "1000.00"),
    ("123456789012345678901234567890.125", HE, 2, "123456789012345678901234567890.12"),
    ("123456789012345678901234567890.125", HU, 2, "123456789012345678901234567890.13"),
    ("1E-30", UP, 2, "0.01"),
    ("1E-30", HU, 2, "0.00"),
    ("-1E-30", FL, 2, "-0.01"),
    ("0.123456789", HU, 9, "0.123456789"),
    ("0.1234567895", HE, 9, "0.123456790"),
    ("0.1234567885", HE, 9, "0.123456788"),
]


@pytest.mark.parametrize(("amount", "mode", "decimals", "expected"), ROUNDING_CASES)
def test_round_amount_cases(amount: str, mode: RoundingMode, decimals: int, expected: str) -> None:
    result = round_amount(D(amount), mode, decimals)
    assert str(result) == expected  # value and exponent


@pytest.mark.parametrize(("amount", "mode", "decimals", "expected"), ROUNDING_CASES)
def test_round_exact_agrees_on_cases(
    amount: str, mode: RoundingMode, decimals: int, expected: str
) -> None:
    assert str(round_exact(Fraction(D(amount)), mode, decimals)) == expected


def test_round_amount_ignores_the_ambient_context() -> None:
    with localcontext() as ctx:
        ctx.prec = 3
        assert str(round_amount(D("12345.675"), HU, 2)) == "12345.68"


@pytest.mark.parametrize(
    ("amount", "mode", "decimals"),
    [("-0.001", HU, 2), ("-0.004", HE, 2), ("-0.009", DN, 2), ("-0.4", HU, 0)],
)
def test_negative_zero_is_printed_as_zero(amount: str, mode: RoundingMode, decimals: int) -> None:
    assert not round_amount(D(amount), mode, decimals).is_signed()


@pytest.mark.parametrize(
    ("value", "mode", "decimals", "expected"),
    [
        (Fraction(1, 600), HU, 4, "0.0017"),
        (Fraction(1, 600), DN, 4, "0.0016"),
        (Fraction(1, 3), HU, 2, "0.33"),
        (Fraction(2, 3), HU, 2, "0.67"),
        (Fraction(2, 3), DN, 2, "0.66"),
        (Fraction(-2, 3), DN, 2, "-0.66"),
        (Fraction(-2, 3), FL, 2, "-0.67"),
        (Fraction(-2, 3), CE, 2, "-0.66"),
        (Fraction(-1, 3), UP, 2, "-0.34"),
        (Fraction(61, 600), HU, 2, "0.10"),  # 0.10 per minute for 61 s = 0.10166...
        (Fraction(1, 8), HE, 2, "0.12"),
        (Fraction(3, 8), HE, 2, "0.38"),
        (Fraction(-1, 8), HU, 2, "-0.13"),
        (7, HU, 2, "7.00"),
        (D("0.005"), HU, 2, "0.01"),
    ],
)
def test_round_exact_on_rationals(
    value: Fraction | Decimal | int, mode: RoundingMode, decimals: int, expected: str
) -> None:
    assert str(round_exact(value, mode, decimals)) == expected


@pytest.mark.parametrize("decimals", [-1, 19])
def test_decimals_out_of_range(decimals: int) -> None:
    with pytest.raises(ValueError, match="decimals"):
        round_amount(D("1"), HU, decimals)
    with pytest.raises(ValueError, match="decimals"):
        round_exact(Fraction(1), HU, decimals)


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_non_finite_amounts_are_refused(amount: str) -> None:
    with pytest.raises(ValueError, match="cannot round"):
        round_amount(D(amount), HU, 2)


def test_modes_parse_from_the_dsl_words() -> None:
    assert [RoundingMode(w) for w in ("half_up", "half_even", "down", "up", "ceiling", "floor")]
    with pytest.raises(ValueError, match="half_down"):
        RoundingMode("half_down")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Fraction(1, 8), "0.125"),
        (Fraction(-1, 8), "-0.125"),
        (Fraction(33, 20), "1.65"),
        (Fraction(11, 1024), "0.0107421875"),
        (Fraction(0), "0"),
        (Fraction(5), "5"),
        (D("1.50"), "1.50"),
        (3, "3"),
    ],
)
def test_to_decimal_exact(value: Fraction | Decimal | int, expected: str) -> None:
    assert str(to_decimal(value)) == expected


@pytest.mark.parametrize("value", [Fraction(1, 3), Fraction(1, 600), Fraction(-7, 60)])
def test_to_decimal_refuses_non_terminating(value: Fraction) -> None:
    with pytest.raises(InexactAmountError, match="terminating"):
        to_decimal(value)


amounts = st.decimals(allow_nan=False, allow_infinity=False, places=None)
modes = st.sampled_from(list(RoundingMode))
places = st.integers(min_value=0, max_value=9)


@given(amounts, modes, places)
def test_rounding_is_idempotent(amount: Decimal, mode: RoundingMode, decimals: int) -> None:
    once = round_amount(amount, mode, decimals)
    assert round_amount(once, mode, decimals) == once
    assert once.as_tuple().exponent == -decimals


@given(amounts, modes, places)
def test_integer_rounding_matches_decimal(amount: Decimal, mode: RoundingMode, d: int) -> None:
    assert round_exact(Fraction(amount), mode, d) == round_amount(amount, mode, d)


@given(amounts, places)
def test_rounding_brackets_the_value(amount: Decimal, decimals: int) -> None:
    step = Fraction(1, 10**decimals)
    low, high = round_amount(amount, FL, decimals), round_amount(amount, CE, decimals)
    assert Fraction(low) <= Fraction(amount) <= Fraction(high)
    assert Fraction(high) - Fraction(low) in (0, step)
    for mode in RoundingMode:
        assert round_amount(amount, mode, decimals) in (low, high)


# ---- google.type.Money ----------------------------------------------------------------

MONEY_CASES = [
    ("0", 0, 0),
    ("1.5", 1, 500_000_000),
    ("-1.5", -1, -500_000_000),
    ("-0.75", 0, -750_000_000),
    ("0.000000001", 0, 1),
    ("-0.000000001", 0, -1),
    ("123.456789", 123, 456_789_000),
    ("1E+3", 1000, 0),
    ("1.0000000000", 1, 0),  # trailing zeros beyond 9 digits are fine
    ("39.00", 39, 0),
    ("0.2", 0, 200_000_000),
    ("9223372036854775807.999999999", 2**63 - 1, 999_999_999),
    ("-9223372036854775808.999999999", -(2**63), -999_999_999),
    ("0E+1000", 0, 0),
    ("0E-1000", 0, 0),
]


@pytest.mark.parametrize(("amount", "units", "nanos"), MONEY_CASES)
def test_to_units_nanos(amount: str, units: int, nanos: int) -> None:
    assert to_units_nanos(D(amount)) == (units, nanos)
    assert from_units_nanos(units, nanos) == D(amount)


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0.0000000001", "9 fractional"),
        ("1.0000000001", "9 fractional"),
        ("-0.0000000005", "9 fractional"),
        ("1E-1000000", "9 fractional"),
        ("9223372036854775808", "int64"),
        ("-9223372036854775809", "int64"),
        ("1E+30", "int64"),
        ("1E+999999", "int64"),
        ("NaN", "not a money"),
        ("Infinity", "not a money"),
    ],
)
def test_to_units_nanos_refuses(amount: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_units_nanos(D(amount))


@pytest.mark.parametrize(
    ("units", "nanos", "text"),
    [
        (1, 500_000_000, "1.5"),
        (100, 0, "100"),
        (0, 0, "0"),
        (0, 10, "1E-8"),
        (-3, -10, "-3.00000001"),
    ],
)
def test_from_units_nanos_is_minimal(units: int, nanos: int, text: str) -> None:
    assert str(from_units_nanos(units, nanos)) == text


@pytest.mark.parametrize(
    ("units", "nanos", "message"),
    [
        (1, -1, "same sign"),
        (-1, 1, "same sign"),
        (0, 1_000_000_000, "nanos"),
        (0, -1_000_000_000, "nanos"),
        (2**63, 0, "int64"),
        (-(2**63) - 1, 0, "int64"),
    ],
)
def test_from_units_nanos_refuses(units: int, nanos: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_units_nanos(units, nanos)


money = st.decimals(
    min_value=D(-(2**63)), max_value=D(2**63 - 1), places=9, allow_nan=False, allow_infinity=False
)


@given(money)
def test_money_round_trip(amount: Decimal) -> None:
    units, nanos = to_units_nanos(amount)
    assert -(10**9) < nanos < 10**9
    assert units * nanos >= 0
    assert from_units_nanos(units, nanos) == amount


@given(st.integers(-(2**63), 2**63 - 1), st.integers(0, 999_999_999))
def test_wire_round_trip(units: int, magnitude: int) -> None:
    nanos = -magnitude if units < 0 else magnitude
    assert to_units_nanos(from_units_nanos(units, nanos)) == (units, nanos)
