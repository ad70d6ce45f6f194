"""Published snapshots: indexes agree with the plain filters, swaps are atomic, loads are lazy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.errors import NotFound
from catalog.model import Audience, LifecycleStatus
from catalog.queries import CatalogFilter, matches
from catalog.snapshot import InForce, Snapshot, SnapshotRegistry
from catalog.versions import AsOf, VersionNumber
from tests.support.builders import content, entry, product, version_info
from tests.support.catalogs import sample_content

JAN = datetime(2026, 1, 1, tzinfo=UTC)
JUN = datetime(2026, 6, 1, tzinfo=UTC)


def test_indexes_agree_with_the_reference_filters() -> None:
    catalog = sample_content()
    snap = Snapshot(version_info(1, catalog), catalog)
    tree = catalog.area_tree()
    for area in catalog.areas:
        for channel in catalog.channels:
            for segment in catalog.segments:
                flt = CatalogFilter(area_code=area, channel_code=channel, segment_code=segment)
                expected = {
                    code
                    for code, offer in snap.offers.items()
                    if matches(offer, LifecycleStatus.LAUNCHED, flt, tree)
                }
                found = snap.sold_in(area) & snap.sold_through(channel) & snap.aimed_at([segment])
                assert found == expected, (area, channel, segment)


def test_an_offer_listed_for_a_province_is_sold_in_its_cities() -> None:
    catalog = sample_content()
    snap = Snapshot(version_info(1, catalog), catalog)
    provincial = {c for c, o in snap.offers.items() if o.owner_area_code == "QH"}
    assert provincial
    assert provincial <= snap.sold_in("QH_XN")
    assert not provincial & snap.sold_in("GD_SZ")


def test_registry_resolves_as_of_and_loads_lazily() -> None:
    v1 = content([entry(product("p1", name="one"))])
    v2 = content([entry(product("p1", name="two"))])
    store = {1: v1, 2: v2}
    loads: list[int] = []

    def loader(number: int):  # type: ignore[no-untyped-def]
        loads.append(number)
        return store[number]

    registry = SnapshotRegistry(loader, Snapshot)
    infos = [version_info(1, v1, effective_from=JAN), version_info(2, v2, effective_from=JUN)]
    registry.sync(infos, now=datetime(2026, 3, 1, tzinfo=UTC))
    assert sorted(loads) == [1, 2]  # the one in force and the latest, up front
    assert registry.get(AsOf(datetime(2026, 3, 1, tzinfo=UTC))).offers["p1"].name == "one"
    assert registry.get(AsOf(JUN)).offers["p1"].name == "two"
    assert registry.get(VersionNumber(1)).number == 1
    assert len(loads) == 2


def test_install_swaps_in_a_new_version_without_touching_the_old() -> None:
    v1 = content([entry(product("p1", audience=Audience(segment_codes=("vip",))))])
    registry = SnapshotRegistry(lambda n: v1, Snapshot)
    registry.sync([version_info(1, v1, effective_from=JAN)], now=JUN)
    before = registry.get(AsOf(JUN))
    v2 = content([entry(product("p1")), entry(product("p2"))])
    registry.install(version_info(2, v2, effective_from=JUN), v2)
    assert set(before.offers) == {"p1"}  # a request holding v1 keeps seeing v1
    assert set(registry.get(AsOf(JUN)).offers) == {"p1", "p2"}


def _two_versions() -> tuple[SnapshotRegistry[Snapshot], list[int]]:
    v1 = content([entry(product("p1", name="one"))])
    v2 = content([entry(product("p1", name="two"))])
    loads: list[int] = []

    def loader(number: int):  # type: ignore[no-untyped-def]
        loads.append(number)
        return {1: v1, 2: v2}[number]

    registry = SnapshotRegistry(loader, Snapshot)
    infos = [version_info(1, v1, effective_from=JAN), version_info(2, v2, effective_from=JUN)]
    registry.sync(infos, now=JAN)
    return registry, loads


def test_in_force_answers_as_the_registry_and_names_its_edges() -> None:
    registry, _ = _two_versions()
    in_force = InForce(registry)
    assert in_force.edges == (JAN, JUN)
    second = timedelta(seconds=1)
    for instant in (JAN, JUN - second, JUN, JUN + second, datetime(2030, 1, 1, tzinfo=UTC)):
        assert in_force(instant) is registry.get(AsOf(instant)), instant
    assert in_force(JUN - second).offers["p1"].name == "one"  # back into an earlier stretch
    with pytest.raises(NotFound, match="no catalog version is in force at 2025"):
        in_force(JAN - second)


def test_in_force_reads_the_timeline_once() -> None:
    registry, _ = _two_versions()
    in_force = InForce(registry)
    later = datetime(2026, 9, 1, tzinfo=UTC)
    v3 = content([entry(product("p1", name="three"))])
    registry.install(version_info(3, v3, effective_from=later), v3)
    assert in_force(later).offers["p1"].name == "two"  # a run is not split by a publish
    assert InForce(registry)(later).offers["p1"].name == "three"
    assert in_force.edges == (JAN, JUN)
