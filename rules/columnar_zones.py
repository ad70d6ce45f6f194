"""Longest-prefix zones for a whole column of destinations at once (the columnar rater).

A per-row dict probe per prefix length costs a Python call per row; a sorted search per
length costs a cache miss per step. Instead the table is laid out once as a dense array over
the first `stem` digits of a number (10**stem entries, at most 10**7): entry `s` holds the zone
of the longest prefix of at most `stem` digits that `s` starts with. A destination of at
least `stem` digits is then one gather; the few stems that have longer prefixes below them
are flagged, and only their rows search the longer prefixes (sorted per length). Rows that
are not plain digits, shorter than the stem, or that the table's home country code rewrites
are matched one by one with `ZoneTable.lookup`, so every row gets exactly what the per-event
engines give it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from pricing.zones import ZoneTable

__all__ = ["MALFORMED", "NO_ZONE", "ZoneIndex"]

NO_ZONE = -1
MALFORMED = -2  # not a phone number: the row is rejected `malformed` (by the per-event path)
MAX_STEM = 7  # 10**7 entries: 20-40 MB, built in well under a second


class ZoneIndex:
    """A ZoneTable laid out for column lookups; `names[code]` is a zone's name."""

    def __init__(self, table: ZoneTable) -> None:
        self.table = table
        rows = sorted(table, key=lambda row: len(row[0]))  # shorter first: longer overwrite
        self.names: list[str] = sorted({zone for _, zone in rows})
        code = {name: index for index, name in enumerate(self.names)}
        longest = max((len(p) for p, _ in rows), default=0)
        self.stem = min(longest, MAX_STEM)
        dtype = np.int16 if len(self.names) < 2**15 else np.int32
        self._dense = np.full(10**self.stem, NO_ZONE, dtype=dtype)
        self._deeper = np.zeros(10**self.stem, dtype=np.bool_)
        self._long: dict[int, tuple[Any, Any]] = {}  # length -> (sorted keys, codes)
        long_rows: dict[int, list[tuple[int, int]]] = {}
        for prefix, zone in rows:  # bounded by the table
            length = len(prefix)
            if length <= self.stem:
                low = int(prefix) * 10 ** (self.stem - length)
                self._dense[low : low + 10 ** (self.stem - length)] = code[zone]
            elif length <= 18:  # a longer prefix cannot match the plain rows (at most 18 digits)
                self._deeper[int(prefix[: self.stem])] = True
                long_rows.setdefault(length, []).append((int(prefix), code[zone]))
        for length, pairs in long_rows.items():
            pairs.sort()
            keys = np.array([k for k, _ in pairs], dtype=np.int64)
            self._long[length] = (keys, np.array([c for _, c in pairs], dtype=np.int32))
        self._lengths = sorted(self._long, reverse=True)
        self._home = None if table.country_code is None else "00" + table.country_code

    def lookup(self, destinations: Any) -> Any:
        """The zone code of every destination (a pyarrow string array): NO_ZONE when no
        prefix matches, MALFORMED when it is not a phone number."""
        count = len(destinations)
        found = np.full(count, NO_ZONE, dtype=np.int32)
        if count == 0:
            return found
        if self.stem == 0:  # an empty table matches nothing; still refuse what is not a number
            self._one_by_one(destinations, np.arange(count), found)
            return found
        strings = destinations.cast(pa.string()).fill_null("")
        lengths = pc.binary_length(strings).to_numpy(zero_copy_only=False).astype(np.int64)
        plain = pc.ascii_is_decimal(strings).to_numpy(zero_copy_only=False).copy()
        plain &= (lengths >= self.stem) & (lengths <= 18)
        if self._home is not None:
            plain &= ~pc.starts_with(strings, self._home).to_numpy(zero_copy_only=False)
        rows = np.flatnonzero(plain)
        if len(rows):
            base = strings.offset
            buffer = np.frombuffer(strings.buffers()[1], dtype=np.int32)
            offsets = buffer[base : base + count].astype(np.int64)[rows]
            data = np.frombuffer(strings.buffers()[2], dtype=np.uint8)
            stems = np.zeros(len(rows), dtype=np.int64)
            for place in range(self.stem):  # bounded: MAX_STEM
                stems = stems * 10 + (data[offsets + place].astype(np.int64) - 48)
            found[rows] = self._dense[stems]
            deeper = self._deeper[stems]
            if deeper.any():
                self._deeper_rows(rows[deeper], offsets[deeper], lengths[rows[deeper]], data, found)
        self._one_by_one(destinations, np.flatnonzero(~plain), found)
        return found

    def _deeper_rows(self, rows: Any, offsets: Any, lengths: Any, data: Any, found: Any) -> None:
        """Rows whose stem has longer prefixes below it: try those lengths, longest first."""
        settled = np.zeros(len(rows), dtype=np.bool_)
        for length in self._lengths:  # bounded: at most MAX_PREFIX_DIGITS lengths
            keys, codes = self._long[length]
            room = ~settled & (lengths >= length)
            if not room.any():
                continue
            at = np.flatnonzero(room)
            values = np.zeros(len(at), dtype=np.int64)
            for place in range(length):  # bounded: at most 18 digits
                values = values * 10 + (data[offsets[at] + place].astype(np.int64) - 48)
            where = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
            hit = keys[where] == values
            found[rows[at[hit]]] = codes[where[hit]]
            settled[at[hit]] = True

    def _one_by_one(self, destinations: Any, rows: Any, found: Any) -> None:
        code = {name: index for index, name in enumerate(self.names)}
        for row in rows.tolist():  # the irregular rows only
            text = destinations[row].as_py() or ""
            try:
                zone = self.table.lookup(text)
            except ValueError:
                found[row] = MALFORMED
                continue
            found[row] = NO_ZONE if zone is None else code[zone]
