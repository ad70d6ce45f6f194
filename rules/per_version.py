"""What a module derives from a catalog version and keeps for it - the edge's protobuf parts
of answers and rule refs, the usage engines' per-combination decisions and vector blocks -
each in a typed table of the module that uses it, not in the version (issue 16: `SaleCatalog`
holds no untyped memo for its callers).

`PerVersion(make)` gives one value per `SaleCatalog`, made by `make(catalog)` when first asked
and dropped when the version is (a weak reference: nothing outlives the catalog it was built
from).
"""

from __future__ import annotations

from collections.abc import Callable
from threading import Lock
from typing import TYPE_CHECKING, Generic, TypeVar
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from rules.sale_catalog import SaleCatalog

T = TypeVar("T")

__all__ = ["PerVersion"]


class PerVersion(Generic[T]):
    """One `T` per catalog version (see the module docstring). Thread-safe: two first asks
    at once make it once."""

    __slots__ = ("_lock", "_made", "_make")

    def __init__(self, make: Callable[[SaleCatalog], T]) -> None:
        self._make = make
        self._made: WeakKeyDictionary[SaleCatalog, T] = WeakKeyDictionary()
        self._lock = Lock()

    def __call__(self, catalog: SaleCatalog) -> T:
        found = self._made.get(catalog)
        if found is None:
            with self._lock:
                found = self._made.get(catalog)
                if found is None:
                    found = self._made[catalog] = self._make(catalog)
        return found

    def forget(self, catalog: SaleCatalog) -> None:
        """Drop the version's value (tests start from nothing with it)."""
        with self._lock:
            self._made.pop(catalog, None)
