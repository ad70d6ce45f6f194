"""Calendars: which kind of day a local date is, for time bands.

A date is a *holiday* when a holiday range covers it, else a *weekday* when it is a declared
workday (a weekend day worked, 调休), else a *weekend* day when its weekday is a weekend day,
else a *weekday*. Holidays win over everything: a workday inside a holiday is a mistake the
checker reports (`Calendar.problems`). Dates are local dates in the tariff's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from typing import Literal

__all__ = [
    "DAY_NAMES",
    "MAX_HOLIDAY_DAYS",
    "MAX_HOLIDAY_RANGE_DAYS",
    "Calendar",
    "DayKind",
    "DayType",
    "Holiday",
    "describe_day_types",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Longest single holiday range and most holiday days per calendar: bounds every expansion.
MAX_HOLIDAY_RANGE_DAYS = 366
MAX_HOLIDAY_DAYS = 20_000

DayKind = Literal["weekday", "weekend", "holiday"]
#: What a band rule can tell apart about a day: its kind and, except for holidays (which
#: day names never match), its weekday (0 = Monday).
DayType = tuple[DayKind, int | None]


@dataclass(frozen=True)
class Holiday:
    """Dates `first`..`last`, both included (`holiday 2026-10-01 .. 2026-10-07 "国庆节"`)."""

    first: date
    last: date
    name: str = ""

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"holiday {self.name!r} ends {self.last} before it starts")
        if (self.last - self.first).days >= MAX_HOLIDAY_RANGE_DAYS:
            raise ValueError(f"holiday {self.name!r} is longer than {MAX_HOLIDAY_RANGE_DAYS} days")

    def dates(self) -> Iterable[date]:
        """Every date of the range (bounded by MAX_HOLIDAY_RANGE_DAYS)."""
        for offset in range((self.last - self.first).days + 1):
            yield self.first + timedelta(days=offset)


def _weekday_number(day: int | str) -> int:
    if isinstance(day, str):
        if day not in DAY_NAMES:
            raise ValueError(f"unknown day {day!r}; use one of {', '.join(DAY_NAMES)}")
        return DAY_NAMES.index(day)
    if not 0 <= day <= 6:
        raise ValueError(f"weekday numbers are 0 (Monday) .. 6 (Sunday), got {day}")
    return day


@dataclass(frozen=True)
class Calendar:
    """Weekend days, holiday ranges and workdays; `day_kind(d)` by the module's precedence."""

    weekend: frozenset[int] = frozenset({5, 6})
    holidays: tuple[Holiday, ...] = ()
    workdays: frozenset[date] = frozenset()
    _holiday_dates: dict[date, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for day in self.weekend:
            _weekday_number(day)
        expanded: dict[date, str] = {}
        total = 0
        for holiday in self.holidays:  # bounded: each range <= 366 days, total checked
            total += (holiday.last - holiday.first).days + 1
            if total > MAX_HOLIDAY_DAYS:
                raise ValueError(f"a calendar holds at most {MAX_HOLIDAY_DAYS} holiday days")
            for holiday_date in holiday.dates():
                expanded.setdefault(holiday_date, holiday.name)
        object.__setattr__(self, "_holiday_dates", expanded)

    @classmethod
    def of(
        cls,
        weekend: Iterable[int | str] = ("sat", "sun"),
        holidays: Iterable[Holiday] = (),
        workdays: Iterable[date] = (),
    ) -> Calendar:
        """Build from day names or numbers (`Calendar.of(weekend=["fri", "sat"])`)."""
        return cls(
            frozenset(_weekday_number(d) for d in weekend), tuple(holidays), frozenset(workdays)
        )

    def day_kind(self, day: date) -> DayKind:
        if day in self._holiday_dates:
            return "holiday"
        if day in self.workdays:
            return "weekday"
        return "weekend" if day.weekday() in self.weekend else "weekday"

    def day_type(self, day: date) -> DayType:
        kind = self.day_kind(day)
        return (kind, None) if kind == "holiday" else (kind, day.weekday())

    def holiday_name(self, day: date) -> str | None:
        return self._holiday_dates.get(day)

    def day_types(self) -> list[DayType]:
        """Every day type a date can have under this calendar (what band checks must cover):
        each non-weekend weekday; each weekend day, and as a weekday too when a workday falls
        on it; holidays when there are any."""
        worked = {d.weekday() for d in self.workdays if d not in self._holiday_dates}
        types: list[DayType] = []
        for wd in range(7):
            if wd not in self.weekend or wd in worked:
                types.append(("weekday", wd))
            if wd in self.weekend:
                types.append(("weekend", wd))
        if self._holiday_dates:
            types.append(("holiday", None))
        return types

    def problems(self) -> list[str]:
        """Human-readable mistakes: overlapping holiday ranges, workdays inside holidays,
        workdays that are not weekend days (they change nothing)."""
        found: list[str] = []
        ordered = sorted(self.holidays, key=lambda h: (h.first, h.last))
        for before, after in pairwise(ordered):
            if after.first <= before.last:
                found.append(
                    f"holidays {before.name or before.first} and {after.name or after.first} "
                    f"overlap from {after.first}"
                )
        for day in sorted(self.workdays):
            if day in self._holiday_dates:
                found.append(f"workday {day} is inside holiday {self._holiday_dates[day]!r}")
            elif day.weekday() not in self.weekend:
                found.append(f"workday {day} is a {DAY_NAMES[day.weekday()]}, already a weekday")
        return found


def describe_day_types(types: Iterable[DayType], weekend: frozenset[int]) -> str:
    """Day types for diagnostics: "mon, tue, sat (workday), holidays"."""
    words: list[str] = []
    for kind, wd in types:
        if kind == "holiday" or wd is None:
            words.append("holidays")
        elif kind == "weekday" and wd in weekend:
            words.append(f"{DAY_NAMES[wd]} (workday)")
        else:
            words.append(DAY_NAMES[wd])
    return ", ".join(words)
