"""Hypothesis strategies for whole catalogs: any content the model can hold, not only valid
catalogs, because bundles and diffs must be exact for every canonical content.

Generated contents keep the invariants a bundle relies on: product and combo codes distinct,
rule source paths unique across the catalog, zone prefixes digits and unique, zones non-empty
printable text.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from string import ascii_lowercase, ascii_uppercase, digits
from typing import Any

from hypothesis import strategies as st

from catalog.content import CatalogContent
from catalog.model import (
    Area,
    AreaLevel,
    AreaTariffOverride,
    Audience,
    Business,
    BusinessKind,
    Channel,
    ChannelKind,
    ChoiceGroup,
    Combo,
    ComboMember,
    CustomerType,
    Definition,
    EntityKind,
    LifecycleStatus,
    Product,
    ProductKind,
    RuleSource,
    Segment,
    TimePeriod,
    UsageMeasure,
    VersionedEntity,
    ZoneTable,
)


def _word(first: str, rest: str, max_size: int) -> st.SearchStrategy[str]:
    """Faster than `st.from_regex` for the simple shapes codes have."""
    return st.builds(
        str.__add__, st.sampled_from(first), st.text(alphabet=rest, max_size=max_size - 1)
    )


codes = _word(ascii_lowercase, ascii_lowercase + digits + "_", 6)
area_codes = _word(ascii_uppercase, ascii_uppercase + digits + "_", 4)
texts = st.text(max_size=8)
small_ints = st.integers(min_value=-1, max_value=5)
source_paths = st.lists(_word("abc亲", "abc_情" + digits, 3), min_size=1, max_size=3).map(
    lambda parts: "/".join(parts) + ".tariff"
)
source_texts = st.text(max_size=40)
zones = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")) | st.just(" "),
    min_size=1,
    max_size=6,
).filter(str.isprintable)


def _tuples(elements: st.SearchStrategy[Any], max_size: int = 3) -> st.SearchStrategy[Any]:
    return st.lists(elements, max_size=max_size).map(tuple)


_offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=_offsets
)
periods = st.builds(TimePeriod, start=st.none() | instants, end=st.none() | instants) | st.just(
    TimePeriod()
)
audiences = st.builds(
    Audience,
    customer_types=_tuples(st.sampled_from(CustomerType)),
    segment_codes=_tuples(codes),
)
overrides = _tuples(st.builds(AreaTariffOverride, area_code=area_codes, tariff_plan=texts))

BUSINESS_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": texts,
    "kind": st.sampled_from(BusinessKind),
    "usage_measure": st.sampled_from(UsageMeasure),
    "unit": texts,
    "description": texts,
}
_OFFER_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": texts,
    "owner_area_code": area_codes,
    "category": texts,
    "description": texts,
    "audience": audiences,
    "area_codes": _tuples(area_codes),
    "tariff_plan": texts,
    "tariff_overrides": overrides,
    "channel_codes": _tuples(codes),
    "service_level": texts,
    "valid_for": periods,
    "requires_codes": _tuples(codes),
    "excludes_codes": _tuples(codes),
}
PRODUCT_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    **_OFFER_FIELDS,
    "kind": st.sampled_from(ProductKind),
    "business_codes": _tuples(codes),
    "base_product_codes": _tuples(codes),
    "resources": _tuples(texts),
}
COMBO_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    **_OFFER_FIELDS,
    "members": _tuples(
        st.builds(
            ComboMember,
            offer_code=codes,
            min_count=small_ints,
            max_count=small_ints,
            default_count=small_ints,
        )
    ),
    "choice_groups": _tuples(
        st.builds(
            ChoiceGroup,
            name=codes,
            offer_codes=_tuples(codes),
            min_count=small_ints,
            max_count=small_ints,
        ),
        max_size=2,
    ),
}
FIELDS: dict[EntityKind, dict[str, st.SearchStrategy[Any]]] = {
    EntityKind.BUSINESS: BUSINESS_FIELDS,
    EntityKind.PRODUCT: PRODUCT_FIELDS,
    EntityKind.COMBO: COMBO_FIELDS,
}
_TYPES: dict[EntityKind, type[Business] | type[Product] | type[Combo]] = {
    EntityKind.BUSINESS: Business,
    EntityKind.PRODUCT: Product,
    EntityKind.COMBO: Combo,
}

areas = st.builds(
    Area, code=area_codes, name=texts, level=st.sampled_from(AreaLevel), parent_code=area_codes
)
channels = st.builds(Channel, code=codes, name=texts, kind=st.sampled_from(ChannelKind))
segments = st.builds(
    Segment, code=codes, name=texts, customer_type=st.none() | st.sampled_from(CustomerType)
)
zone_tables = st.builds(
    ZoneTable,
    name=codes,
    prefixes=st.dictionaries(st.from_regex(r"[0-9]{1,4}", fullmatch=True), zones, max_size=6).map(
        lambda rows: tuple(rows.items())
    ),
    description=texts,
)
statuses = st.sampled_from(LifecycleStatus)
versions = st.integers(min_value=0, max_value=10**6)


def definitions(kind: EntityKind, code: str) -> st.SearchStrategy[Definition]:
    return st.builds(_TYPES[kind], code=st.just(code), **FIELDS[kind])


@st.composite
def contents(draw: st.DrawFn, max_entities: int = 6) -> CatalogContent:
    """A canonical content (built with `CatalogContent.build`)."""
    business_codes = draw(st.lists(codes, max_size=max_entities // 2, unique=True))
    offer_codes = draw(st.lists(codes, max_size=max_entities, unique=True))
    keys = [(EntityKind.BUSINESS, c) for c in business_codes] + [
        (draw(st.sampled_from((EntityKind.PRODUCT, EntityKind.COMBO))), c) for c in offer_codes
    ]
    defs = [draw(definitions(kind, code)) for kind, code in keys]
    paths = draw(st.lists(source_paths, max_size=5, unique=True))
    catalog_sources: list[RuleSource] = []
    attached: dict[int, list[RuleSource]] = {}
    for path in paths:
        source = RuleSource(path, draw(source_texts))
        owner = draw(st.integers(min_value=-1, max_value=len(defs) - 1))
        if owner < 0:
            catalog_sources.append(source)
        else:
            attached.setdefault(owner, []).append(source)
    for i, sources in attached.items():
        defs[i] = dataclasses.replace(defs[i], rule_sources=tuple(sources))
    return CatalogContent.build(
        areas={a.code: a for a in draw(st.lists(areas, max_size=3))},
        channels={c.code: c for c in draw(st.lists(channels, max_size=3))},
        segments={s.code: s for s in draw(st.lists(segments, max_size=3))},
        zone_tables={t.name: t for t in draw(st.lists(zone_tables, max_size=2))},
        rule_sources=tuple(catalog_sources),
        entities={
            (d.entity_kind, d.code): VersionedEntity(d, draw(statuses), draw(versions))
            for d in defs
        },
    )


EDITS = ("field", "state", "remove", "reorder", "area", "zones", "source")


@st.composite
def variants(draw: st.DrawFn, content: CatalogContent) -> CatalogContent:
    """`content` with a few random edits, each of which may happen to change nothing."""
    areas_ = dict(content.areas)
    tables = dict(content.zone_tables)
    entities = dict(content.entities)
    sources = list(content.rule_sources)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        edit = draw(st.sampled_from(EDITS))
        if edit in ("field", "state", "remove", "reorder") and entities:
            key = draw(st.sampled_from(sorted(entities, key=lambda k: (k[0].value, k[1]))))
            entity = entities[key]
            if edit == "remove":
                del entities[key]
            elif edit == "reorder":
                definition = dataclasses.replace(
                    entity.definition, rule_sources=entity.definition.rule_sources[::-1]
                )
                entities[key] = VersionedEntity(definition, entity.status, entity.version)
            elif edit == "state":
                entities[key] = VersionedEntity(
                    entity.definition, draw(statuses), draw(st.just(entity.version) | versions)
                )
            else:
                name = draw(st.sampled_from(sorted(FIELDS[key[0]])))
                value = draw(FIELDS[key[0]][name])
                definition = dataclasses.replace(entity.definition, **{name: value})
                entities[key] = VersionedEntity(definition, entity.status, entity.version)
        elif edit == "area":
            area = draw(areas)
            areas_[area.code] = area
        elif edit == "zones" and tables:
            name = draw(st.sampled_from(sorted(tables)))
            table = tables[name]
            reverse: bool = draw(st.booleans())
            rows = table.prefixes[::-1] if reverse else draw(zone_tables).prefixes
            tables[name] = ZoneTable(name, rows, table.description)
        elif edit == "source" and sources:
            i = draw(st.integers(min_value=0, max_value=len(sources) - 1))
            sources[i] = RuleSource(sources[i].path, draw(st.just(sources[i].text) | source_texts))
    return CatalogContent.build(
        areas=areas_,
        channels=content.channels,
        segments=content.segments,
        zone_tables=tables,
        rule_sources=tuple(sources),
        entities=entities,
    )
