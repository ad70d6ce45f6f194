"""Time bands: which band an instant falls in, and splitting an event at band edges.

A band rule is `NAME: DAYS START .. END` with DAYS a set of `weekdays`, `weekends`,
`holidays` or day names (`mon`..`sun`), and [START, END) local wall-clock times in seconds
(24:00 = 86400 ends the day; a range must not wrap: write 22:00 .. 24:00 and 00:00 .. 08:00).
`weekdays`/`weekends`/`holidays` match the calendar's day kind (`pricing.calendars`); a day
name matches that weekday unless the date is a holiday (a holiday is a holiday whatever its
weekday). `otherwise` takes every time no rule covers. Bands are evaluated in the tariff's
time zone, by wall clock: an hour repeated at a DST fall-back is in the same band twice.

`split` is bounded - an event longer than `MAX_EVENT_MS` or cut into more than `MAX_PARTS`
parts raises ValueError - and always advances by at least a millisecond per step, so a call
crossing a band can never hang the engine (the CGRateS bug). Consecutive parts of the same
band are merged: a split only happens where the band changes, so increments are not applied
twice to an evening call crossing midnight inside one off-peak band.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple

from pricing.calendars import DAY_NAMES, Calendar, DayType, describe_day_types

__all__ = [
    "DAY_SELECTORS",
    "MAX_EVENT_MS",
    "MAX_PARTS",
    "MAX_RULES",
    "BandPart",
    "BandRule",
    "TimeBands",
    "format_time_of_day",
    "gaps",
    "overlaps",
    "parse_time_of_day",
]

DAY_SELECTORS = frozenset({"weekdays", "weekends", "holidays", *DAY_NAMES})
DAY_SECONDS = 86_400
MAX_EVENT_MS = 7 * DAY_SECONDS * 1000
MAX_PARTS = 1_000
MAX_RULES = 256
_MS = timedelta(milliseconds=1)


def parse_time_of_day(text: str) -> int:
    """Seconds since midnight of "08:00", "23:59:59" or "24:00"."""
    pieces = text.split(":")
    if not 2 <= len(pieces) <= 3 or not all(p.isascii() and p.isdigit() for p in pieces):
        raise ValueError(f"time of day {text!r} is not HH:MM or HH:MM:SS")
    hours, minutes, seconds = (int(p) for p in [*pieces, "0"][:3])
    if minutes > 59 or seconds > 59 or hours * 3600 + minutes * 60 + seconds > DAY_SECONDS:
        raise ValueError(f"time of day {text!r} is out of range (00:00 .. 24:00)")
    return hours * 3600 + minutes * 60 + seconds


def format_time_of_day(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


@dataclass(frozen=True)
class BandRule:
    """One line of a bands block: band `band` on `days` during [start, end) seconds."""

    band: str
    days: frozenset[str]
    start: int
    end: int

    def __post_init__(self) -> None:
        if not self.band:
            raise ValueError("a band needs a name")
        unknown = sorted(self.days - DAY_SELECTORS)
        if unknown or not self.days:
            raise ValueError(f"band {self.band!r}: unknown or missing days {unknown}")
        if not 0 <= self.start < self.end <= DAY_SECONDS:
            raise ValueError(
                f"band {self.band!r}: {format_time_of_day(self.start)} .. "
                f"{format_time_of_day(self.end)} is not a range within a day (split at 24:00)"
            )

    @classmethod
    def of(cls, band: str, days: Iterable[str], start: str, end: str) -> BandRule:
        """`BandRule.of("peak", ["weekdays"], "08:00", "22:00")`."""
        return cls(band, frozenset(days), parse_time_of_day(start), parse_time_of_day(end))

    def applies(self, day: DayType) -> bool:
        kind, weekday = day
        for selector in self.days:  # bounded: at most 10 selectors
            if selector == "weekdays" and kind == "weekday":
                return True
            if selector == "weekends" and kind == "weekend":
                return True
            if selector == "holidays" and kind == "holiday":
                return True
            if weekday is not None and selector == DAY_NAMES[weekday]:
                return True
        return False

    def describe(self) -> str:
        days = ", ".join(sorted(self.days, key=_selector_order))
        return f"{days} {format_time_of_day(self.start)}..{format_time_of_day(self.end)}"


def _selector_order(selector: str) -> int:
    order = ("weekdays", "weekends", "holidays", *DAY_NAMES)
    return order.index(selector)


class BandPart(NamedTuple):
    band: str
    start: datetime
    duration_ms: int


def _check_rules(rules: Sequence[BandRule]) -> None:
    if len(rules) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} band rules, got {len(rules)}")


def overlaps(rules: Sequence[BandRule], calendar: Calendar | None = None) -> list[str]:
    """Times two different bands both claim, per day type the calendar can produce."""
    _check_rules(rules)
    calendar = calendar or Calendar()
    found: dict[tuple[int, int, int, int], list[DayType]] = {}
    for day in calendar.day_types():  # bounded: at most 15 day types
        active = [(i, r) for i, r in enumerate(rules) if r.applies(day)]
        for a, (i, first) in enumerate(active):  # bounded: MAX_RULES^2
            for j, second in active[a + 1 :]:
                low, high = max(first.start, second.start), min(first.end, second.end)
                if low < high and first.band != second.band:
                    found.setdefault((i, j, low, high), []).append(day)
    return [
        f"bands `{rules[i].band}` ({rules[i].describe()}) and `{rules[j].band}` "
        f"({rules[j].describe()}) overlap {format_time_of_day(low)}..{format_time_of_day(high)}"
        f" on {describe_day_types(days, calendar.weekend)}"
        for (i, j, low, high), days in found.items()
    ]


def _uncovered(rules: Iterable[BandRule], day: DayType) -> list[tuple[int, int]]:
    holes: list[tuple[int, int]] = []
    reached = 0
    for rule in sorted((r for r in rules if r.applies(day)), key=lambda r: r.start):
        if rule.start > reached:
            holes.append((reached, rule.start))
        reached = max(reached, rule.end)
    if reached < DAY_SECONDS:
        holes.append((reached, DAY_SECONDS))
    return holes


def gaps(
    rules: Sequence[BandRule], calendar: Calendar | None = None, otherwise: str | None = None
) -> list[str]:
    """Times no band covers, per day type the calendar can produce (none with `otherwise`)."""
    _check_rules(rules)
    calendar = calendar or Calendar()
    if otherwise:
        return []
    found: dict[tuple[int, int], list[DayType]] = {}
    for day in calendar.day_types():  # bounded: at most 15 day types
        for hole in _uncovered(rules, day):
            found.setdefault(hole, []).append(day)
    return [
        f"no band covers {format_time_of_day(low)}..{format_time_of_day(high)} on "
        f"{describe_day_types(days, calendar.weekend)}"
        for (low, high), days in sorted(found.items())
    ]


_Segments = tuple[list[int], list[int], list[str | None]]  # starts, ends (ms), bands


class TimeBands:
    """A validated bands block in a time zone: `band_at` and `split`."""

    def __init__(
        self,
        rules: Sequence[BandRule],
        *,
        tz: tzinfo,
        calendar: Calendar | None = None,
        otherwise: str | None = None,
    ) -> None:
        self.calendar = calendar or Calendar()
        self.tz = tz
        problems = overlaps(rules, self.calendar) + gaps(rules, self.calendar, otherwise)
        if problems:
            raise ValueError("; ".join(problems))
        self._segments: dict[DayType, _Segments] = {}
        for day in self.calendar.day_types():
            self._segments[day] = self._day_segments(rules, day, otherwise)
        self.names: tuple[str, ...] = tuple(
            sorted({band for _, _, bands in self._segments.values() for band in bands if band})
        )

    @staticmethod
    def _day_segments(rules: Sequence[BandRule], day: DayType, otherwise: str | None) -> _Segments:
        pieces: list[tuple[int, int, str | None]] = [
            (r.start, r.end, r.band) for r in rules if r.applies(day)
        ]
        pieces += [(low, high, otherwise) for low, high in _uncovered(rules, day)]
        starts: list[int] = []
        ends: list[int] = []
        bands: list[str | None] = []
        for low, high, band in sorted(pieces, key=lambda p: p[0]):  # a partition of the day
            if bands and bands[-1] == band and ends[-1] == low * 1000:
                ends[-1] = high * 1000
            else:
                starts.append(low * 1000)
                ends.append(high * 1000)
                bands.append(band)
        return starts, ends, bands

    def _locate(self, instant: datetime) -> tuple[str, int, timedelta | None]:
        """(band, ms from the instant to its segment's end by wall clock, UTC offset)."""
        local = instant.astimezone(self.tz)
        starts, ends, bands = self._segments[self.calendar.day_type(local.date())]
        wall = ((local.hour * 60 + local.minute) * 60 + local.second) * 1000
        wall += local.microsecond // 1000
        index = bisect_right(starts, wall) - 1
        band = bands[index]
        if band is None:  # unreachable once validated: every day type is covered
            raise ValueError(f"no band at {local.isoformat()}")
        return band, ends[index] - wall, local.utcoffset()

    def band_at(self, instant: datetime) -> str:
        """The band of a tz-aware instant."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("the instant needs a time zone")
        return self._locate(instant)[0]

    def _offset_change(self, now: datetime, edge: datetime, offset: timedelta | None) -> datetime:
        """The first instant in (now, edge] whose UTC offset differs from `offset` (a DST
        transition), else `edge`. Bisection over milliseconds: at most ~27 steps per day.
        Assumes a zone changes its offset at most once in (now, edge], a day at most: true of
        the tz database's rules (changes are months apart)."""
        if edge.astimezone(self.tz).utcoffset() == offset:
            return edge
        low, high = 0, (edge - now) // _MS  # offset unchanged at low, changed at high
        while high - low > 1:  # bounded: the interval halves
            middle = (low + high) // 2
            if (now + middle * _MS).astimezone(self.tz).utcoffset() == offset:
                low = middle
            else:
                high = middle
        return now + high * _MS

    def split(self, start: datetime, duration_ms: int) -> list[BandPart]:
        """Cut [start, start + duration) where the band changes (band edges, midnight,
        holidays, DST). Parts keep `start`'s tzinfo and sum to `duration_ms`; a zero-length
        event is one empty part in the band of its instant."""
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValueError("the event start needs a time zone")
        if start.microsecond % 1000:
            raise ValueError("the event start has sub-millisecond precision")
        if not 0 <= duration_ms <= MAX_EVENT_MS:
            raise ValueError(f"event duration {duration_ms} ms is outside 0 .. 7 days")
        zone = start.tzinfo
        if duration_ms == 0:
            return [BandPart(self.band_at(start), start, 0)]
        now = start.astimezone(UTC)
        end = now + duration_ms * _MS
        parts: list[BandPart] = []
        # Every step ends at a segment end, a DST change or the event end; a day has at most
        # 2 * MAX_RULES + 1 segments and one or two changes, and 7 days touch 8 dates.
        for _ in range(8 * (2 * MAX_RULES + 4)):
            if now >= end:
                break
            band, to_edge, offset = self._locate(now)
            stop = min(self._offset_change(now, now + to_edge * _MS, offset), end)
            length = (stop - now) // _MS
            if parts and parts[-1].band == band:
                parts[-1] = parts[-1]._replace(duration_ms=parts[-1].duration_ms + length)
            elif len(parts) == MAX_PARTS:
                raise ValueError(f"event is cut into more than {MAX_PARTS} band parts")
            else:
                parts.append(BandPart(band, now.astimezone(zone), length))
            now = stop
        if now < end:  # unreachable by the bound above; kept so no input can loop for ever
            raise ValueError("event crosses too many band edges")
        return parts
