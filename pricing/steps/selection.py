"""The rate of a band part: the most specific rate whose zone and band patterns match and
whose `when` holds - exact over prefix (`intl_*`) over `*` for the zone, then for the band,
the first in source order among equals.

- `reference` walks every rate, testing conditions as it goes (the interpreter);
- `candidates` + `choose` is the scalar form: the rates that can still win for a (zone,
  band), worked out once (a rate after an unconditional one at least as specific never
  can), then chosen per event with only their conditions tested;
- `vector` is the choice where no condition is tested: the rate, `NO_RATE`, or
  `CONDITIONAL` when a `when` would decide (the columnar engine hands such events on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple, Protocol

import numpy as np

__all__ = [
    "CONDITIONAL",
    "NO_RATE",
    "Candidate",
    "Pattern",
    "Selectable",
    "candidates",
    "choose",
    "matches",
    "reference",
    "specificity",
    "vector",
]

NO_RATE = -1
CONDITIONAL = -2


class Pattern(Protocol):
    """A zone or band pattern: `*`, a prefix `intl_*` (the text keeps the star) or a name."""

    @property
    def text(self) -> str: ...


class Selectable(Protocol):
    """What selection reads of a rate."""

    @property
    def zone(self) -> Pattern: ...
    @property
    def band(self) -> Pattern: ...
    @property
    def condition(self) -> object:
        """The rate's `when` (None: none)."""


def matches(pattern: Pattern, name: str) -> bool:
    text = pattern.text
    if text == "*":
        return True
    if text.endswith("*"):
        return name.startswith(text[:-1])
    return name == text


def specificity(pattern: Pattern) -> int:
    """Exact (2) over prefix (1) over `*` (0)."""
    text = pattern.text
    return 0 if text == "*" else 1 if text.endswith("*") else 2


def reference(
    rates: Sequence[Selectable], zone: str, band: str, holds: Callable[[int], bool]
) -> int:
    """The index of the chosen rate, or NO_RATE; `holds(index)` tests rate index's `when`
    (only called for conditional rates that could still win)."""
    best, best_key = NO_RATE, (-1, -1)
    for index, key, rate in _matching(rates, zone, band):
        if key > best_key and (rate.condition is None or holds(index)):
            best, best_key = index, key
    return best


def _matching(
    rates: Sequence[Selectable], zone: str, band: str
) -> Iterator[tuple[int, tuple[int, int], Selectable]]:
    """(index, specificity key, rate) of the rates matching zone and band, in source order."""
    for index, rate in enumerate(rates):  # bounded by the block
        if matches(rate.zone, zone) and matches(rate.band, band):
            yield index, (specificity(rate.zone), specificity(rate.band)), rate


class Candidate(NamedTuple):
    rate: int
    key: tuple[int, int]
    conditional: bool


def candidates(rates: Sequence[Selectable], zone: str, band: str) -> tuple[Candidate, ...]:
    """The rates that can be chosen for (zone, band), in source order."""
    found: list[Candidate] = []
    settled = (-1, -1)  # the key of the last unconditional candidate: the best is >= it
    for index, key, rate in _matching(rates, zone, band):
        if key <= settled:
            continue
        conditional = rate.condition is not None
        found.append(Candidate(index, key, conditional))
        if not conditional:
            settled = key
    return tuple(found)


def choose(found: Sequence[Candidate], holds: Callable[[int], bool]) -> int:
    """`reference` over the candidates of its (zone, band)."""
    best, best_key = NO_RATE, (-1, -1)
    for index, key, conditional in found:  # bounded by the block
        if key <= best_key:
            continue
        if conditional and not holds(index):
            continue
        best, best_key = index, key
    return best


def static(found: Sequence[Candidate]) -> int:
    """The choice when no condition may be tested: CONDITIONAL if one would be."""
    best, best_key = NO_RATE, (-1, -1)
    for index, key, conditional in found:  # bounded by the block
        if key <= best_key:
            continue
        if conditional:
            return CONDITIONAL
        best, best_key = index, key
    return best


def vector(rates: Sequence[Selectable], zones: Sequence[str], bands: Sequence[str]) -> object:
    """The static choice of every (zone, band), flat and zone-major (int64)."""
    return np.array(
        [static(candidates(rates, zone, band)) for zone in zones for band in bands],
        dtype=np.int64,
    )
