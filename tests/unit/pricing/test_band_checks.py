"""Band checks for the checker: times of day, rule refusals, and the overlap and gap
diagnostics (per day type of the calendar) that reject a bands block."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pricing.bands import (
    BandRule,
    TimeBands,
    format_time_of_day,
    gaps,
    overlaps,
    parse_time_of_day,
)
from pricing.calendars import Calendar
from tests.unit.pricing.band_tables import CN, PEAK_RULES, SHANGHAI, THREE_RULES


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("00:00", 0), ("08:00", 28_800), ("8:00", 28_800), ("23:59:59", 86_399), ("24:00", 86_400)],
)
def test_parse_time_of_day(text: str, seconds: int) -> None:
    assert parse_time_of_day(text) == seconds


@pytest.mark.parametrize(
    "text", ["24:01", "25:00", "12:60", "12", "12:00:00:00", "ab:cd", "-1:00", "12:00:60", ""]
)
def test_parse_time_of_day_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="time of day"):
        parse_time_of_day(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "00:00"), (28_800, "08:00"), (86_399, "23:59:59"), (86_400, "24:00")]
)
def test_format_time_of_day(seconds: int, text: str) -> None:
    assert format_time_of_day(seconds) == text


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BandRule.of("", ["weekdays"], "08:00", "22:00"), "needs a name"),
        (lambda: BandRule.of("p", ["weekday"], "08:00", "22:00"), "unknown"),
        (lambda: BandRule.of("p", [], "08:00", "22:00"), "missing"),
        (lambda: BandRule.of("p", ["weekdays"], "22:00", "08:00"), "split at 24:00"),
        (lambda: BandRule.of("p", ["weekdays"], "08:00", "08:00"), "not a range"),
        (lambda: BandRule("p", frozenset({"mon"}), 0, 86_401), "not a range"),
    ],
)
def test_rule_refusals(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def rule(band: str, days: str, start: str, end: str) -> BandRule:
    return BandRule.of(band, days.split(","), start, end)


OVERLAP_CASES = [
    (
        [rule("peak", "weekdays", "08:00", "22:00"), rule("late", "mon", "20:00", "23:00")],
        None,
        [
            "bands `peak` (weekdays 08:00..22:00) and `late` (mon 20:00..23:00) "
            "overlap 20:00..22:00 on mon"
        ],
    ),
    (  # the same band twice is harmless
        [rule("peak", "weekdays", "08:00", "22:00"), rule("peak", "fri", "08:00", "23:00")],
        None,
        [],
    ),
    (  # holidays are not weekends
        [rule("w", "weekends", "00:00", "24:00"), rule("h", "holidays", "00:00", "24:00")],
        CN,
        [],
    ),
    (  # touching ranges do not overlap
        [rule("a", "weekdays", "00:00", "12:00"), rule("b", "weekdays", "12:00", "24:00")],
        None,
        [],
    ),
    (  # only a worked Saturday makes these overlap
        [rule("peak", "weekdays", "08:00", "22:00"), rule("sat", "sat", "10:00", "12:00")],
        CN,
        [
            "bands `peak` (weekdays 08:00..22:00) and `sat` (sat 10:00..12:00) "
            "overlap 10:00..12:00 on sat (workday)"
        ],
    ),
    ([rule("peak", "weekdays", "08:00", "22:00"), rule("sat", "sat", "10:00", "12:00")], None, []),
    (
        [rule("a", "mon,tue", "08:00", "10:00"), rule("b", "weekdays,weekends", "09:00", "11:00")],
        None,
        [
            "bands `a` (mon, tue 08:00..10:00) and `b` (weekdays, weekends 09:00..11:00) "
            "overlap 09:00..10:00 on mon, tue"
        ],
    ),
]


@pytest.mark.parametrize(("rules", "calendar", "expected"), OVERLAP_CASES)
def test_overlaps(rules: list[BandRule], calendar: Calendar | None, expected: list[str]) -> None:
    assert overlaps(rules, calendar) == expected


GAP_CASES = [
    (
        [rule("peak", "weekdays", "08:00", "22:00")],
        None,
        None,
        [
            "no band covers 00:00..08:00 on mon, tue, wed, thu, fri",
            "no band covers 00:00..24:00 on sat, sun",
            "no band covers 22:00..24:00 on mon, tue, wed, thu, fri",
        ],
    ),
    ([rule("peak", "weekdays", "08:00", "22:00")], None, "offpeak", []),
    (THREE_RULES, CN, None, []),
    (
        [rule("wd", "weekdays", "00:00", "24:00"), rule("we", "weekends", "00:00", "24:00")],
        CN,
        None,
        ["no band covers 00:00..24:00 on holidays"],
    ),
    (
        [
            rule("a", "weekdays,weekends", "00:00", "12:00"),
            rule("b", "weekdays,weekends", "12:30", "24:00"),
        ],
        None,
        None,
        ["no band covers 12:00..12:30 on mon, tue, wed, thu, fri, sat, sun"],
    ),
    ([], None, None, ["no band covers 00:00..24:00 on mon, tue, wed, thu, fri, sat, sun"]),
]


@pytest.mark.parametrize(("rules", "calendar", "otherwise", "expected"), GAP_CASES)
def test_gaps(
    rules: list[BandRule], calendar: Calendar | None, otherwise: str | None, expected: list[str]
) -> None:
    assert gaps(rules, calendar, otherwise) == expected


def test_time_bands_refuse_overlaps_and_gaps() -> None:
    with pytest.raises(ValueError, match=r"overlap 20:00\.\.22:00"):
        TimeBands(OVERLAP_CASES[0][0], tz=SHANGHAI, otherwise="offpeak")
    with pytest.raises(ValueError, match=r"no band covers 22:00\.\.24:00"):
        TimeBands(PEAK_RULES, tz=SHANGHAI)
