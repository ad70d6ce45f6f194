"""Calendars and band rules shared by the band tests (hand-written, Shanghai and Berlin)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from pricing.bands import BandRule
from pricing.calendars import Calendar, Holiday

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
H = 3_600_000  # ms
M = 60_000

CN = Calendar.of(
    holidays=[Holiday(date(2026, 10, 1), date(2026, 10, 7), "国庆节")],
    workdays=[date(2026, 10, 10)],  # a Saturday worked
)
PEAK_RULES = [BandRule.of("peak", ["weekdays"], "08:00", "22:00")]

NIGHT = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
THREE_RULES = [
    BandRule.of("night", NIGHT, "00:00", "08:00"),
    BandRule.of("peak", ["weekdays"], "08:00", "12:00"),
    BandRule.of("shoulder", ["weekdays"], "12:00", "14:00"),
    BandRule.of("peak", ["weekdays"], "14:00", "18:00"),
    BandRule.of("shoulder", ["weekdays"], "18:00", "22:00"),
    BandRule.of("night", NIGHT, "22:00", "24:00"),
    BandRule.of("weekend", ["weekends"], "08:00", "22:00"),
    BandRule.of("holiday", ["holidays"], "00:00", "24:00"),
]
