"""The version in force at T, and the rule that published history is never rewritten."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from catalog.errors import NotFound, ValidationError
from catalog.model import CatalogVersionInfo
from catalog.versions import AsOf, Timeline, VersionNumber


def _at(month: int, day: int = 1) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


def _version(number: int, effective: datetime) -> CatalogVersionInfo:
    return CatalogVersionInfo(number, effective, effective, "", f"h{number}", 0, 0, 0)


TIMELINE = Timeline([_version(1, _at(1)), _version(2, _at(6)), _version(3, _at(9))])


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (_at(1), 1),  # effective_from is inclusive
        (_at(5, 31), 1),
        (_at(6), 2),
        (_at(8, 31), 2),
        (_at(12), 3),
    ],
)
def test_version_in_force_at(instant: datetime, expected: int) -> None:
    assert TIMELINE.resolve(AsOf(instant)).number == expected


def test_nothing_in_force_before_the_first_version() -> None:
    assert TIMELINE.in_force(datetime(2025, 12, 31, tzinfo=UTC)) is None
    with pytest.raises(NotFound, match="no catalog version is in force"):
        TIMELINE.resolve(AsOf(datetime(2025, 12, 31, tzinfo=UTC)))


def test_explicit_version_numbers() -> None:
    assert TIMELINE.resolve(VersionNumber(2)).effective_from == _at(6)
    with pytest.raises(NotFound, match="catalog version 7"):
        TIMELINE.resolve(VersionNumber(7))


def test_a_new_version_must_start_after_every_other() -> None:
    TIMELINE.check_next_effective(_at(9, 2))
    for instant in (_at(9), _at(3)):
        with pytest.raises(ValidationError) as caught:
            TIMELINE.check_next_effective(instant)
        assert caught.value.violations[0].field == "effective_from"


def test_latest_is_by_number_even_when_not_yet_in_force() -> None:
    assert TIMELINE.latest() is not None
    assert TIMELINE.latest().number == 3  # type: ignore[union-attr]
    assert TIMELINE.in_force(_at(7)).number == 2  # type: ignore[union-attr]
    assert Timeline([]).latest() is None
