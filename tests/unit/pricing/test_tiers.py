"""Tiers: graduated and volume charges on hand-computed tables, the tier table checks, and
the properties that make batching safe (graduated splits add up; volume deltas telescope)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pricing.rounding import InexactAmountError
from pricing.tiers import (
    MAX_TIERS,
    Tier,
    graduated_charge,
    graduated_charge_exact,
    tier_problems,
    volume_charge,
    volume_delta,
)

D = Decimal
MB = 2**20
GB = 2**30

# 0..5 MB at 0.29 per MB, then 0.10 per MB (units: MB)
TWO = [Tier(0, 5, D("0.29"), 1), Tier(5, None, D("0.10"), 1)]
# 0..100 at 0.10, 100..1000 at 0.05, then 0.01
THREE = [
    Tier(0, 100, D("0.10"), 1),
    Tier(100, 1000, D("0.05"), 1),
    Tier(1000, None, D("0.01"), 1),
]
# the DSL reference's data tiers, in bytes, priced per MB
DATA = [Tier(0, 5 * GB, D("0.29"), MB), Tier(5 * GB, None, D("0.10"), MB)]

GRADUATED_CASES = [
    (TWO, 0, 0, "0", []),
    (TWO, 0, 3, "0.87", [(0, 3)]),
    (TWO, 0, 5, "1.45", [(0, 5)]),
    (TWO, 0, 6, "1.55", [(0, 5), (1, 1)]),
    (TWO, 3, 4, "0.78", [(0, 2), (1, 2)]),
    (TWO, 4, 1, "0.29", [(0, 1)]),
    (TWO, 4, 2, "0.39", [(0, 1), (1, 1)]),
    (TWO, 5, 10, "1.00", [(1, 10)]),
    (TWO, 7, 1, "0.10", [(1, 1)]),
    (TWO, 5, 0, "0", []),
    (THREE, 0, 1500, "60", [(0, 100), (1, 900), (2, 500)]),
    (THREE, 50, 100, "7.5", [(0, 50), (1, 50)]),
    (THREE, 999, 2, "0.06", [(1, 1), (2, 1)]),
    (THREE, 99, 902, "45.11", [(0, 1), (1, 900), (2, 1)]),
    (THREE, 2000, 100, "1.00", [(2, 100)]),
    (THREE, 0, 100, "10", [(0, 100)]),
    (THREE, 100, 0, "0", []),
    (DATA, 0, GB, "296.96", [(0, GB)]),
    (DATA, 5 * GB - MB, 2 * MB, "0.39", [(0, MB), (1, MB)]),
    (DATA, 0, 1, "0.0000002765655517578125", [(0, 1)]),
    (DATA, 6 * GB, 512 * 1024, "0.05", [(1, 512 * 1024)]),
    ([Tier(0, None, D("1.50"), 1000)], 0, 2500, "3.75", [(0, 2500)]),
    ([Tier(0, None, D("0"), 1)], 10, 10, "0", [(0, 10)]),
]


@pytest.mark.parametrize(("tiers", "before", "used", "amount", "units"), GRADUATED_CASES)
def test_graduated_charge(
    tiers: list[Tier], before: int, used: int, amount: str, units: list[tuple[int, int]]
) -> None:
    assert graduated_charge(before, used, tiers) == (D(amount), units)


def test_graduated_non_terminating() -> None:
    thirds = [Tier(0, None, D("1"), 3)]
    assert graduated_charge_exact(0, 1, thirds) == (Fraction(1, 3), [(0, 1)])
    with pytest.raises(InexactAmountError):
        graduated_charge(0, 1, thirds)


VOLUME_CASES = [
    (THREE, 0, "0", 0),
    (THREE, 50, "5.00", 0),
    (THREE, 99, "9.90", 0),
    (THREE, 100, "5.00", 1),  # the boundary belongs to the upper tier
    (THREE, 999, "49.95", 1),
    (THREE, 1000, "10.00", 2),
    (THREE, 1500, "15.00", 2),
    (TWO, 4, "1.16", 0),
    (TWO, 5, "0.50", 1),
    (DATA, GB, "296.96", 0),
    (DATA, 5 * GB, "512.00", 1),
]


@pytest.mark.parametrize(("tiers", "total", "amount", "index"), VOLUME_CASES)
def test_volume_charge(tiers: list[Tier], total: int, amount: str, index: int) -> None:
    assert volume_charge(total, tiers) == (D(amount), index)


@pytest.mark.parametrize(
    ("before", "used", "delta"),
    [
        (0, 50, "5.00"),
        (50, 49, "4.90"),
        (90, 10, "-4.00"),  # 9.00 at 0.10 becomes 5.00 at 0.05: a credit
        (999, 1, "-39.95"),
        (1000, 0, "0"),
        (1000, 500, "5.00"),
        (0, 1500, "15.00"),
    ],
)
def test_volume_delta(before: int, used: int, delta: str) -> None:
    assert volume_delta(before, used, THREE) == D(delta)


PROBLEM_CASES = [
    ([], ["no tiers"]),
    (TWO, []),
    (THREE, []),
    ([Tier(0, None, D("0.10"), 1)], []),
    ([Tier(1, 5, D("1"), 1), Tier(5, None, D("1"), 1)], ["tier 1 starts at 1, not 0"]),
    (
        [Tier(0, 5, D("1"), 1), Tier(6, None, D("1"), 1)],
        ["gap between tier 1 and tier 2: 5 .. 6 has no price"],
    ),
    ([Tier(0, 5, D("1"), 1), Tier(4, None, D("1"), 1)], ["tier 2 overlaps tier 1 from 4"]),
    (
        [Tier(0, None, D("1"), 1), Tier(5, None, D("1"), 1)],
        ["tier 1 is open-ended but is not the last"],
    ),
    ([Tier(0, 5, D("1"), 1)], ["the last tier ends at 5: usage above it has no price"]),
    (
        [Tier(0, 0, D("1"), 1), Tier(0, None, D("1"), 1)],
        ["tier 1 is empty or reversed (0 .. 0)"],
    ),
    (
        [Tier(0, 5, D("1"), 1), Tier(5, 3, D("1"), 1), Tier(3, None, D("1"), 1)],
        ["tier 2 is empty or reversed (5 .. 3)"],
    ),
    ([Tier(0, None, D("1"), 0)], ["tier 1 is priced per 0 units"]),
    ([Tier(0, None, D("-1"), 1)], ["tier 1 has price -1"]),
    ([Tier(0, None, D("NaN"), 1)], ["tier 1 has price NaN"]),
    (
        [Tier(2, 5, D("1"), 1), Tier(7, None, D("1"), 1)],
        ["tier 1 starts at 2, not 0", "gap between tier 1 and tier 2: 5 .. 7 has no price"],
    ),
    (
        [Tier(i, i + 1, D("1"), 1) for i in range(MAX_TIERS)] + [Tier(MAX_TIERS, None, D(1), 1)],
        [f"at most {MAX_TIERS} tiers, got {MAX_TIERS + 1}"],
    ),
]


@pytest.mark.parametrize(("tiers", "problems"), PROBLEM_CASES)
def test_tier_problems(tiers: list[Tier], problems: list[str]) -> None:
    assert tier_problems(tiers) == problems


def test_charges_refuse_bad_tiers_and_usage() -> None:
    with pytest.raises(ValueError, match="gap between"):
        graduated_charge(0, 1, [Tier(0, 5, D("1"), 1), Tier(6, None, D("1"), 1)])
    with pytest.raises(ValueError, match="no tiers"):
        volume_charge(1, [])
    with pytest.raises(ValueError, match="usage"):
        graduated_charge(-1, 1, TWO)
    with pytest.raises(ValueError, match="usage"):
        graduated_charge(0, -1, TWO)
    with pytest.raises(ValueError, match="usage"):
        volume_delta(5, -1, TWO)


@st.composite
def tier_tables(draw: st.DrawFn) -> list[Tier]:
    bounds = sorted(draw(st.sets(st.integers(1, 10_000), max_size=5)))
    lows = [0, *bounds]
    highs: list[int | None] = [*bounds, None]
    per = draw(st.sampled_from([1, 60, 1000, 1024]))
    prices = st.decimals(min_value=0, max_value=10, places=2)
    return [Tier(low, high, draw(prices), per) for low, high in zip(lows, highs, strict=True)]


usage = st.integers(0, 20_000)


@given(tier_tables(), usage, usage, usage)
def test_graduated_split_is_additive(tiers: list[Tier], before: int, x: int, y: int) -> None:
    """charge(b, x) + charge(b + x, y) == charge(b, x + y): batching never changes a total."""
    first, first_units = graduated_charge_exact(before, x, tiers)
    second, second_units = graduated_charge_exact(before + x, y, tiers)
    whole, whole_units = graduated_charge_exact(before, x + y, tiers)
    assert first + second == whole
    assert sum(u for _, u in whole_units) == x + y
    merged: dict[int, int] = {}
    for index, units in first_units + second_units:
        merged[index] = merged.get(index, 0) + units
    assert merged == dict(whole_units)


@given(tier_tables(), usage, usage)
def test_graduated_is_monotonic(tiers: list[Tier], x: int, y: int) -> None:
    low, high = sorted((x, y))
    assert graduated_charge_exact(0, low, tiers)[0] <= graduated_charge_exact(0, high, tiers)[0]


@given(tier_tables(), st.lists(usage, max_size=8))
def test_volume_deltas_telescope(tiers: list[Tier], batches: list[int]) -> None:
    """Posting each batch's delta leaves the period at the volume charge of its total."""
    total, posted = 0, Fraction(0)
    terminating = tiers[0].per_units != 60
    for batch in batches:
        if terminating:
            posted += Fraction(volume_delta(total, batch, tiers))
        total += batch
    if terminating:
        assert posted == Fraction(volume_charge(total, tiers)[0])
