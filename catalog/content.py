"""A whole catalog as one immutable value: reference data plus entities with their states.

The same shape serves the working draft (every entity, any status) and a published version
(launched and retired entities only); snapshots, diffs, bundles and version documents are all
built from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from catalog.areas import AreaTree
from catalog.model import (
    Area,
    Business,
    Channel,
    Combo,
    Definition,
    EntityKind,
    LifecycleStatus,
    Product,
    RuleSource,
    Segment,
    VersionedEntity,
    ZoneTable,
)

EntityKey = tuple[EntityKind, str]


@dataclass(frozen=True, slots=True)
class CatalogContent:
    """Reference data and entities of one catalog (draft or published version)."""

    areas: Mapping[str, Area] = field(default_factory=lambda: MappingProxyType({}))
    channels: Mapping[str, Channel] = field(default_factory=lambda: MappingProxyType({}))
    segments: Mapping[str, Segment] = field(default_factory=lambda: MappingProxyType({}))
    zone_tables: Mapping[str, ZoneTable] = field(default_factory=lambda: MappingProxyType({}))
    rule_sources: tuple[RuleSource, ...] = ()
    entities: Mapping[EntityKey, VersionedEntity] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @classmethod
    def build(
        cls,
        *,
        areas: Mapping[str, Area] | None = None,
        channels: Mapping[str, Channel] | None = None,
        segments: Mapping[str, Segment] | None = None,
        zone_tables: Mapping[str, ZoneTable] | None = None,
        rule_sources: tuple[RuleSource, ...] = (),
        entities: Mapping[EntityKey, VersionedEntity] | None = None,
    ) -> CatalogContent:
        """Wrap plain dicts read-only, with entities and sources in canonical order."""
        ordered = dict(sorted((entities or {}).items(), key=lambda kv: (kv[0][0].value, kv[0][1])))
        return cls(
            areas=MappingProxyType(dict(sorted((areas or {}).items()))),
            channels=MappingProxyType(dict(sorted((channels or {}).items()))),
            segments=MappingProxyType(dict(sorted((segments or {}).items()))),
            zone_tables=MappingProxyType(dict(sorted((zone_tables or {}).items()))),
            rule_sources=tuple(sorted(rule_sources, key=lambda s: s.path)),
            entities=MappingProxyType(ordered),
        )

    def area_tree(self) -> AreaTree:
        return AreaTree(self.areas.values())

    def get(self, kind: EntityKind, code: str) -> VersionedEntity | None:
        return self.entities.get((kind, code))

    def definitions(self, kind: EntityKind) -> Iterator[Definition]:
        for (k, _), entity in self.entities.items():
            if k is kind:
                yield entity.definition

    def businesses(self) -> Iterator[Business]:
        for d in self.definitions(EntityKind.BUSINESS):
            assert isinstance(d, Business)
            yield d

    def products(self) -> Iterator[Product]:
        for d in self.definitions(EntityKind.PRODUCT):
            assert isinstance(d, Product)
            yield d

    def combos(self) -> Iterator[Combo]:
        for d in self.definitions(EntityKind.COMBO):
            assert isinstance(d, Combo)
            yield d

    def offer(self, code: str) -> Product | Combo | None:
        """The product or combo with that code (codes are unique across both kinds)."""
        for kind in (EntityKind.PRODUCT, EntityKind.COMBO):
            entity = self.entities.get((kind, code))
            if entity is not None:
                definition = entity.definition
                assert isinstance(definition, Product | Combo)
                return definition
        return None

    def status_of(self, kind: EntityKind, code: str) -> LifecycleStatus | None:
        entity = self.entities.get((kind, code))
        return entity.status if entity else None

    def all_rule_sources(self) -> Iterator[tuple[EntityKey | None, RuleSource]]:
        """Catalog-level sources (owner None), then each entity's, in canonical order."""
        for source in self.rule_sources:
            yield None, source
        for key, entity in self.entities.items():
            for source in entity.definition.rule_sources:
                yield key, source

    def counts(self) -> tuple[int, int, int]:
        """(businesses, products, combos)."""
        kinds = [k for k, _ in self.entities]
        return (
            kinds.count(EntityKind.BUSINESS),
            kinds.count(EntityKind.PRODUCT),
            kinds.count(EntityKind.COMBO),
        )
