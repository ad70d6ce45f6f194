"""The sales-area tree: containment answers "is a product sold in province GD sold in Shenzhen?"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from catalog.model import Area, AreaLevel

_MAX_DEPTH = 16  # nation -> province -> city is 3; the bound only guards against bad data


class AreaTree:
    """Immutable index over areas: ancestors of every area, computed once."""

    __slots__ = ("_ancestors", "areas")

    def __init__(self, areas: Iterable[Area]) -> None:
        self.areas: Mapping[str, Area] = MappingProxyType({a.code: a for a in areas})
        chains: dict[str, tuple[str, ...]] = {}
        for code in self.areas:
            chain = [code]
            parent = self.areas[code].parent_code
            while parent and parent in self.areas and len(chain) < _MAX_DEPTH:
                if parent in chain:
                    break
                chain.append(parent)
                parent = self.areas[parent].parent_code
            chains[code] = tuple(chain)
        self._ancestors = chains

    def __contains__(self, code: object) -> bool:
        return code in self.areas

    def lineage(self, code: str) -> tuple[str, ...]:
        """The area itself, then its parent, up to the nation; empty for an unknown code."""
        return self._ancestors.get(code, ())

    def contains(self, outer: str, inner: str) -> bool:
        """True when `inner` is `outer` or lies below it."""
        return outer in self._ancestors.get(inner, ())

    def nation(self) -> str | None:
        for area in self.areas.values():
            if area.level is AreaLevel.NATION:
                return area.code
        return None

    def province_of(self, code: str) -> str | None:
        for ancestor in self.lineage(code):
            if self.areas[ancestor].level is AreaLevel.PROVINCE:
                return ancestor
        return None

    def cycle_members(self) -> list[str]:
        """Areas whose parent chain loops back on itself (invalid data)."""
        looping = []
        for code in self.areas:
            seen = {code}
            parent = self.areas[code].parent_code
            while parent and parent in self.areas:
                if parent in seen:
                    looping.append(code)
                    break
                seen.add(parent)
                parent = self.areas[parent].parent_code
        return looping
