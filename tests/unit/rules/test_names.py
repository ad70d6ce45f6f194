"""Rules may name exactly what the catalog holds, minus what is obsolete."""

from __future__ import annotations

from dataclasses import replace

from catalog.content import CatalogContent
from catalog.model import EntityKind, LifecycleStatus
from rules.names import names_from_content
from tests.support.catalogs import sample_content


def test_names_cover_the_catalog() -> None:
    content = sample_content()
    names = names_from_content(content)
    assert set(names.areas) == set(content.areas)
    assert names.lineage("GD_SZ") == ("GD_SZ", "GD", "CN")
    assert names.channels == frozenset(content.channels)
    assert names.segments == frozenset(content.segments)
    assert names.offers["caller_id_addon"].kind == "add_on"
    assert names.offers["family_bundle"].kind == "combo"
    assert names.offers["family_bundle"].members
    assert names.businesses["mobile_data"] == "volume"
    assert names.businesses["sms"] == "count"
    zones = {zone for _, zone in content.zone_tables["cn_zones"].prefixes}
    assert names.zone_tables["cn_zones"] == zones
    assert "youth_39" in names.plans


def test_obsolete_entities_cannot_be_named() -> None:
    content = sample_content()
    key = (EntityKind.PRODUCT, "youth_plan")
    entities = dict(content.entities)
    entities[key] = replace(entities[key], status=LifecycleStatus.OBSOLETE)
    names = names_from_content(CatalogContent.build(areas=content.areas, entities=entities))
    assert "youth_plan" not in names.offers
