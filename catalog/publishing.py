"""What a publish freezes: the next version's content, and the draft entries after it.

Pure: given the draft entries, the reference data and a time, compute the version content and
the updated entries. The service layer stores both in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from catalog.content import CatalogContent, EntityKey
from catalog.model import Entry, LifecycleStatus, VersionedEntity

S = LifecycleStatus


@dataclass(frozen=True, slots=True)
class PublishPlan:
    """The version to store and the entries whose state the publish changes."""

    content: CatalogContent
    changed_entries: tuple[Entry, ...]


def plan_publish(entries: Iterable[Entry], reference: CatalogContent, now: datetime) -> PublishPlan:
    """IN_TEST entries launch; LAUNCHED and RETIRED ones carry over; drafts of published
    entities keep their published content in the version; IN_DESIGN-only and OBSOLETE
    entities are left out. `reference` supplies areas, channels, segments, zones, sources."""
    entities: dict[EntityKey, VersionedEntity] = {}
    changed: list[Entry] = []
    for entry in entries:
        key = (entry.kind, entry.code)
        status = entry.state.status
        if status is S.IN_TEST:
            version = entry.state.version + 1
            entities[key] = VersionedEntity(entry.definition, S.LAUNCHED, version)
            changed.append(
                replace(
                    entry,
                    published=entry.definition,
                    published_status=S.LAUNCHED,
                    state=replace(
                        entry.state,
                        status=S.LAUNCHED,
                        version=version,
                        revision=entry.state.revision + 1,
                        updated_at=now,
                    ),
                )
            )
        elif status in (S.LAUNCHED, S.RETIRED):
            entities[key] = VersionedEntity(entry.definition, status, entry.state.version)
            if entry.published_status is not status:
                changed.append(replace(entry, published_status=status))
        elif status is S.IN_DESIGN and entry.published is not None:
            carried = entry.published_status or S.LAUNCHED
            entities[key] = VersionedEntity(entry.published, carried, entry.state.version)
        elif status is S.OBSOLETE and entry.published_status is not S.OBSOLETE:
            changed.append(replace(entry, published_status=S.OBSOLETE))
    content = CatalogContent.build(
        areas=reference.areas,
        channels=reference.channels,
        segments=reference.segments,
        zone_tables=reference.zone_tables,
        rule_sources=reference.rule_sources,
        entities=entities,
    )
    return PublishPlan(content=content, changed_entries=tuple(changed))


def preview_content(draft: CatalogContent) -> CatalogContent:
    """The draft as it would sell once its work in progress is tested and published: entities
    in design or in test count as launched, obsolete ones are gone, retired ones stay retired.
    What Simulate answers on, so a product manager sees the effect of a change before the
    lifecycle moves it."""
    preview = {
        key: replace(entity, status=S.LAUNCHED)
        if entity.status in (S.IN_DESIGN, S.IN_TEST)
        else entity
        for key, entity in draft.entities.items()
        if entity.status is not S.OBSOLETE
    }
    return replace(draft, entities=preview)
