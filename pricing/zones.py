"""Destination zones by longest prefix, over tables of a million rows built in about a second.

The table is one dict from prefix to zone plus the distinct prefix lengths, longest first:
building is a single O(n) pass (no sorting of rows, no trie of objects), and a lookup tries at
most one dict probe per distinct length (at most `MAX_PREFIX_DIGITS`). CGRateS users waited
20-60 minutes for 57k-170k prefixes; this is the fix, by construction.

Destinations are normalized before matching (`normalize_destination`):

- spaces, tabs, dashes, dots and parentheses are dropped ("0755-1234 5678" -> "075512345678");
- a leading `+` means "international" and becomes `00`, so "+44 20 794" and "0044 20 794"
  are the same destination "004420794": international zones are written with `00` in the
  table ("0044": intl_uk), national ones with the trunk `0` ("0755": local), as the operator
  dials them;
- with `country_code` given (e.g. "86"), an international number to the home country becomes
  national: "+86 755 1234" -> "0755 1234", so it is not rated as an international call;
- anything else that is not an ASCII digit (letters, `*`, `#`, a `+` inside) is refused.

Table prefixes must be ASCII digits already (no `+`): rows are data, not dialled strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

__all__ = ["MAX_PREFIX_DIGITS", "ZoneTable", "normalize_destination"]

#: Longest prefix (and destination) accepted: E.164 numbers have 15 digits; room for `00`,
#: trunk and carrier-select prefixes.
MAX_PREFIX_DIGITS = 32

_SEPARATORS = str.maketrans("", "", " \t-.()")


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def normalize_destination(raw: str, *, country_code: str | None = None) -> str:
    """The digits a destination is matched on (rules in the module docstring)."""
    text = raw.strip().translate(_SEPARATORS)
    if text.startswith("+") and len(text) > 1:
        text = "00" + text[1:]
    if not _is_digits(text):
        raise ValueError(f"destination {raw!r} is not a phone number")
    if len(text) > MAX_PREFIX_DIGITS:
        raise ValueError(f"destination {raw!r} has more than {MAX_PREFIX_DIGITS} digits")
    if country_code is not None:
        if not _is_digits(country_code):
            raise ValueError(f"country code {country_code!r} must be digits")
        home = "00" + country_code
        if text.startswith(home) and len(text) > len(home):
            text = "0" + text[len(home) :]
    return text


class ZoneTable:
    """Longest-prefix zone lookup, immutable once built."""

    __slots__ = ("_country_code", "_lengths", "_zones")

    def __init__(self, rows: Iterable[tuple[str, str]], *, country_code: str | None = None):
        """Build from (prefix, zone) rows in one pass. A prefix listed twice with the same zone
        is kept once; with two different zones it is refused (which one would win?)."""
        pairs = list(rows)
        zones = dict(pairs)  # C-level build; duplicates are checked only if there are any
        if len(zones) != len(pairs):
            for prefix, zone in pairs:  # bounded by the rows
                if zones[prefix] != zone:
                    raise ValueError(f"prefix {prefix!r} is in zone {zones[prefix]!r} and {zone!r}")
        lengths = set(map(len, zones))
        keys = "".join(zones)  # one C-level scan validates every prefix at once
        if 0 in lengths or not ((keys.isascii() and keys.isdigit()) or not keys):
            bad = [p for p in zones if not _is_digits(p)]
            raise ValueError(f"prefixes must be non-empty ASCII digits: {bad[:5]!r}")
        if max(lengths, default=0) > MAX_PREFIX_DIGITS:
            raise ValueError(f"prefixes are limited to {MAX_PREFIX_DIGITS} digits")
        if not all(isinstance(z, str) and z for z in set(zones.values())):
            raise ValueError("every zone must be a non-empty name")
        if country_code is not None and not _is_digits(country_code):
            raise ValueError(f"country code {country_code!r} must be digits")
        self._zones = zones
        self._lengths = tuple(sorted(lengths, reverse=True))
        self._country_code = country_code

    @property
    def country_code(self) -> str | None:
        """The home country code international numbers to it are rewritten with, if any."""
        return self._country_code

    def __len__(self) -> int:
        return len(self._zones)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._zones.items())

    def lookup(self, destination: str) -> str | None:
        """The zone of a dialled destination (normalized first), or None when no prefix
        matches; ValueError when it is not a phone number at all."""
        return self.match(normalize_destination(destination, country_code=self._country_code))

    def match(self, digits: str) -> str | None:
        """The zone of the longest prefix of already normalized `digits` (the hot path of
        the rating engines, which normalize once per record)."""
        zones = self._zones
        size = len(digits)
        for length in self._lengths:  # bounded: at most MAX_PREFIX_DIGITS distinct lengths
            if length <= size:
                zone = zones.get(digits[:length])
                if zone is not None:
                    return zone
        return None

    def matched_prefix(self, digits: str) -> str | None:
        """The prefix `match` used, for traces ("why this zone?")."""
        for length in self._lengths:  # bounded as in `match`
            if length <= len(digits) and digits[:length] in self._zones:
                return digits[:length]
        return None
