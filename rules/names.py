"""What the catalog lets rules name: `CatalogNames` built from a catalog's content."""

from __future__ import annotations

from catalog.content import CatalogContent
from catalog.model import Combo, LifecycleStatus, Product, ProductKind, UsageMeasure
from dsl.symbols import AreaName, CatalogNames, GroupSlot, MemberSlot, OfferName
from dsl.symbols import UsageMeasure as Measure
from pricing.zones import ZoneTable

_MEASURES: dict[UsageMeasure, Measure] = {
    UsageMeasure.NONE: "none",
    UsageMeasure.DURATION: "duration",
    UsageMeasure.VOLUME: "volume",
    UsageMeasure.COUNT: "count",
}


def names_from_content(content: CatalogContent) -> CatalogNames:
    """Every area, channel, segment, offer, business and zone of `content` (obsolete
    entities left out: nothing may refer to them)."""
    live = {
        key: entity
        for key, entity in content.entities.items()
        if entity.status is not LifecycleStatus.OBSOLETE
    }
    live_content = CatalogContent.build(entities=live)
    offers = [
        OfferName(
            code=p.code,
            kind="main" if p.kind is ProductKind.MAIN else "add_on",
            plan=p.tariff_plan,
        )
        for p in live_content.products()
    ]
    offers += [
        OfferName(
            code=c.code,
            kind="combo",
            plan=c.tariff_plan,
            members=tuple(MemberSlot(m.offer_code, m.min_count, m.upper) for m in c.members),
            groups=tuple(
                GroupSlot(g.name, g.offer_codes, g.min_count, g.upper) for g in c.choice_groups
            ),
        )
        for c in live_content.combos()
    ]
    overridden: list[Product | Combo] = [*live_content.products(), *live_content.combos()]
    plans = {o.tariff_plan for offer in overridden for o in offer.tariff_overrides}
    return CatalogNames.of(
        areas=[AreaName(a.code, a.parent_code) for a in content.areas.values()],
        channels=content.channels,
        segments=content.segments,
        offers=offers,
        businesses={b.code: _MEASURES[b.usage_measure] for b in live_content.businesses()},
        zone_tables={
            name: {zone for _, zone in table.prefixes}
            for name, table in content.zone_tables.items()
        },
        plans=plans,
    )


def zone_lookups(content: CatalogContent) -> dict[str, ZoneTable]:
    """The catalog's zone tables built for longest-prefix lookups (built once per use)."""
    return {name: ZoneTable(table.prefixes) for name, table in content.zone_tables.items()}
