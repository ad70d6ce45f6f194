"""Choosing a catalog: the draft, an explicit version, or the version in force at an instant."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from catalog.errors import NotFound, NoVersionInForce, ValidationError, Violation
from catalog.model import CatalogVersionInfo


@dataclass(frozen=True, slots=True)
class Draft:
    """The working draft: everything written since the last publish."""


@dataclass(frozen=True, slots=True)
class AsOf:
    """The published version in force at `instant` (greatest effective_from <= instant)."""

    instant: datetime


@dataclass(frozen=True, slots=True)
class VersionNumber:
    number: int


Selector = Draft | AsOf | VersionNumber
DRAFT = Draft()
_END = datetime.max.replace(tzinfo=UTC)


class Timeline:
    """Published versions ordered by effective time, for as-of lookups in O(log n).

    Immutable: a publish builds a new Timeline, so readers never see a half-updated one.
    """

    __slots__ = ("_by_number", "_numbers", "_starts")

    def __init__(self, versions: Sequence[CatalogVersionInfo]) -> None:
        ordered = sorted(versions, key=lambda v: (v.effective_from, v.number))
        self._starts = [v.effective_from for v in ordered]
        self._numbers = [v.number for v in ordered]
        self._by_number = {v.number: v for v in ordered}

    def __len__(self) -> int:
        return len(self._numbers)

    @property
    def versions(self) -> list[CatalogVersionInfo]:
        """Oldest first by number."""
        return [self._by_number[n] for n in sorted(self._by_number)]

    def latest(self) -> CatalogVersionInfo | None:
        """The last published version (greatest number), in force or not yet."""
        return self._by_number[max(self._by_number)] if self._by_number else None

    @property
    def edges(self) -> tuple[datetime, ...]:
        """The instants at which the version in force changes, in order."""
        return tuple(sorted(set(self._starts)))

    def in_force(self, instant: datetime) -> CatalogVersionInfo | None:
        """The version in force at `instant`: the latest to take effect at or before it
        (None: none yet). The one place the choice is made (issue 16)."""
        i = bisect.bisect_right(self._starts, instant)
        return self._by_number[self._numbers[i - 1]] if i else None

    def stretch(self, instant: datetime) -> tuple[CatalogVersionInfo, datetime, datetime] | None:
        """`in_force(instant)` and the stretch [from, until) in which it stays in force
        (`until` is `datetime.max` in UTC when no later version is published)."""
        i = bisect.bisect_right(self._starts, instant)
        if not i:
            return None
        until = self._starts[i] if i < len(self._starts) else _END  # a later start (bisect_right)
        return self._by_number[self._numbers[i - 1]], self._starts[i - 1], until

    def get(self, number: int) -> CatalogVersionInfo | None:
        return self._by_number.get(number)

    def resolve(self, selector: AsOf | VersionNumber) -> CatalogVersionInfo:
        """The version a selector names; NotFound when there is none."""
        if isinstance(selector, VersionNumber):
            found = self._by_number.get(selector.number)
            if found is None:
                raise NotFound(f"catalog version {selector.number} does not exist")
            return found
        found = self.in_force(selector.instant)
        if found is None:
            raise NoVersionInForce(
                f"no catalog version is in force at {selector.instant.isoformat()}"
            )
        return found

    def check_next_effective(self, effective_from: datetime) -> None:
        """Published history is never rewritten: a new version starts after every other."""
        if self._starts and effective_from <= self._starts[-1]:
            raise ValidationError(
                [
                    Violation(
                        "effective_from",
                        f"must be later than {self._starts[-1].isoformat()}, when version "
                        f"{self._numbers[-1]} takes effect",
                    )
                ]
            )
