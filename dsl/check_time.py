"""Checking `calendar`, `bands` and `zones` declarations.

Interval logic is `pricing`'s: the checker builds the same `Calendar` and `BandRule` values the
rating engine will, and reports what `pricing.bands.overlaps` / `gaps` and
`Calendar.problems` find, at the declaration that causes it.
"""

from __future__ import annotations

from datetime import date

from dsl.check_common import Env, did_you_mean
from dsl.nodes import Band, BandsDecl, CalendarDecl, ZonesDecl
from pricing.bands import DAY_SECONDS, DAY_SELECTORS, BandRule, gaps, overlaps
from pricing.calendars import DAY_NAMES, Calendar, Holiday

__all__ = ["build_calendar", "check_bands", "check_calendar", "check_zones"]

_EVERY_DAY = ("weekdays", "weekends", "holidays")


def build_calendar(decl: CalendarDecl, env: Env | None = None) -> Calendar | None:
    """The rating engine's calendar for `decl`; problems are reported when `env` is given;
    None when it cannot be built."""
    ok = True
    for day in decl.weekend:
        if day not in DAY_NAMES:
            ok = False
            if env:
                env.report.error(
                    "unknown-day",
                    decl.span,
                    f"`{day}` is not a day name",
                    did_you_mean(day, DAY_NAMES) or f"use {', '.join(DAY_NAMES)}",
                )
    holidays: list[Holiday] = []
    workdays: set[date] = set()
    for entry in decl.days:
        if entry.end < entry.start:
            ok = False
            if env:
                env.report.error(
                    "bad-holiday",
                    entry.span,
                    f"holiday ends {entry.end} before it starts {entry.start}",
                    "write the first day first: `holiday FIRST .. LAST`",
                )
        elif entry.workday:
            workdays.add(entry.start)
        else:
            try:
                holidays.append(Holiday(entry.start, entry.end, entry.label))
            except ValueError as error:  # e.g. a range longer than the engine allows
                ok = False
                if env:
                    env.report.error("bad-holiday", entry.span, str(error))
    if not ok:
        return None
    try:
        calendar = Calendar.of(decl.weekend, holidays, workdays)
    except ValueError as error:
        if env:
            env.report.error("bad-holiday", decl.span, str(error))
        return None
    return calendar


def check_calendar(decl: CalendarDecl, env: Env) -> None:
    calendar = build_calendar(decl, env)
    if calendar is None:
        return
    for problem in calendar.problems():
        env.report.warning("calendar-problem", decl.span, f"calendar `{decl.name}`: {problem}")


def _band_rule(band: Band, env: Env) -> BandRule | None:
    unknown = [day for day in band.days if day not in DAY_SELECTORS]
    for day in unknown:
        env.report.error(
            "unknown-day",
            band.span,
            f"`{day}` is not a day selector",
            did_you_mean(day, DAY_SELECTORS) or "use weekdays, weekends, holidays or mon..sun",
        )
    if unknown:
        return None
    if band.days and band.start is None and band.end is None:
        return BandRule(band.name, frozenset(band.days), 0, DAY_SECONDS)  # `h: holidays`
    if band.start is None or band.end is None:
        env.report.error(
            "bad-band",
            band.span,
            f"band `{band.name}` needs a time range, or `otherwise`",
            "e.g. `peak: weekdays 08:00 .. 22:00`",
        )
        return None
    try:
        days = frozenset(band.days or _EVERY_DAY)  # `night: 22:00 .. 24:00`: every day
        return BandRule(band.name, days, band.start, band.end)
    except ValueError as error:
        env.report.error(
            "bad-band",
            band.span,
            str(error),
            "a range must not wrap midnight: write 22:00 .. 24:00 and 00:00 .. 08:00",
        )
        return None


def check_bands(decl: BandsDecl, env: Env) -> None:
    calendar: Calendar | None = None
    if decl.calendar:
        calendar_decl = env.scope.calendars.get(decl.calendar)
        if calendar_decl is None:
            env.report.error(
                "unknown-calendar",
                decl.span,
                f"unknown calendar `{decl.calendar}`",
                did_you_mean(decl.calendar, env.scope.calendars),
            )
        else:
            calendar = build_calendar(calendar_decl)
    otherwise: Band | None = None
    rules: list[tuple[Band, BandRule]] = []
    broken = False
    for band in decl.bands:
        if band.otherwise:
            if otherwise is not None:
                env.report.error(
                    "duplicate",
                    band.span,
                    f"bands `{decl.name}` already has an `otherwise` band (`{otherwise.name}`)",
                )
            otherwise = otherwise or band
            continue
        rule = _band_rule(band, env)
        if rule is None:
            broken = True
        else:
            rules.append((band, rule))
    try:
        for index, (band, rule) in enumerate(rules):
            for _, earlier in rules[:index]:
                for problem in overlaps([earlier, rule], calendar):
                    env.report.error("overlapping-bands", band.span, problem)
        if broken:
            return  # a broken band would show up as uncovered time
        holes = gaps([r for _, r in rules], calendar, otherwise.name if otherwise else None)
    except ValueError as error:  # beyond what the rating engine accepts (e.g. too many bands)
        env.report.error("bad-band", decl.span, str(error))
        return
    if holes:
        env.report.error(
            "uncovered-time",
            decl.span,
            f"bands `{decl.name}`: {'; '.join(holes)}",
            "add a band for it, or `NAME: otherwise` to take every time left",
        )


def check_zones(decl: ZonesDecl, env: Env) -> None:
    seen: dict[str, str] = {}
    for entry in decl.entries:
        if not (entry.prefix.isascii() and entry.prefix.isdigit()):
            env.report.error(
                "bad-prefix",
                entry.span,
                f"prefix `{entry.prefix}` must be digits",
                "write international prefixes with `00`, not `+`",
            )
            continue
        before = seen.get(entry.prefix)
        if before is None:
            seen[entry.prefix] = entry.zone
        elif before == entry.zone:
            env.report.error(
                "zone-conflict",
                entry.span,
                f"prefix `{entry.prefix}` is listed twice",
                "remove one",
            )
        else:
            env.report.error(
                "zone-conflict",
                entry.span,
                f"prefix `{entry.prefix}` is in zone `{before}` and in zone `{entry.zone}`",
                "a prefix belongs to one zone: remove one",
            )
