"""Calendars: the day kind of hand-picked dates (holidays over workdays over weekends), the day
types band checks must cover, and the calendar mistakes the checker reports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from pricing.calendars import (
    MAX_HOLIDAY_DAYS,
    Calendar,
    DayKind,
    DayType,
    Holiday,
    describe_day_types,
)

CN = Calendar.of(
    weekend=["sat", "sun"],
    holidays=[
        Holiday(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
        Holiday(date(2026, 1, 1), date(2026, 1, 1), "元旦"),
    ],
    workdays=[date(2026, 10, 10), date(2026, 9, 27)],  # a Saturday and a Sunday worked
)

DAY_KIND_CASES = [
    (date(2026, 3, 2), "weekday"),  # Monday
    (date(2026, 3, 6), "weekday"),  # Friday
    (date(2026, 3, 7), "weekend"),  # Saturday
    (date(2026, 3, 8), "weekend"),  # Sunday
    (date(2026, 9, 30), "weekday"),  # Wednesday before the holiday
    (date(2026, 10, 1), "holiday"),  # Thursday, first day
    (date(2026, 10, 3), "holiday"),  # Saturday inside the holiday
    (date(2026, 10, 7), "holiday"),  # last day, included
    (date(2026, 10, 8), "weekday"),  # Thursday after
    (date(2026, 10, 10), "weekday"),  # Saturday worked
    (date(2026, 10, 11), "weekend"),  # Sunday
    (date(2026, 9, 27), "weekday"),  # Sunday worked
    (date(2026, 1, 1), "holiday"),  # one-day holiday
    (date(2026, 1, 2), "weekday"),
    (date(2027, 10, 1), "weekday"),  # holidays are dated, not yearly
]


@pytest.mark.parametrize(("day", "kind"), DAY_KIND_CASES)
def test_day_kind(day: date, kind: DayKind) -> None:
    assert CN.day_kind(day) == kind


@pytest.mark.parametrize(
    ("day", "day_type"),
    [
        (date(2026, 3, 2), ("weekday", 0)),
        (date(2026, 3, 7), ("weekend", 5)),
        (date(2026, 10, 10), ("weekday", 5)),
        (date(2026, 10, 3), ("holiday", None)),
    ],
)
def test_day_type(day: date, day_type: DayType) -> None:
    assert CN.day_type(day) == day_type


def test_holiday_names() -> None:
    assert CN.holiday_name(date(2026, 10, 5)) == "国庆节"
    assert CN.holiday_name(date(2026, 10, 8)) is None


def test_other_weekends() -> None:
    gulf = Calendar.of(weekend=["fri", "sat"])
    assert gulf.day_kind(date(2026, 3, 6)) == "weekend"  # Friday
    assert gulf.day_kind(date(2026, 3, 8)) == "weekday"  # Sunday
    assert Calendar.of(weekend=[]).day_kind(date(2026, 3, 8)) == "weekday"
    assert Calendar.of(weekend=[6]).day_kind(date(2026, 3, 8)) == "weekend"


def test_day_types_follow_the_calendar() -> None:
    assert Calendar().day_types() == [
        ("weekday", 0),
        ("weekday", 1),
        ("weekday", 2),
        ("weekday", 3),
        ("weekday", 4),
        ("weekend", 5),
        ("weekend", 6),
    ]
    assert CN.day_types() == [
        ("weekday", 0),
        ("weekday", 1),
        ("weekday", 2),
        ("weekday", 3),
        ("weekday", 4),
        ("weekday", 5),
        ("weekend", 5),
        ("weekday", 6),
        ("weekend", 6),
        ("holiday", None),
    ]


def test_describe_day_types() -> None:
    text = describe_day_types(
        [("weekday", 0), ("weekday", 5), ("weekend", 6), ("holiday", None)], CN.weekend
    )
    assert text == "mon, sat (workday), sun, holidays"


def test_problems() -> None:
    calendar = Calendar.of(
        holidays=[
            Holiday(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
            Holiday(date(2026, 10, 6), date(2026, 10, 8), "中秋节"),
        ],
        workdays=[date(2026, 10, 3), date(2026, 10, 14), date(2026, 10, 10)],
    )
    assert calendar.problems() == [
        "holidays 国庆节 and 中秋节 overlap from 2026-10-06",
        "workday 2026-10-03 is inside holiday '国庆节'",
        "workday 2026-10-14 is a wed, already a weekday",
    ]
    assert CN.problems() == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Holiday(date(2026, 10, 7), date(2026, 10, 1), "x"), "before it starts"),
        (lambda: Holiday(date(2026, 1, 1), date(2027, 1, 2), "x"), "longer than"),
        (lambda: Calendar.of(weekend=["sunday"]), "unknown day"),
        (lambda: Calendar.of(weekend=[7]), "weekday numbers"),
        (
            lambda: Calendar.of(
                holidays=[Holiday(date(2000 + y, 1, 1), date(2000 + y, 12, 31)) for y in range(60)]
            ),
            f"at most {MAX_HOLIDAY_DAYS}",
        ),
    ],
)
def test_refusals(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_calendars_are_values() -> None:
    again = Calendar.of(
        holidays=list(CN.holidays), workdays=[date(2026, 9, 27), date(2026, 10, 10)]
    )
    assert again == CN
    assert hash(again) == hash(CN)
