"""One table of hand-computed cases a rating step, each case run through the step's three
forms (pricing.steps): the reference (exact, what the interpreter calls), the scalar source
the code generator writes (compiled here from the very lines it emits) and the numpy form
the columnar engine calls. A form that disagrees with the table fails here, named."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from pricing.rounding import EXACT, RoundingMode
from pricing.steps import Lines, allowances, caps, increments, rounding, selection, terms, tiers
from pricing.steps.tiers import ScaledTier
from pricing.tiers import Tier

D = Decimal
M = RoundingMode


def scalar(params: str, lines: Lines, returns: str, **names: object) -> Callable[..., Any]:
    """The emitted lines as the body of a function (as the generated module runs them)."""
    body = "\n".join("    " * (1 + depth) + text for depth, text in lines) or "    pass"
    namespace: dict[str, Any] = {"EXACT": EXACT, "Decimal": Decimal, **names}
    exec(f"def step({params}):\n{body}\n    return {returns}\n", namespace)  # the test's own text
    return namespace["step"]  # type: ignore[no-any-return]


def ints(values: Sequence[int]) -> Any:
    return np.array(values, dtype=np.int64)


# -- increments ------------------------------------------------------------------------------

BILLED = [  # used, first, next -> billed
    (0, 60, 6, 0),
    (1, 60, 6, 60),
    (60, 60, 6, 60),
    (61, 60, 6, 66),
    (66, 60, 6, 66),
    (67, 60, 6, 72),
    (3601, 60, 6, 3606),
    (61, 60, 1, 61),
    (0, 0, 1, 0),
    (5, 0, 1, 5),
    (5, 0, 3, 6),
    (6, 0, 3, 6),
    (7, 0, 3, 9),
    (1, 60_000, 1_000, 60_000),
    (60_001, 60_000, 1_000, 61_000),
    (1, 30, 30, 30),
    (31, 30, 30, 60),
    (10**15, 1, 1, 10**15),
]


@pytest.mark.parametrize(("used", "first", "step", "billed"), BILLED)
def test_increments(used: int, first: int, step: int, billed: int) -> None:
    assert increments.reference(used, first, step) == billed
    assert scalar("usage", increments.source(first, step), "billed")(used) == billed
    vector = increments.vector(ints([used, used]), ints([first, first]), ints([step, step]))
    assert vector.tolist() == [billed, billed]


# -- allowances ------------------------------------------------------------------------------

ALLOWANCES = [  # amount, used before, units asked per event -> free units per event
    (300, 0, [66], [66]),
    (100, 0, [60, 60], [60, 40]),
    (100, 40, [30, 0, 50, 10], [30, 0, 30, 0]),
    (100, 100, [5], [0]),
    (100, 150, [5], [0]),  # an allowance already over (a smaller amount in a new version)
    (0, 0, [10], [0]),
    (10**12, 0, [10**9, 10**9], [10**9, 10**9]),
]


@pytest.mark.parametrize(("amount", "before", "asked", "free"), ALLOWANCES)
def test_allowances(amount: int, before: int, asked: list[int], free: list[int]) -> None:
    assert allowances.reference_run(amount, before, asked) == free
    taken: list[int] = []
    lines = [(0, "asked = paid"), *allowances.source(amount, [(0, "taken.append(free)")])]
    step = scalar("before, paid", lines, "asked - paid", taken=taken)
    used, found = before, []
    for units in asked:
        found.append(step(used, units))
        used += found[-1]
    assert found == free
    assert taken == [f for f in free if f]  # the bookkeeping runs only when it gave
    count = len(asked)
    vector = allowances.vector(
        ints([0] * count), ints(asked), ints([amount] * count), ints([before] * count), 1
    )
    assert vector.tolist() == free


def test_allowances_vector_keeps_groups_apart() -> None:
    """Rows of two periods interleaved: each period's allowance runs over its own rows."""
    free = allowances.vector(ints([0, 1, 0, 1]), ints([60, 60, 60, 60]), ints([100] * 4),
                             ints([0, 50, 0, 50]), 2)  # fmt: skip
    assert free.tolist() == [60, 50, 40, 0]


# -- tiers ---------------------------------------------------------------------------------

SCALED = [ScaledTier(0, 100, 5), ScaledTier(100, 1000, 3), ScaledTier(1000, None, 1)]
TIERS = [  # graduated, units before, units paid -> usage charge on the scale
    (True, 0, 50, 250),
    (True, 80, 40, 20 * 5 + 20 * 3),
    (True, 990, 20, 10 * 3 + 10 * 1),
    (True, 0, 0, 0),
    (True, 1500, 10, 10),
    (True, 0, 2000, 100 * 5 + 900 * 3 + 1000 * 1),
    (False, 0, 50, 250),
    (False, 80, 40, 120 * 3 - 80 * 5),  # into a cheaper tier: a credit
    (False, 990, 20, 1010 * 1 - 990 * 3),
    (False, 1000, 0, 0),
    (False, 100, 900, 1000 - 300),
]


@pytest.mark.parametrize(("graduated", "before", "paid", "charge"), TIERS)
def test_tiers(graduated: bool, before: int, paid: int, charge: int) -> None:
    exact = [Tier(t.low, t.high, D(t.multiplier), 1) for t in SCALED]
    assert tiers.reference(graduated, before, paid, exact) == Fraction(charge)
    lines = [(0, "end = before + paid"), *tiers.source(graduated, SCALED)]
    assert scalar("before, paid", lines, "amount")(before, paid) == charge
    vector = tiers.vector(graduated, SCALED, ints([before]), ints([paid]))
    assert vector.tolist() == [charge]


# -- terms ---------------------------------------------------------------------------------

TERMS = [  # usage charge, paid units, connection, minimum, maximum -> charge
    (200, 2, 0, None, None, 200),
    (200, 2, 50, None, None, 250),
    (20, 1, 5, 100, None, 100),  # the minimum covers the fee
    (500, 3, 5, None, 300, 300),
    (0, 5, 10, None, 5, 5),  # the maximum caps the fee too
    (50, 0, 5, 100, None, 0),  # nothing paid: no fee, no minimum
    (0, 0, 0, None, None, 0),
    (-30, 1, 0, None, None, -30),  # a volume credit passes
    (-30, 1, 0, 0, None, 0),
    (120, 4, 10, 100, 200, 130),
]


@pytest.mark.parametrize(("usage", "paid", "connection", "minimum", "maximum", "charge"), TERMS)
def test_terms(
    usage: int, paid: int, connection: int, minimum: int | None, maximum: int | None, charge: int
) -> None:
    low = None if minimum is None else D(minimum)
    high = None if maximum is None else D(maximum)
    assert terms.reference(Fraction(usage), paid, D(connection), low, high) == charge
    held = [(0, "amount = usage"), *terms.source("amount", connection, minimum, maximum)]
    assert scalar("usage, paid", held, "amount")(usage, paid) == charge
    written = terms.source("usage", connection, minimum, maximum)
    assert scalar("usage, paid", written, "amount")(usage, paid) == charge

    def clamp(limit: int | None) -> tuple[Any, Any] | None:
        return None if limit is None else (np.array([True, False]), ints([limit, 0]))

    vector = terms.vector(ints([paid] * 2), ints([usage] * 2), ints([connection] * 2),
                          clamp(minimum), clamp(maximum))  # fmt: skip
    unclamped = connection + usage if paid else 0
    assert vector.tolist() == [charge, unclamped]  # the second row's rate has no min/max


# -- rounding --------------------------------------------------------------------------------

ROUNDING = [  # total, scale, mode, places -> charge
    (1, 600, M.HALF_UP, 2, D("0.00")),
    (1000, 600, M.HALF_UP, 2, D("1.67")),
    (-1000, 600, M.HALF_UP, 2, D("-1.67")),
    (125, 1000, M.HALF_EVEN, 2, D("0.12")),
    (135, 1000, M.HALF_EVEN, 2, D("0.14")),
    (125, 1000, M.HALF_UP, 2, D("0.13")),
    (-125, 1000, M.HALF_UP, 2, D("-0.13")),
    (-125, 1000, M.HALF_EVEN, 2, D("-0.12")),
    (-129, 1000, M.DOWN, 2, D("-0.12")),
    (129, 1000, M.DOWN, 2, D("0.12")),
    (121, 1000, M.UP, 2, D("0.13")),
    (-121, 1000, M.UP, 2, D("-0.13")),
    (-129, 1000, M.CEILING, 2, D("-0.12")),
    (121, 1000, M.CEILING, 2, D("0.13")),
    (-121, 1000, M.FLOOR, 2, D("-0.13")),
    (129, 1000, M.FLOOR, 2, D("0.12")),
    (5, 1, M.HALF_UP, 0, D("5")),
    (120, 100, M.HALF_EVEN, 4, D("1.2000")),
    (10**30 + 2, 3, M.HALF_UP, 3, D("333333333333333333333333333334.000")),  # beyond int64
    (10**30 + 1, 3, M.HALF_UP, 3, D("333333333333333333333333333333.667")),
]


@pytest.mark.parametrize(("total", "scale", "mode", "places", "charge"), ROUNDING)
def test_rounding(total: int, scale: int, mode: RoundingMode, places: int, charge: Decimal) -> None:
    expected = charge
    assert rounding.reference(Fraction(total, scale), mode, places) == expected
    q = scalar("total", rounding.source(mode, places, scale), "q")(total)
    assert D(q).scaleb(-places, EXACT) == expected
    column = ints([total]) if abs(total) < 2**62 else np.array([total], dtype=object)
    mode_code = rounding.MODES.index(mode)
    found, _ = rounding.vector(column, ints([scale]), ints([places]), ints([mode_code]))
    assert D(int(found[0])).scaleb(-places, EXACT) == expected


UNROUNDED = [  # total, scale -> charge when nothing declares a rounding
    (15, 10, D("1.5")),
    (100, 1, D("100")),
    (0, 7, D("0")),
    (-1, 8, D("-0.125")),
    (1, 600, D("0.001666667")),
    (1, 3, D("0.333333333")),
    (2, 3, D("0.666666667")),
    (1, 4096, D("0.000244141")),  # terminates, but finer than the wire: half-even to 9
    (1, 2 * 10**9, D("0.000000000")),  # half of a nano: to the even 0
    (3, 2 * 10**9, D("0.000000002")),
]


@pytest.mark.parametrize(("total", "scale", "charge"), UNROUNDED)
def test_unrounded(total: int, scale: int, charge: Decimal) -> None:
    def same(found: Decimal) -> None:
        assert (found, found.as_tuple().exponent) == (charge, charge.as_tuple().exponent)

    same(rounding.reference(Fraction(total, scale), None, 0))
    same(rounding.unrounded(Fraction(total, scale)))
    same(rounding.unrounded_scaled(total, scale))
    wire = rounding.WIRE_DECIMALS
    q, dropped = rounding.vector(ints([total]), ints([scale]), ints([wire]),
                                 ints([rounding.MODES.index(M.HALF_EVEN)]))  # fmt: skip
    floor = np.where(dropped, wire, 0)
    amount, places = rounding.trim_vector(q, ints([wire]), floor)
    same(D(int(amount[0])).scaleb(-int(places[0]), EXACT))


# -- caps ------------------------------------------------------------------------------------

CAPS = [  # cap, the period's uncapped total before, charges -> what each pays
    (D("10"), D("0"), [D("4"), D("4"), D("4")], [D("4"), D("4"), D("2")]),
    (D("10"), D("12"), [D("1")], [D("0")]),
    (D("10"), D("8"), [D("5"), D("-3")], [D("2"), D("0")]),
    (D("10"), D("0"), [D("12"), D("-5")], [D("10"), D("-3")]),  # a credit back under
    (D("0.50"), D("0.25"), [D("0.10"), D("0.30"), D("0.01")], [D("0.10"), D("0.15"), D("0")]),
    (D("0"), D("0"), [D("1")], [D("0")]),
]


@pytest.mark.parametrize(("cap", "before", "charges", "paid"), CAPS)
def test_caps(cap: Decimal, before: Decimal, charges: list[Decimal], paid: list[Decimal]) -> None:
    assert caps.reference_run(cap, before, charges) == paid
    step = scalar("before, charge", caps.source("LIMIT"), "charge, after", LIMIT=cap)
    found, counter = [], before
    for charge in charges:
        result, counter = step(counter, charge)
        found.append(result)
    assert found == paid
    count, scale = len(charges), 100
    scaled = ints([int(c * scale) for c in charges])
    limit, start = ints([int(cap * scale)] * count), ints([int(before * scale)] * count)
    vector = caps.vector(ints([0] * count), scaled, limit, start, 1)
    assert [D(int(v)) / scale for v in vector] == paid


# -- selection -------------------------------------------------------------------------------


@dataclass(frozen=True)
class P:
    text: str


@dataclass(frozen=True)
class R:
    zone: P
    band: P
    condition: object = None


def rates(*spec: str) -> list[R]:
    """Rates written "ZONE BAND", or "ZONE BAND when" for one with a condition."""
    return [
        R(P(s.split()[0]), P(s.split()[1]), "when" if s.endswith(" when") else None) for s in spec
    ]


NO, IF = selection.NO_RATE, selection.CONDITIONAL
SELECTION = [  # rates, zone, band, the `when`s that hold -> rate chosen, the static choice
    (rates("* *"), "local", "peak", set(), 0, 0),
    (rates("* *", "local *"), "local", "peak", set(), 1, 1),
    (rates("local *", "* *"), "local", "peak", set(), 0, 0),
    (rates("intl_* *", "intl_uk *"), "intl_uk", "", set(), 1, 1),
    (rates("intl_* *", "intl_uk *"), "intl_fr", "", set(), 0, 0),
    (rates("* peak", "local *"), "local", "peak", set(), 1, 1),  # the zone counts first
    (rates("* peak", "* off"), "local", "off", set(), 1, 1),
    (rates("local *"), "intl", "peak", set(), NO, NO),
    (rates("* *", "* * when"), "local", "peak", {1}, 0, 0),  # never more specific
    (rates("* * when", "* *"), "local", "peak", {0}, 0, IF),
    (rates("* * when", "* *"), "local", "peak", set(), 1, IF),
    (rates("local * when", "* *"), "local", "peak", set(), 1, IF),
    (rates("local * when", "* *"), "intl", "peak", set(), 1, 1),  # the `when` cannot match
    (rates("* * when"), "local", "peak", set(), NO, IF),
    (rates("* * when", "local peak", "* * when"), "local", "peak", {0, 2}, 1, IF),
]


@pytest.mark.parametrize(("table", "zone", "band", "holding", "chosen", "static"), SELECTION)
def test_selection(
    table: list[R], zone: str, band: str, holding: set[int], chosen: int, static: int
) -> None:
    asked: list[int] = []

    def holds(index: int) -> bool:
        assert table[index].condition is not None
        asked.append(index)
        return index in holding

    assert selection.reference(table, zone, band, holds) == chosen
    tested, asked[:] = list(asked), []
    found = selection.candidates(table, zone, band)
    assert selection.choose(found, holds) == chosen
    assert asked == tested  # the same conditions, in the same order
    grid = selection.vector(table, [zone, "elsewhere"], [band])
    assert int(grid[0]) == static  # type: ignore[index]
