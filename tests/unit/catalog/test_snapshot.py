"""Published snapshots: indexes agree with the plain filters, swaps are atomic, loads are lazy."""

from __future__ import annotations

from datetime import UTC, datetime

from catalog.model import Audience, LifecycleStatus
from catalog.queries import CatalogFilter, matches
from catalog.snapshot import Snapshot, SnapshotRegistry
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
