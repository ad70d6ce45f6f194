"""The published catalog as the hot path reads it: immutable, pre-indexed, shared by requests.

A `Snapshot` is built once per published version. A `SnapshotRegistry` holds the timeline and
the snapshots in one immutable state object and swaps it with a single assignment, so a request
in flight keeps the state it started with while a publish installs the next one.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Generic, TypeVar

from catalog.areas import AreaTree
from catalog.content import CatalogContent
from catalog.errors import NoVersionInForce
from catalog.model import (
    Business,
    CatalogVersionInfo,
    Combo,
    EntityKind,
    LifecycleStatus,
    Product,
)
from catalog.versions import AsOf, Timeline, VersionNumber

Offer = Product | Combo


def _index(pairs: Iterable[tuple[str, str]]) -> Mapping[str, frozenset[str]]:
    grouped: dict[str, set[str]] = defaultdict(set)
    for key, code in pairs:
        grouped[key].add(code)
    return MappingProxyType({k: frozenset(v) for k, v in grouped.items()})


class Snapshot:
    """One published version, indexed for lookups by code, area, channel and segment."""

    __slots__ = (
        "_by_area",
        "_by_channel",
        "_by_segment",
        "_open_channel",
        "_open_segment",
        "businesses",
        "content",
        "info",
        "offers",
        "status",
        "tree",
    )

    def __init__(self, info: CatalogVersionInfo, content: CatalogContent) -> None:
        self.info = info
        self.content = content
        self.tree: AreaTree = content.area_tree()
        self.businesses: Mapping[str, Business] = MappingProxyType(
            {b.code: b for b in content.businesses()}
        )
        offers: dict[str, Offer] = {}
        status: dict[str, LifecycleStatus] = {}
        for (kind, code), entity in content.entities.items():
            if kind is not EntityKind.BUSINESS:
                definition = entity.definition
                assert isinstance(definition, Product | Combo)
                offers[code] = definition
                status[code] = entity.status
        self.offers: Mapping[str, Offer] = MappingProxyType(offers)
        self.status: Mapping[str, LifecycleStatus] = MappingProxyType(status)
        self._by_area = _index(
            (area, o.code)
            for o in offers.values()
            for area in (o.area_codes or (o.owner_area_code,))
        )
        self._by_channel = _index((ch, o.code) for o in offers.values() for ch in o.channel_codes)
        self._open_channel = frozenset(o.code for o in offers.values() if not o.channel_codes)
        self._by_segment = _index(
            (seg, o.code) for o in offers.values() for seg in o.audience.segment_codes
        )
        self._open_segment = frozenset(
            o.code for o in offers.values() if not o.audience.segment_codes
        )

    @property
    def number(self) -> int:
        return self.info.number

    def sold_in(self, area_code: str) -> frozenset[str]:
        """Offers listed for the area or any area above it (a province's offers reach its
        cities; the nation's reach everywhere)."""
        found: frozenset[str] = frozenset()
        for area in self.tree.lineage(area_code):
            found |= self._by_area.get(area, frozenset())
        return found

    def sold_through(self, channel_code: str) -> frozenset[str]:
        return self._by_channel.get(channel_code, frozenset()) | self._open_channel

    def aimed_at(self, segment_codes: Iterable[str]) -> frozenset[str]:
        found = self._open_segment
        for segment in segment_codes:
            found |= self._by_segment.get(segment, frozenset())
        return found


S = TypeVar("S", bound=Snapshot)


@dataclass(frozen=True, slots=True)
class _State(Generic[S]):
    timeline: Timeline
    snapshots: Mapping[int, S]


class SnapshotRegistry(Generic[S]):
    """Published snapshots for the request path; never touches the database itself.

    `loader` fetches a version's content when a snapshot is first needed (at start-up or
    refresh, not per request); `install` adds a freshly published one. `build` makes the
    snapshot (a subclass may add what its readers pre-compute, e.g. compiled rules).
    """

    def __init__(
        self,
        loader: Callable[[int], CatalogContent],
        build: Callable[[CatalogVersionInfo, CatalogContent], S],
        keep: int = 8,
    ) -> None:
        self._loader = loader
        self._build = build
        self._keep = keep
        self._state: _State[S] = _State(Timeline([]), MappingProxyType({}))

    @property
    def timeline(self) -> Timeline:
        return self._state.timeline

    def sync(self, versions: Iterable[CatalogVersionInfo], now: datetime) -> None:
        """Adopt the store's list of versions; preload the one in force and the latest."""
        timeline = Timeline(list(versions))
        wanted = {v.number for v in (timeline.in_force(now), timeline.latest()) if v is not None}
        snapshots = dict(self._state.snapshots)
        for number in wanted - snapshots.keys():
            info = timeline.get(number)
            assert info is not None
            snapshots[number] = self._build(info, self._loader(number))
        self._swap(timeline, snapshots, wanted)

    def install(self, info: CatalogVersionInfo, content: CatalogContent) -> S:
        """Make a just-published version visible to new requests, atomically."""
        snapshot = self._build(info, content)
        timeline = Timeline([*self._state.timeline.versions, info])
        snapshots = {**self._state.snapshots, info.number: snapshot}
        self._swap(timeline, snapshots, {info.number})
        return snapshot

    def installed(self) -> tuple[int, ...]:
        """The numbers of the versions held in memory now."""
        return tuple(self._state.snapshots)

    def get(self, selector: AsOf | VersionNumber) -> S:
        """The snapshot a selector names (NotFound if none); loads an old version on demand."""
        state = self._state
        info = state.timeline.resolve(selector)
        found = state.snapshots.get(info.number)
        if found is None:
            found = self._build(info, self._loader(info.number))
            self._swap(state.timeline, {**state.snapshots, info.number: found}, {info.number})
        return found

    def _swap(self, timeline: Timeline, snapshots: dict[int, S], pinned: set[int]) -> None:
        if len(snapshots) > self._keep:
            newest = sorted(snapshots, reverse=True)[: self._keep]
            snapshots = {n: snapshots[n] for n in snapshots if n in newest or n in pinned}
        self._state = _State(timeline, MappingProxyType(snapshots))


class InForce(Generic[S]):
    """The snapshot in force at an instant, for a run of many instants (a rating batch, a
    file, a Dask partition): the timeline is read once, when made, so a publish during the
    run does not split it, and the last answer's stretch is kept, so instants of one stretch
    cost two comparisons. `edges` are the instants at which the answer changes. Safe to
    share between threads (the stretch is replaced in one assignment)."""

    __slots__ = ("_last", "_registry", "_timeline", "edges")

    def __init__(self, registry: SnapshotRegistry[S]) -> None:
        self._registry = registry
        self._timeline = registry.timeline
        self.edges: tuple[datetime, ...] = self._timeline.edges
        self._last: tuple[datetime, datetime, S] | None = None

    def __call__(self, instant: datetime) -> S:
        """Raises NoVersionInForce (a NotFound) when no version is in force at `instant`."""
        last = self._last
        if last is not None and last[0] <= instant < last[1]:
            return last[2]
        found = self._timeline.stretch(instant)
        if found is None:
            raise NoVersionInForce(f"no catalog version is in force at {instant.isoformat()}")
        info, low, high = found
        snapshot = self._registry.get(VersionNumber(info.number))
        self._last = (low, high, snapshot)
        return snapshot


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def registry_of(snapshot: S) -> SnapshotRegistry[S]:
    """A registry holding one snapshot, in force since 1970, that every selector reads: a
    bundle answered in process, a simulated draft."""
    registry: SnapshotRegistry[S] = SnapshotRegistry(
        lambda _n: snapshot.content, lambda _i, _c: snapshot
    )
    info = dataclasses.replace(snapshot.info, number=max(snapshot.number, 1), effective_from=_EPOCH)
    registry.install(info, snapshot.content)
    return registry
