"""Time bands for a whole column of instants (the columnar rater).

`TimeBands.split` is the one definition of where bands change (calendar, holidays, DST); this
module asks it once for the runs of bands over the stretch of time a batch covers - a day at
a time, adjacent runs of one band merged, as `split` merges them - and then answers every row
with a binary search over the run ends. An event's parts are the runs it overlaps, cut at
its start and end: exactly the parts `split` returns for it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from pricing.bands import TimeBands

__all__ = ["BandRuns", "Parts"]

DAY_MS = 86_400_000
MINUTE_MS = 60_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class BandRuns:
    """The runs of one band setting over [low, high) epoch milliseconds (whole UTC days)."""

    def __init__(self, bands: TimeBands, low_ms: int, high_ms: int) -> None:
        self.low = low_ms - low_ms % DAY_MS
        self.high = high_ms - high_ms % DAY_MS + DAY_MS
        ends: list[int] = []
        names: list[str] = []
        day = self.low
        while day < self.high:  # bounded: the batch's days
            at = day
            for part in bands.split(_EPOCH + timedelta(milliseconds=day), DAY_MS):
                at += part.duration_ms
                if names and names[-1] == part.band:
                    ends[-1] = at
                else:
                    ends.append(at)
                    names.append(part.band)
            day += DAY_MS
        self.names = list(bands.names)  # codes index the setting's names, whatever the range
        code = {name: index for index, name in enumerate(self.names)}
        self.ends = np.array(ends, dtype=np.int64)
        self.codes = np.array([code[name] for name in names], dtype=np.int32)
        # the run of each minute of the range (-1: a band changes inside that minute), so
        # most instants need one gather instead of a binary search
        minutes = np.arange(self.low, self.high, MINUTE_MS, dtype=np.int64)
        first = np.searchsorted(self.ends, minutes, side="right")
        last = np.searchsorted(self.ends, minutes + MINUTE_MS - 1, side="right")
        self._minute = np.where(first == last, first, -1)

    def covers(self, low_ms: int, high_ms: int) -> bool:
        return self.low <= low_ms and high_ms <= self.high

    def run_of(self, at_ms: Any) -> Any:
        """The index of the run holding each instant (within the range)."""
        runs = self._minute[(at_ms - self.low) // MINUTE_MS]
        mixed = runs < 0
        if mixed.any():
            runs[mixed] = np.searchsorted(self.ends, at_ms[mixed], side="right")
        return runs

    def band_at(self, at_ms: Any) -> Any:
        return self.codes[self.run_of(at_ms)]

    def parts(self, start_ms: Any, duration_ms: Any) -> Parts:
        """Each event cut where the band changes; an empty event is one empty part."""
        first = self.run_of(start_ms)
        last = np.where(duration_ms > 0, self.run_of(start_ms + duration_ms - 1), first)
        counts = last - first + 1
        owner = np.repeat(np.arange(len(start_ms)), counts)
        begins = np.cumsum(counts) - counts
        run = first[owner] + (np.arange(len(owner)) - begins[owner])
        run_start = np.where(run > 0, self.ends[np.maximum(run - 1, 0)], np.iinfo(np.int64).min)
        low = np.maximum(start_ms[owner], run_start)
        high = np.minimum(start_ms[owner] + duration_ms[owner], self.ends[run])
        return Parts(owner, self.codes[run], high - low, counts)


class Parts:
    """Band parts of a set of events: `owner` (the event's position), band code, length."""

    __slots__ = ("band", "counts", "length", "owner")

    def __init__(self, owner: Any, band: Any, length: Any, counts: Any) -> None:
        self.owner = owner
        self.band = band
        self.length = length
        self.counts = counts  # parts per event
