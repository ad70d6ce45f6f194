"""Use cases of catalog management, each one transaction: validate, apply, commit or leave the
catalog exactly as it was.

The gRPC servicers call these; they never touch storage themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

from catalog import codec, lifecycle
from catalog.audit import Action, Outcome, SignOff, current_actor
from catalog.content import CatalogContent, EntityKey
from catalog.diff import Change, diff
from catalog.errors import (
    AlreadyExists,
    LifecycleViolation,
    NotFound,
    PublishRejected,
    StaleRevision,
    ValidationError,
    Violation,
)
from catalog.governance import Governance, approval_for
from catalog.governance import entry as audit_entry
from catalog.model import (
    Area,
    CatalogVersionInfo,
    Channel,
    Definition,
    EntityKind,
    EntityState,
    Entry,
    LifecycleStatus,
    RuleSource,
    Segment,
    VersionedEntity,
    ZoneTable,
)
from catalog.publishing import plan_publish
from catalog.queries import CatalogFilter, matches, paginate
from catalog.repository import CatalogRepository, UnitOfWork
from catalog.validation import (
    check_areas,
    check_code,
    check_publishable,
    check_rule_sources,
    check_zone_table,
    source_owners,
    validate_catalog,
    validate_definition,
)
from catalog.versions import DRAFT, AsOf, Draft, Selector, Timeline, VersionNumber

S = LifecycleStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Listed:
    """An entity as a read returns it: definition, status and bookkeeping."""

    definition: Definition
    status: LifecycleStatus
    version: int
    catalog_version: int = 0
    revision: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ImportMode(enum.Enum):
    MERGE = "merge"
    REPLACE = "replace"


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    obsoleted: tuple[str, ...]


class Finding(Protocol):
    """A problem a rule checker found in a rule source (dsl.diagnostics.Diagnostic fits)."""

    @property
    def severity(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def end_line(self) -> int: ...
    @property
    def end_column(self) -> int: ...
    @property
    def hint(self) -> str: ...


#: Checks every rule source of a catalog about to be published (wired in by bootstrap, so the
#: catalog does not depend on the rule language).
RuleCheck = Callable[[CatalogContent], Sequence[Finding]]


@dataclass(frozen=True, slots=True)
class Published:
    info: CatalogVersionInfo
    content: CatalogContent
    warnings: tuple[Finding, ...] = ()


def _listed(entry: Entry) -> Listed:
    return Listed(
        definition=entry.definition,
        status=entry.state.status,
        version=entry.state.version,
        revision=entry.state.revision,
        created_at=entry.state.created_at,
        updated_at=entry.state.updated_at,
    )


def draft_content(repo: CatalogRepository) -> CatalogContent:
    """The working draft as one CatalogContent (every entity, whatever its status)."""
    return CatalogContent.build(
        areas={a.code: a for a in repo.list_areas()},
        channels={c.code: c for c in repo.list_channels()},
        segments={s.code: s for s in repo.list_segments()},
        zone_tables={z.name: z for z in repo.list_zone_tables()},
        rule_sources=tuple(repo.get_catalog_rule_sources()),
        entities={
            (e.kind, e.code): VersionedEntity(e.definition, e.state.status, e.state.version)
            for e in repo.list_entries()
        },
    )


class CatalogService:
    """Catalog management over a unit of work; `on_publish` hears of every new version."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        *,
        clock: Callable[[], datetime] = utcnow,
        on_publish: Callable[[CatalogVersionInfo, CatalogContent], None] | None = None,
        rule_check: RuleCheck | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._on_publish = on_publish
        self._rule_check = rule_check
        self._version_content = lru_cache(maxsize=8)(self._load_version_content)
        self.governance = Governance(uow, clock)

    # -- entities -----------------------------------------------------------------------

    def create(self, definition: Definition) -> Listed:
        """Add a new entity to the draft as IN_DESIGN. Raises ValidationError, AlreadyExists."""
        now = self._clock()
        with self._uow() as uow:
            repo = uow.catalog
            self._ensure_code_free(repo, definition)
            self._validate(repo, definition)
            created = Entry(definition, EntityState(S.IN_DESIGN, 1, 0, now, now))
            repo.add_entry(created)
            _audit(uow, now, Action.CREATE, _label(created), 1)
            uow.commit()
        return _listed(created)

    def update(self, definition: Definition, expected_revision: int) -> Listed:
        """Replace an entity's working copy. Raises NotFound, StaleRevision, ValidationError,
        LifecycleViolation (obsolete entities never change)."""
        with self._uow() as uow:
            repo = uow.catalog
            entry = self._entry(repo, definition.entity_kind, definition.code, expected_revision)
            self._validate(repo, definition)
            revised = lifecycle.revise(entry, definition, self._clock())
            if revised is not entry:
                repo.save_entry(revised, expected_revision)
                _audit(uow, self._clock(), Action.UPDATE, _label(revised), revised.state.revision)
                uow.commit()
        return _listed(revised)

    def attach_rule_sources(
        self,
        target: tuple[EntityKind, str] | None,
        sources: Sequence[RuleSource],
        remove_paths: Sequence[str],
        expected_revision: int,
    ) -> tuple[tuple[RuleSource, ...], int]:
        """Add or replace (by path) and remove rule sources on an entity or on the catalog.
        Returns the sources now attached and the target's revision (0 for the catalog)."""
        with self._uow() as uow:
            repo = uow.catalog
            skip = None if target is None else (target[0], target[1])
            owners = source_owners(draft_content(repo), skip)
            if target is None:
                owners = {p: o for p, o in owners.items() if o != "the catalog"}
            problems = list(check_rule_sources(sources, "sources", owners))
            if problems:
                raise ValidationError(problems)
            if target is None:
                current = {s.path: s for s in repo.get_catalog_rule_sources()}
                attached = self._merge_sources(current, sources, remove_paths, "catalog")
                repo.set_catalog_rule_sources(attached)
                _audit(uow, self._clock(), Action.ATTACH_RULES, "catalog", 0, _paths(sources))
                uow.commit()
                return attached, 0
            entry = self._entry(repo, target[0], target[1], expected_revision)
            current = {s.path: s for s in entry.definition.rule_sources}
            attached = self._merge_sources(current, sources, remove_paths, "entity")
            definition = replace(entry.definition, rule_sources=attached)
            self._validate(repo, definition)
            revised = lifecycle.revise(entry, definition, self._clock())
            if revised is not entry:
                repo.save_entry(revised, expected_revision)
                _audit(
                    uow,
                    self._clock(),
                    Action.ATTACH_RULES,
                    _label(revised),
                    revised.state.revision,
                    _paths(sources, remove_paths),
                )
                uow.commit()
            return attached, revised.state.revision

    def transition(
        self, kind: EntityKind, code: str, to: LifecycleStatus, expected_revision: int
    ) -> Listed:
        """Move an entity along its lifecycle. Raises NotFound, StaleRevision,
        LifecycleViolation."""
        with self._uow() as uow:
            repo = uow.catalog
            entry = self._entry(repo, kind, code, expected_revision)
            moved = lifecycle.transition(entry, to, self._clock())
            repo.save_entry(moved, expected_revision)
            detail = f"{entry.state.status.value} -> {to.value}"
            _audit(
                uow, self._clock(), Action.TRANSITION, _label(moved), moved.state.revision, detail
            )
            uow.commit()
        return _listed(moved)

    def get(self, kind: EntityKind, code: str, selector: Selector = DRAFT) -> Listed:
        """One entity from the draft or a published version. Raises NotFound."""
        if isinstance(selector, Draft):
            with self._uow() as uow:
                entry = uow.catalog.get_entry(kind, code)
            if entry is None:
                raise NotFound(f"{kind.value} {code!r} does not exist")
            return _listed(entry)
        info, content = self.version_content(selector)
        entity = content.get(kind, code)
        if entity is None:
            raise NotFound(f"{kind.value} {code!r} is not in catalog version {info.number}")
        return Listed(entity.definition, entity.status, entity.version, info.number)

    def list_entities(
        self,
        kind: EntityKind,
        selector: Selector = DRAFT,
        flt: CatalogFilter | None = None,
        page_size: int = 0,
        page_token: str = "",
    ) -> tuple[list[Listed], str]:
        """Entities of one kind ordered by code, filtered, one page at a time."""
        flt = flt or CatalogFilter()
        self._check_filter_codes(flt, selector)
        if isinstance(selector, Draft):
            with self._uow() as uow:
                entries = uow.catalog.list_entries(kind)
                tree = draft_content(uow.catalog).area_tree() if flt.area_code else None
            items = [_listed(e) for e in entries]
        else:
            info, content = self.version_content(selector)
            tree = content.area_tree()
            items = [
                Listed(e.definition, e.status, e.version, info.number)
                for (k, _), e in content.entities.items()
                if k is kind
            ]
        if tree is None:
            tree = CatalogContent().area_tree()
        chosen = [i for i in items if matches(i.definition, i.status, flt, tree)]
        return paginate(chosen, lambda i: i.definition.code, page_size, page_token)

    # -- reference data -----------------------------------------------------------------

    def put_reference_data(
        self, areas: Sequence[Area], channels: Sequence[Channel], segments: Sequence[Segment]
    ) -> int:
        """Upsert areas, channels and segments in one transaction. Raises ValidationError."""
        problems: list[Violation] = []
        for i, channel in enumerate(channels):
            problems += check_code(channel.code, f"channels[{i}].code")
            if not channel.name.strip():
                problems.append(Violation(f"channels[{i}].name", "must not be empty"))
        for i, segment in enumerate(segments):
            problems += check_code(segment.code, f"segments[{i}].code")
            if not segment.name.strip():
                problems.append(Violation(f"segments[{i}].name", "must not be empty"))
        with self._uow() as uow:
            repo = uow.catalog
            problems += check_areas(areas, repo.list_areas())
            if problems:
                raise ValidationError(problems)
            repo.put_areas(areas)
            repo.put_channels(channels)
            repo.put_segments(segments)
            detail = f"{len(areas)} areas, {len(channels)} channels, {len(segments)} segments"
            _audit(uow, self._clock(), Action.PUT_REFERENCE_DATA, "reference_data", 0, detail)
            uow.commit()
        return len(areas) + len(channels) + len(segments)

    def reference_data(self, selector: Selector = DRAFT) -> CatalogContent:
        """Areas, channels, segments, zone tables and catalog sources of a catalog."""
        if isinstance(selector, Draft):
            with self._uow() as uow:
                return draft_content(uow.catalog)
        return self.version_content(selector)[1]

    def put_zone_table(self, table: ZoneTable) -> int:
        problems = check_zone_table(table)
        if problems:
            raise ValidationError(problems)
        ordered = replace(table, prefixes=tuple(sorted(table.prefixes)))
        with self._uow() as uow:
            uow.catalog.put_zone_table(ordered)
            detail = f"{len(ordered.prefixes)} prefixes"
            _audit(uow, self._clock(), Action.PUT_ZONE_TABLE, f"zone_table:{table.name}", 0, detail)
            uow.commit()
        return len(ordered.prefixes)

    def get_zone_table(self, name: str, selector: Selector = DRAFT) -> ZoneTable:
        if isinstance(selector, Draft):
            with self._uow() as uow:
                table = uow.catalog.get_zone_table(name)
        else:
            table = self.version_content(selector)[1].zone_tables.get(name)
        if table is None:
            raise NotFound(f"zone table {name!r} does not exist")
        return table

    # -- versions -----------------------------------------------------------------------

    def publish(self, effective_from: datetime | None, description: str) -> Published:
        """Freeze the approved draft into a new version, once its rules check and every
        example passes. Raises ValidationError (effective time), PublishRejected
        (inconsistent draft, rule errors, failing examples), ReviewRefused (not approved),
        LifecycleViolation (nothing changed), ConcurrentWrite (another publish won the
        race). A refusal is recorded in the audit log; nothing else changes."""
        now = self._clock()
        try:
            return self._publish(now, effective_from or now, description)
        except (PublishRejected, LifecycleViolation) as refused:
            self.governance.record(
                audit_entry(now, Action.PUBLISH, "draft", 0, Outcome.REFUSED, str(refused))
            )
            raise

    def _publish(self, now: datetime, effective: datetime, description: str) -> Published:
        actor = current_actor()
        with self._uow() as uow:
            repo = uow.catalog
            versions = repo.list_versions()
            Timeline(versions).check_next_effective(effective)
            draft = draft_content(repo)
            author, approver = approval_for(
                uow.governance, lambda: codec.content_hash(draft), actor
            )
            plan = plan_publish(repo.list_entries(), draft, now)
            problems = check_publishable(plan.content)
            findings = tuple(self._rule_check(plan.content)) if self._rule_check else ()
            problems += [
                Violation(f"{f.path}:{f.line}:{f.column}", f"{f.code}: {f.message}")
                for f in findings
                if f.severity == "error"
            ]
            if problems:
                raise PublishRejected(problems)
            digest = codec.content_hash(plan.content)
            if versions and versions[-1].content_hash == digest:
                raise LifecycleViolation(
                    f"nothing to publish: the draft equals version {versions[-1].number}"
                )
            businesses, products, combos = plan.content.counts()
            info = CatalogVersionInfo(
                number=(versions[-1].number + 1) if versions else 1,
                effective_from=effective,
                published_at=now,
                description=description,
                content_hash=digest,
                business_count=businesses,
                product_count=products,
                combo_count=combos,
            )
            repo.add_version(info, plan.content)
            for changed in plan.changed_entries:
                current = repo.get_entry(changed.kind, changed.code)
                assert current is not None
                repo.save_entry(changed, current.state.revision)
            uow.governance.put_sign_off(SignOff(info.number, author, approver, actor.name))
            uow.governance.set_review(None)
            _audit(uow, now, Action.PUBLISH, f"version:{info.number}", info.number, description)
            uow.commit()
        if self._on_publish is not None:
            self._on_publish(info, plan.content)
        warnings = tuple(f for f in findings if f.severity != "error")
        return Published(info, plan.content, warnings)

    def list_versions(self) -> list[CatalogVersionInfo]:
        with self._uow() as uow:
            return uow.catalog.list_versions()

    def timeline(self) -> Timeline:
        return Timeline(self.list_versions())

    def get_version(self, selector: AsOf | VersionNumber | None) -> CatalogVersionInfo:
        return self.timeline().resolve(selector or AsOf(self._clock()))

    def version_content(
        self, selector: AsOf | VersionNumber
    ) -> tuple[CatalogVersionInfo, CatalogContent]:
        info = self.get_version(selector)
        return info, self._version_content(info.number)

    def version_content_by_number(self, number: int) -> CatalogContent:
        """A published version's content (cached: versions never change)."""
        return self._version_content(number)

    def content(self, selector: Selector) -> CatalogContent:
        if isinstance(selector, Draft):
            with self._uow() as uow:
                return draft_content(uow.catalog)
        return self.version_content(selector)[1]

    def diff(self, before: Selector | None, after: Selector | None) -> list[Change]:
        """What differs between two catalogs; defaults: the version in force now (an empty
        catalog before any is) vs the draft."""
        return diff(*self.diff_sides(before, after))

    def diff_sides(
        self, before: Selector | None, after: Selector | None
    ) -> tuple[CatalogContent, CatalogContent]:
        """The two catalogs a diff compares, with `diff`'s defaults. Raises NotFound for an
        unknown version."""
        if before is None:
            in_force = self.timeline().in_force(self._clock())
            older = self.content(VersionNumber(in_force.number)) if in_force else CatalogContent()
        else:
            older = self.content(before)
        return older, self.content(after or DRAFT)

    # -- bundles ------------------------------------------------------------------------

    def import_content(
        self, bundle: CatalogContent, mode: ImportMode = ImportMode.MERGE, dry_run: bool = False
    ) -> ImportResult:
        """Load a bundle into the draft atomically: every problem reported, nothing written
        unless all is well (and nothing at all on a dry run)."""
        now = self._clock()
        created: list[str] = []
        updated: list[str] = []
        obsoleted: list[str] = []
        with self._uow() as uow:
            repo = uow.catalog
            problems: list[Violation] = []
            existing = {(e.kind, e.code): e for e in repo.list_entries()}
            planned: dict[EntityKey, Entry] = {}
            for key, incoming in bundle.entities.items():
                label = f"{key[0].value}:{key[1]}"
                current = existing.get(key)
                if current is None:
                    other = self._offer_code_taken(existing, key)
                    if other:
                        problems.append(Violation(label, f"code is already used by {other}"))
                        continue
                    planned[key] = _imported_entry(incoming, now)
                    created.append(label)
                else:
                    revised = _merge_entry(current, incoming, now)
                    if revised is not current:
                        planned[key] = revised
                        updated.append(label)
            if mode is ImportMode.REPLACE:
                for key, current in existing.items():
                    if key in bundle.entities or current.state.status is S.OBSOLETE:
                        continue
                    planned[key] = replace(
                        current,
                        state=replace(
                            current.state,
                            status=S.OBSOLETE,
                            revision=current.state.revision + 1,
                            updated_at=now,
                        ),
                    )
                    obsoleted.append(f"{key[0].value}:{key[1]}")
            merged = _merged_content(draft_content(repo), bundle, planned, mode)
            changed = [key for key in planned if key in bundle.entities]
            problems = (
                validate_catalog(merged, bundle, changed, existing_areas=repo.list_areas())
                + problems
            )
            if problems:
                raise ValidationError(problems, "the bundle cannot be imported")
            if dry_run:
                uow.rollback()
            else:
                repo.put_areas(_parents_first(bundle.areas.values()))
                repo.put_channels(bundle.channels.values())
                repo.put_segments(bundle.segments.values())
                for table in bundle.zone_tables.values():
                    repo.put_zone_table(table)
                sources = {s.path: s for s in repo.get_catalog_rule_sources()}
                if mode is ImportMode.REPLACE:
                    sources = {}
                sources.update({s.path: s for s in bundle.rule_sources})
                repo.set_catalog_rule_sources(sorted(sources.values(), key=lambda s: s.path))
                for key, entry in planned.items():
                    if key in existing:
                        repo.save_entry(entry, existing[key].state.revision)
                    else:
                        repo.add_entry(entry)
                detail = f"{len(created)} new, {len(updated)} changed, {len(obsoleted)} obsoleted"
                _audit(uow, now, Action.IMPORT, "bundle", 0, detail)
                uow.commit()
        return ImportResult(tuple(created), tuple(updated), tuple(obsoleted))

    # -- helpers ------------------------------------------------------------------------

    def _load_version_content(self, number: int) -> CatalogContent:
        with self._uow() as uow:
            return uow.catalog.load_version_content(number)

    def _entry(
        self, repo: CatalogRepository, kind: EntityKind, code: str, expected_revision: int
    ) -> Entry:
        entry = repo.get_entry(kind, code)
        if entry is None:
            raise NotFound(f"{kind.value} {code!r} does not exist")
        if entry.state.revision != expected_revision:
            raise StaleRevision(f"{kind.value} {code!r}", expected_revision, entry.state.revision)
        return entry

    def _ensure_code_free(self, repo: CatalogRepository, definition: Definition) -> None:
        kinds = (
            (EntityKind.PRODUCT, EntityKind.COMBO)
            if definition.entity_kind is not EntityKind.BUSINESS
            else (EntityKind.BUSINESS,)
        )
        for kind in kinds:
            if repo.get_entry(kind, definition.code) is not None:
                raise AlreadyExists(f"{kind.value} {definition.code!r} already exists")

    @staticmethod
    def _offer_code_taken(existing: dict[EntityKey, Entry], key: EntityKey) -> str:
        kind, code = key
        if kind is EntityKind.BUSINESS:
            return ""
        other = EntityKind.COMBO if kind is EntityKind.PRODUCT else EntityKind.PRODUCT
        return f"{other.value} {code!r}" if (other, code) in existing else ""

    def _validate(self, repo: CatalogRepository, definition: Definition) -> None:
        problems = validate_definition(draft_content(repo), definition)
        if problems:
            raise ValidationError(problems)

    @staticmethod
    def _merge_sources(
        current: dict[str, RuleSource],
        sources: Iterable[RuleSource],
        remove_paths: Iterable[str],
        where: str,
    ) -> tuple[RuleSource, ...]:
        problems = [
            Violation(f"remove_paths[{i}]", f"{path!r} is not attached to the {where}")
            for i, path in enumerate(remove_paths)
            if path not in current
        ]
        if problems:
            raise ValidationError(problems)
        merged = {p: s for p, s in current.items() if p not in set(remove_paths)}
        merged.update({s.path: s for s in sources})
        return tuple(merged[p] for p in sorted(merged))

    def _check_filter_codes(self, flt: CatalogFilter, selector: Selector) -> None:
        if not (flt.area_code or flt.channel_code or flt.segment_code):
            return
        ref = self.reference_data(selector)
        problems = []
        if flt.area_code and flt.area_code not in ref.areas:
            problems.append(Violation("filter.area_code", f"unknown area {flt.area_code!r}"))
        if flt.channel_code and flt.channel_code not in ref.channels:
            problems.append(
                Violation("filter.channel_code", f"unknown channel {flt.channel_code!r}")
            )
        if flt.segment_code and flt.segment_code not in ref.segments:
            problems.append(
                Violation("filter.segment_code", f"unknown segment {flt.segment_code!r}")
            )
        if problems:
            raise ValidationError(problems)


def _audit(
    uow: UnitOfWork,
    now: datetime,
    action: Action,
    entity: str,
    revision: int,
    detail: str = "",
) -> None:
    """Record a change in the audit log, in the transaction that makes it."""
    uow.governance.add_audit_entry(audit_entry(now, action, entity, revision, detail=detail))


def _label(changed: Entry) -> str:
    return f"{changed.kind.value}:{changed.code}"


def _paths(sources: Iterable[RuleSource], removed: Iterable[str] = ()) -> str:
    attached = ", ".join(s.path for s in sources)
    gone = ", ".join(removed)
    return "; ".join(
        p for p in (attached and f"attached {attached}", gone and f"removed {gone}") if p
    )


def _imported_entry(incoming: VersionedEntity, now: datetime) -> Entry:
    """A new entity keeps the bundle's status; launched or retired content counts as the
    entity's published content, so the next publish carries it."""
    published = incoming.status in (S.LAUNCHED, S.RETIRED)
    return Entry(
        incoming.definition,
        EntityState(incoming.status, 1, incoming.version, now, now),
        published=incoming.definition if published else None,
        published_status=incoming.status if published else None,
    )


def _merge_entry(current: Entry, incoming: VersionedEntity, now: datetime) -> Entry:
    """An existing entity takes the bundle's definition through the lifecycle: changed
    content becomes a draft (IN_TEST when the bundle calls it ready)."""
    if current.definition == incoming.definition and current.state.status is incoming.status:
        return current
    if current.state.status is S.OBSOLETE:
        raise LifecycleViolation(f"{current.kind.value} {current.code!r} is obsolete")
    revised = lifecycle.revise(current, incoming.definition, now)
    ready = incoming.status in (S.IN_TEST, S.LAUNCHED)
    if revised is not current and ready:
        revised = replace(revised, state=replace(revised.state, status=S.IN_TEST))
    elif revised is current:
        target = incoming.status
        if target in lifecycle.TRANSITIONS[current.state.status]:
            revised = lifecycle.transition(current, target, now)
    return revised


def _merged_content(
    draft: CatalogContent,
    bundle: CatalogContent,
    planned: dict[EntityKey, Entry],
    mode: ImportMode,
) -> CatalogContent:
    entities = dict(draft.entities)
    for key, entry in planned.items():
        entities[key] = VersionedEntity(entry.definition, entry.state.status, entry.state.version)
    sources = {} if mode is ImportMode.REPLACE else {s.path: s for s in draft.rule_sources}
    sources.update({s.path: s for s in bundle.rule_sources})
    return CatalogContent.build(
        areas={**draft.areas, **bundle.areas},
        channels={**draft.channels, **bundle.channels},
        segments={**draft.segments, **bundle.segments},
        zone_tables={**draft.zone_tables, **bundle.zone_tables},
        rule_sources=tuple(sources.values()),
        entities=entities,
    )


def _parents_first(areas: Iterable[Area]) -> list[Area]:
    order = {"nation": 0, "province": 1, "city": 2}
    return sorted(areas, key=lambda a: (order[a.level.value], a.code))


def check_bundle(bundle: CatalogContent) -> list[Violation]:
    """What importing `bundle` into an empty store refuses: the import itself, run as a dry
    run on an in-memory store, so `tariff check BUNDLE` accepts exactly what `tariff bundle
    import` into a new store does (one validation path: `validate_catalog`)."""
    from catalog.repository import InMemoryUnitOfWork

    store = InMemoryUnitOfWork()
    try:
        CatalogService(lambda: store).import_content(bundle, ImportMode.REPLACE, dry_run=True)
    except ValidationError as refused:
        return list(refused.violations)
    return []
