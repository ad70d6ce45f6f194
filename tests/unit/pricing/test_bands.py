"""Time bands: the band of hand-picked instants, events split at band edges, midnight,
holidays and DST, the bounds that keep a split from running away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.bands import MAX_PARTS, BandPart, BandRule, TimeBands
from tests.unit.pricing.band_tables import BERLIN, CN, PEAK_RULES, SHANGHAI, THREE_RULES, H, M

PEAK = TimeBands(PEAK_RULES, tz=SHANGHAI, calendar=CN, otherwise="offpeak")
THREE = TimeBands(THREE_RULES, tz=SHANGHAI, calendar=CN)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


BAND_AT_CASES = [
    ("2026-03-02T10:00:00+08:00", "peak"),  # Monday
    ("2026-03-02T07:59:59+08:00", "offpeak"),
    ("2026-03-02T08:00:00+08:00", "peak"),  # start included
    ("2026-03-02T21:59:59.999+08:00", "peak"),
    ("2026-03-02T22:00:00+08:00", "offpeak"),  # end excluded
    ("2026-03-07T10:00:00+08:00", "offpeak"),  # Saturday
    ("2026-10-10T10:00:00+08:00", "peak"),  # Saturday worked
    ("2026-10-01T10:00:00+08:00", "offpeak"),  # holiday (a Thursday)
    ("2026-10-08T10:00:00+08:00", "peak"),  # after the holiday
    ("2026-03-02T02:00:00+00:00", "peak"),  # 10:00 in Shanghai
    ("2026-03-01T23:30:00+00:00", "offpeak"),  # 07:30 Monday in Shanghai
    ("2026-03-02T00:30:00+00:00", "peak"),  # 08:30
    ("2026-10-08T00:00:00+00:00", "peak"),  # 08:00 Oct 8: the local date decides
    ("2026-10-07T23:59:00+00:00", "offpeak"),  # 07:59 Oct 8
    ("2026-10-07T01:00:00+00:00", "offpeak"),  # 09:00 Oct 7, holiday
    ("2026-10-10T00:00:00+00:00", "peak"),  # 08:00 on the worked Saturday
    ("2026-03-02T10:00:00-05:00", "offpeak"),  # 23:00 in Shanghai
]


@pytest.mark.parametrize(("text", "band"), BAND_AT_CASES)
def test_band_at(text: str, band: str) -> None:
    assert PEAK.band_at(at(text)) == band


THREE_AT_CASES = [
    ("2026-03-02T07:59:00+08:00", "night"),
    ("2026-03-02T08:00:00+08:00", "peak"),
    ("2026-03-02T12:00:00+08:00", "shoulder"),
    ("2026-03-02T13:59:59+08:00", "shoulder"),
    ("2026-03-02T14:00:00+08:00", "peak"),
    ("2026-03-02T18:30:00+08:00", "shoulder"),
    ("2026-03-02T22:00:00+08:00", "night"),
    ("2026-03-07T07:00:00+08:00", "night"),  # Saturday night: by day name
    ("2026-03-07T12:00:00+08:00", "weekend"),
    ("2026-10-10T12:00:00+08:00", "shoulder"),  # worked Saturday
    ("2026-10-10T03:00:00+08:00", "night"),
    ("2026-10-03T03:00:00+08:00", "holiday"),  # day names never match a holiday
    ("2026-10-03T12:00:00+08:00", "holiday"),
]


@pytest.mark.parametrize(("text", "band"), THREE_AT_CASES)
def test_band_at_with_day_names(text: str, band: str) -> None:
    assert THREE.band_at(at(text)) == band


def parts(*items: tuple[str, str, int]) -> list[BandPart]:
    return [BandPart(band, at(start), ms) for band, start, ms in items]


SPLIT_CASES = [
    # across the 22:00 edge
    (
        "2026-03-02T21:59:00+08:00",
        2 * M,
        [("peak", "2026-03-02T21:59:00+08:00", M), ("offpeak", "2026-03-02T22:00:00+08:00", M)],
    ),
    # inside one band
    ("2026-03-02T10:00:00+08:00", 95_000, [("peak", "2026-03-02T10:00:00+08:00", 95_000)]),
    # across midnight inside one band: not split
    ("2026-03-02T23:50:00+08:00", 20 * M, [("offpeak", "2026-03-02T23:50:00+08:00", 20 * M)]),
    # Friday evening into Saturday morning: the weekend stays off-peak
    (
        "2026-03-06T21:00:00+08:00",
        12 * H,
        [
            ("peak", "2026-03-06T21:00:00+08:00", H),
            ("offpeak", "2026-03-06T22:00:00+08:00", 11 * H),
        ],
    ),
    # Sunday night into Monday
    (
        "2026-03-08T23:00:00+08:00",
        10 * H,
        [("offpeak", "2026-03-08T23:00:00+08:00", 9 * H), ("peak", "2026-03-09T08:00:00+08:00", H)],
    ),
    # into a holiday
    (
        "2026-09-30T21:00:00+08:00",
        12 * H,
        [
            ("peak", "2026-09-30T21:00:00+08:00", H),
            ("offpeak", "2026-09-30T22:00:00+08:00", 11 * H),
        ],
    ),
    # out of a holiday
    (
        "2026-10-07T20:00:00+08:00",
        14 * H,
        [
            ("offpeak", "2026-10-07T20:00:00+08:00", 12 * H),
            ("peak", "2026-10-08T08:00:00+08:00", 2 * H),
        ],
    ),
    # zero length: one empty part in the instant's band
    ("2026-03-02T10:00:00+08:00", 0, [("peak", "2026-03-02T10:00:00+08:00", 0)]),
    # starting on an edge, ending on an edge
    ("2026-03-02T22:00:00+08:00", M, [("offpeak", "2026-03-02T22:00:00+08:00", M)]),
    ("2026-03-02T21:59:00+08:00", M, [("peak", "2026-03-02T21:59:00+08:00", M)]),
    # parts keep the caller's time zone
    (
        "2026-03-02T13:59:00+00:00",
        2 * M,
        [("peak", "2026-03-02T13:59:00+00:00", M), ("offpeak", "2026-03-02T14:00:00+00:00", M)],
    ),
    # millisecond edges
    (
        "2026-03-02T21:59:59.999+08:00",
        2,
        [("peak", "2026-03-02T21:59:59.999+08:00", 1), ("offpeak", "2026-03-02T22:00:00+08:00", 1)],
    ),
]


@pytest.mark.parametrize(("start", "duration", "expected"), SPLIT_CASES)
def test_split(start: str, duration: int, expected: list[tuple[str, str, int]]) -> None:
    result = PEAK.split(at(start), duration)
    assert result == parts(*expected)
    assert [p.start.utcoffset() for p in result] == [at(start).utcoffset()] * len(result)


def test_split_a_working_day_into_its_bands() -> None:
    assert THREE.split(at("2026-03-02T07:00:00+08:00"), 16 * H) == parts(
        ("night", "2026-03-02T07:00:00+08:00", H),
        ("peak", "2026-03-02T08:00:00+08:00", 4 * H),
        ("shoulder", "2026-03-02T12:00:00+08:00", 2 * H),
        ("peak", "2026-03-02T14:00:00+08:00", 4 * H),
        ("shoulder", "2026-03-02T18:00:00+08:00", 4 * H),
        ("night", "2026-03-02T22:00:00+08:00", H),
    )


def test_split_a_whole_week() -> None:
    week = THREE.split(at("2026-03-02T00:00:00+08:00"), 7 * 24 * H)
    # 1 night + 5 weekdays x (4 day bands + 1 night) + Sat, night, Sun, night
    assert len(week) == 30
    assert sum(p.duration_ms for p in week) == 7 * 24 * H
    assert week[-1] == BandPart("night", at("2026-03-08T22:00:00+08:00"), 2 * H)


def test_split_at_dst_spring_forward() -> None:
    """Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 01:30..02:30 is only half there."""
    bands = TimeBands([BandRule.of("night", ["sun"], "01:30", "02:30")], tz=BERLIN, otherwise="day")
    start = datetime(2026, 3, 29, 1, 0, tzinfo=BERLIN)
    assert bands.split(start, 3 * H) == [
        BandPart("day", start, 30 * M),
        BandPart("night", datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), 30 * M),
        BandPart("day", datetime(2026, 3, 29, 3, 0, tzinfo=BERLIN), 2 * H),
    ]


def test_split_at_dst_fall_back() -> None:
    """Berlin, 2026-10-25: 03:00 CEST goes back to 02:00 CET; 02:00..02:30 happens twice."""
    bands = TimeBands([BandRule.of("night", ["sun"], "02:00", "02:30")], tz=BERLIN, otherwise="day")
    utc = [datetime(2026, 10, 25, 0, m, tzinfo=UTC) for m in (0, 30)]
    result = bands.split(utc[0].astimezone(BERLIN), 2 * H)
    # (ambiguous wall times never compare equal across zones: compare in UTC)
    assert [(p.band, p.start.astimezone(UTC), p.duration_ms) for p in result] == [
        ("night", utc[0], 30 * M),
        ("day", utc[1], 30 * M),
        ("night", utc[0] + timedelta(hours=1), 30 * M),
        ("day", utc[1] + timedelta(hours=1), 30 * M),
    ]
    assert [p.start.fold for p in result] == [0, 0, 1, 1]


def test_split_over_a_dst_weekend() -> None:
    """Friday 19:00 CET to Monday 09:00 CEST is 61 real hours; off-peak is 59 of them."""
    bands = TimeBands(
        [BandRule.of("peak", ["weekdays"], "08:00", "20:00")], tz=BERLIN, otherwise="offpeak"
    )
    start = datetime(2026, 3, 27, 19, 0, tzinfo=BERLIN)
    result = bands.split(start, 61 * H)
    assert [(p.band, p.duration_ms) for p in result] == [
        ("peak", H),
        ("offpeak", 59 * H),
        ("peak", H),
    ]
    assert result[2].start == datetime(2026, 3, 30, 8, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "duration", "message"),
    [
        (at("2026-03-02T10:00:00+08:00"), 7 * 24 * H + 1, "outside 0 .. 7 days"),
        (at("2026-03-02T10:00:00+08:00"), -1, "outside 0 .. 7 days"),
        (datetime(2026, 3, 2, 10, 0), M, "time zone"),
        (at("2026-03-02T10:00:00.000500+08:00"), M, "sub-millisecond"),
    ],
)
def test_split_refuses(start: datetime, duration: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PEAK.split(start, duration)


def test_band_at_needs_a_time_zone() -> None:
    with pytest.raises(ValueError, match="time zone"):
        PEAK.band_at(datetime(2026, 3, 2, 10, 0))


def test_split_is_bounded_in_parts() -> None:
    """Bands alternating every 10 minutes: 144 parts a day, so 7 days exceed MAX_PARTS."""
    rules = [
        BandRule(
            "a" if i % 2 == 0 else "b", frozenset({"weekdays", "weekends"}), i * 600, i * 600 + 600
        )
        for i in range(144)
    ]
    flicker = TimeBands(rules, tz=UTC)
    start = datetime(2026, 3, 2, tzinfo=UTC)
    assert len(flicker.split(start, 6 * 24 * H)) == 6 * 144
    with pytest.raises(ValueError, match=f"more than {MAX_PARTS}"):
        flicker.split(start, 7 * 24 * H)


# ---- properties -------------------------------------------------------------------------

BERLIN_THREE = TimeBands(THREE_RULES, tz=BERLIN, calendar=CN)
ANCHORS = [
    datetime(2026, 3, 27, tzinfo=UTC),  # DST spring forward on the 29th
    datetime(2026, 10, 23, tzinfo=UTC),  # DST fall back on the 25th
    datetime(2026, 9, 29, tzinfo=UTC),  # into the October holiday
    datetime(2026, 10, 6, tzinfo=UTC),  # out of it, to the worked Saturday
]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ANCHORS), st.integers(0, 4 * 1440), st.integers(0, 2 * 1440))
def test_split_matches_minute_by_minute(anchor: datetime, offset: int, minutes: int) -> None:
    start_utc = anchor + timedelta(minutes=offset)  # arithmetic in UTC, never on wall time
    result = BERLIN_THREE.split(start_utc.astimezone(BERLIN), minutes * M)
    assert sum(p.duration_ms for p in result) == minutes * M
    # contiguous, neighbours in different bands
    cursor = start_utc
    for index, part in enumerate(result):
        assert part.start.astimezone(UTC) == cursor
        cursor = part.start.astimezone(UTC) + timedelta(milliseconds=part.duration_ms)
        if index:
            assert part.band != result[index - 1].band
    # the band of every minute, run-length encoded, is exactly the parts
    runs: list[tuple[str, int]] = []
    for minute in range(minutes):
        band = BERLIN_THREE.band_at(start_utc + timedelta(minutes=minute))
        if runs and runs[-1][0] == band:
            runs[-1] = (band, runs[-1][1] + M)
        else:
            runs.append((band, M))
    if minutes:
        assert [(p.band, p.duration_ms) for p in result] == runs


@given(st.sampled_from(ANCHORS), st.integers(0, 6 * 1440 * 60), st.integers(0, 7 * 24 * H))
def test_split_parts_sum_and_stay_in_their_band(anchor: datetime, second: int, ms: int) -> None:
    start = anchor + timedelta(seconds=second)
    result = BERLIN_THREE.split(start, ms)
    assert sum(p.duration_ms for p in result) == ms
    for part in result:
        assert BERLIN_THREE.band_at(part.start) == part.band
        if part.duration_ms:
            last = part.start + timedelta(milliseconds=part.duration_ms - 1)
            assert BERLIN_THREE.band_at(last) == part.band
