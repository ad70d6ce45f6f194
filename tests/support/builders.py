"""Small catalog values for tests, with defaults that are valid together.

Every builder takes the fields most tests vary as keywords and passes any other field of the
model straight through, so a test states only what it is about:

    voice = business("voice")
    family = product("family", name="亲情1+", business_codes=("voice",), area_codes=("GD",))
    stored = entry(family, status=LifecycleStatus.LAUNCHED, revision=3)

Defaults follow `catalog.validation` (lower_snake codes, UPPER_SNAKE area codes, `.tariff`
source paths) and refer to each other: products use business "voice" and area "CN", combos
contain product "p1".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from catalog.codec import content_hash
from catalog.content import CatalogContent
from catalog.model import (
    Area,
    AreaLevel,
    Business,
    BusinessKind,
    CatalogVersionInfo,
    Channel,
    ChannelKind,
    Combo,
    ComboMember,
    CustomerType,
    Definition,
    EntityState,
    Entry,
    LifecycleStatus,
    Product,
    ProductKind,
    RuleSource,
    Segment,
    UsageMeasure,
    VersionedEntity,
    ZoneTable,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)
"""The instant builders use when none is given."""


def area(
    code: str = "CN",
    name: str = "",
    level: AreaLevel | None = None,
    parent_code: str = "",
) -> Area:
    """A nation without a parent, a province under a given parent unless told otherwise."""
    if level is None:
        level = AreaLevel.PROVINCE if parent_code else AreaLevel.NATION
    return Area(code=code, name=name or f"Area {code}", level=level, parent_code=parent_code)


def areas() -> list[Area]:
    """China, Guangdong and Shenzhen: a nation, a province and a city."""
    return [
        area("CN", "中国"),
        area("GD", "广东", parent_code="CN"),
        area("SZ", "深圳", AreaLevel.CITY, parent_code="GD"),
    ]


def channel(code: str = "hall", name: str = "", kind: ChannelKind = ChannelKind.HALL) -> Channel:
    return Channel(code=code, name=name or f"Channel {code}", kind=kind)


def segment(
    code: str = "mass", name: str = "", customer_type: CustomerType | None = None
) -> Segment:
    return Segment(code=code, name=name or f"Segment {code}", customer_type=customer_type)


def business(
    code: str = "voice",
    *,
    name: str = "",
    kind: BusinessKind = BusinessKind.BASIC,
    usage_measure: UsageMeasure = UsageMeasure.DURATION,
    **fields: Any,
) -> Business:
    return Business(
        code=code,
        name=name or f"Business {code}",
        kind=kind,
        usage_measure=usage_measure,
        **fields,
    )


def product(
    code: str = "p1",
    *,
    name: str = "",
    kind: ProductKind = ProductKind.MAIN,
    business_codes: tuple[str, ...] = ("voice",),
    owner_area_code: str = "CN",
    **fields: Any,
) -> Product:
    return Product(
        code=code,
        name=name or f"Product {code}",
        kind=kind,
        business_codes=business_codes,
        owner_area_code=owner_area_code,
        **fields,
    )


def combo(
    code: str = "c1",
    *,
    name: str = "",
    owner_area_code: str = "CN",
    members: tuple[ComboMember, ...] | None = None,
    **fields: Any,
) -> Combo:
    """A combo of the given members, by default one slot of product "p1"."""
    return Combo(
        code=code,
        name=name or f"Combo {code}",
        owner_area_code=owner_area_code,
        members=(ComboMember("p1"),) if members is None else members,
        **fields,
    )


def zone_table(
    name: str = "domestic",
    prefixes: Iterable[tuple[str, str]] = (("10", "beijing"), ("20", "guangzhou")),
    description: str = "",
) -> ZoneTable:
    """Prefixes are sorted, as the model requires."""
    return ZoneTable(name=name, prefixes=tuple(sorted(prefixes)), description=description)


def rule_source(path: str = "catalog/main.tariff", text: str = "") -> RuleSource:
    return RuleSource(path=path, text=text)


def entry(
    definition: Definition,
    status: LifecycleStatus = LifecycleStatus.IN_DESIGN,
    revision: int = 1,
    *,
    version: int = 0,
    created_at: datetime = T0,
    updated_at: datetime | None = None,
    published: Definition | None = None,
    published_status: LifecycleStatus | None = None,
) -> Entry:
    """A stored entity; `updated_at` defaults to `created_at`."""
    return Entry(
        definition=definition,
        state=EntityState(
            status=status,
            revision=revision,
            version=version,
            created_at=created_at,
            updated_at=created_at if updated_at is None else updated_at,
        ),
        published=published,
        published_status=published_status,
    )


def content(
    entries: Iterable[Entry] = (),
    *,
    areas: Iterable[Area] = (),
    channels: Iterable[Channel] = (),
    segments: Iterable[Segment] = (),
    zone_tables: Iterable[ZoneTable] = (),
    rule_sources: Iterable[RuleSource] = (),
) -> CatalogContent:
    """A catalog holding `entries` as they stand (their status and version)."""
    return CatalogContent.build(
        areas={a.code: a for a in areas},
        channels={c.code: c for c in channels},
        segments={s.code: s for s in segments},
        zone_tables={z.name: z for z in zone_tables},
        rule_sources=tuple(rule_sources),
        entities={
            (e.kind, e.code): VersionedEntity(e.definition, e.state.status, e.state.version)
            for e in entries
        },
    )


def version_info(
    number: int,
    catalog: CatalogContent,
    *,
    effective_from: datetime = T0,
    published_at: datetime | None = None,
    description: str = "",
) -> CatalogVersionInfo:
    """The header of `catalog` published as version `number`: hash and counts computed."""
    businesses, products, combos = catalog.counts()
    return CatalogVersionInfo(
        number=number,
        effective_from=effective_from,
        published_at=effective_from if published_at is None else published_at,
        description=description or f"version {number}",
        content_hash=content_hash(catalog),
        business_count=businesses,
        product_count=products,
        combo_count=combos,
    )
