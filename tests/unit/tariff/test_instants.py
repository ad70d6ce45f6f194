"""The command line's one instant parser (tariff.instants): dates, zoned date-times and
offsets from now, and a refusal that names what is accepted."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tariff.instants import FORMATS, BadInstant, parse_instant

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")

ACCEPTED = {
    "2026-03-10": datetime(2026, 3, 9, 16, 0, tzinfo=UTC),  # midnight in Shanghai
    "2026-03-10T10:00:00+08:00": datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
    "2026-03-10T02:00:00Z": datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
    "2026-03-10T02:00:00.250Z": datetime(2026, 3, 10, 2, 0, 0, 250_000, tzinfo=UTC),
    " 2026-03-10T02:00:00z ": datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
    "+1d": datetime(2026, 3, 11, 2, 0, tzinfo=UTC),
    "+2h": datetime(2026, 3, 10, 4, 0, tzinfo=UTC),
    "+30m": datetime(2026, 3, 10, 2, 30, tzinfo=UTC),
    "+45s": datetime(2026, 3, 10, 2, 0, 45, tzinfo=UTC),
    "-1w": datetime(2026, 3, 3, 2, 0, tzinfo=UTC),
}


@pytest.mark.parametrize("text", sorted(ACCEPTED))
def test_each_accepted_form_is_one_instant(text: str) -> None:
    assert parse_instant(text, now=NOW, zone=SHANGHAI) == ACCEPTED[text]


def test_a_date_is_midnight_in_the_zone_given() -> None:
    found = parse_instant("2026-03-10", now=NOW, zone=UTC)
    assert found == datetime(2026, 3, 10, tzinfo=UTC)


REFUSED = [
    "tomorrow",
    "",
    "2026-13-01",
    "2026-02-30",
    "10/03/2026",
    "2026-03-10T10:00:00",  # no offset: refused, not guessed
    "+1y",
    "1d",
    "+d",
    "2026-03-10T25:00:00Z",
    "+9999999d",
]


@pytest.mark.parametrize("text", REFUSED)
def test_anything_else_is_refused_naming_the_accepted_forms(text: str) -> None:
    with pytest.raises(BadInstant) as refused:
        parse_instant(text, now=NOW, zone=SHANGHAI)
    message = str(refused.value)
    assert repr(text) in message
    assert FORMATS in message


def test_a_naive_date_time_says_to_add_an_offset() -> None:
    with pytest.raises(BadInstant, match="no time zone offset"):
        parse_instant("2026-03-10T10:00:00", now=NOW, zone=SHANGHAI)


def test_an_offset_too_far_for_a_datetime_is_refused_not_raised_raw() -> None:
    with pytest.raises(BadInstant):
        parse_instant("+999999w", now=NOW, zone=SHANGHAI)
