"""What the service layer needs from storage, and an in-memory implementation for unit tests.

The SQLAlchemy implementation is `catalog.sqlstore`; both honour the same contract, which
`tests/unit/catalog/test_repository_contract.py` runs against each.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import replace
from types import TracebackType
from typing import Protocol, Self

from catalog.audit import (
    DRAFT_WRITES,
    Action,
    AuditEntry,
    GovernanceRepository,
    Outcome,
    Review,
    SignOff,
)
from catalog.content import CatalogContent
from catalog.errors import AlreadyExists, ConcurrentWrite, NotFound, StaleRevision
from catalog.model import (
    Area,
    CatalogVersionInfo,
    Channel,
    EntityKind,
    Entry,
    RuleSource,
    Segment,
    ZoneTable,
)

OFFER_KINDS = (EntityKind.PRODUCT, EntityKind.COMBO)


class CatalogRepository(Protocol):
    """Storage of the working draft and the published versions.

    Contract: `add_entry` raises AlreadyExists when the code is taken (product and combo
    codes share one namespace); `save_entry` is a compare-and-set on the stored revision and
    raises StaleRevision when it differs; `add_version` raises ConcurrentWrite when the
    number is taken. Version contents are immutable once added.
    """

    def get_entry(self, kind: EntityKind, code: str) -> Entry | None: ...

    def list_entries(self, kind: EntityKind | None = None) -> list[Entry]:
        """Entries ordered by kind then code."""
        ...

    def add_entry(self, entry: Entry) -> None: ...

    def save_entry(self, entry: Entry, expected_revision: int) -> None: ...

    def delete_entry(self, kind: EntityKind, code: str) -> None: ...

    def put_areas(self, areas: Iterable[Area]) -> None: ...

    def put_channels(self, channels: Iterable[Channel]) -> None: ...

    def put_segments(self, segments: Iterable[Segment]) -> None: ...

    def list_areas(self) -> list[Area]: ...

    def list_channels(self) -> list[Channel]: ...

    def list_segments(self) -> list[Segment]: ...

    def put_zone_table(self, table: ZoneTable) -> None: ...

    def get_zone_table(self, name: str) -> ZoneTable | None: ...

    def list_zone_tables(self) -> list[ZoneTable]: ...

    def get_catalog_rule_sources(self) -> list[RuleSource]:
        """Catalog-level sources ordered by path."""
        ...

    def set_catalog_rule_sources(self, sources: Iterable[RuleSource]) -> None:
        """Replace every catalog-level source."""
        ...

    def add_version(self, info: CatalogVersionInfo, content: CatalogContent) -> None: ...

    def list_versions(self) -> list[CatalogVersionInfo]:
        """Published versions, oldest first."""
        ...

    def get_version(self, number: int) -> CatalogVersionInfo | None: ...

    def load_version_content(self, number: int) -> CatalogContent:
        """The content of a published version; NotFound if there is none."""
        ...


class UnitOfWork(Protocol):
    """One transaction: everything written through `catalog` lands on commit or not at all."""

    catalog: CatalogRepository
    governance: GovernanceRepository

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class _State:
    """Everything the in-memory store holds; copied per transaction for rollback."""

    def __init__(self) -> None:
        self.entries: dict[tuple[EntityKind, str], Entry] = {}
        self.areas: dict[str, Area] = {}
        self.channels: dict[str, Channel] = {}
        self.segments: dict[str, Segment] = {}
        self.zone_tables: dict[str, ZoneTable] = {}
        self.rule_sources: dict[str, RuleSource] = {}
        self.versions: dict[int, tuple[CatalogVersionInfo, CatalogContent]] = {}
        self.audit: list[AuditEntry] = []
        self.review: list[Review] = []  # none or one
        self.sign_offs: dict[int, SignOff] = {}


class InMemoryRepository:
    """A dict-backed CatalogRepository; values are immutable so shallow copies suffice."""

    def __init__(self, state: _State) -> None:
        self._s = state

    def get_entry(self, kind: EntityKind, code: str) -> Entry | None:
        return self._s.entries.get((kind, code))

    def list_entries(self, kind: EntityKind | None = None) -> list[Entry]:
        keys = sorted(self._s.entries, key=lambda k: (k[0].value, k[1]))
        return [self._s.entries[k] for k in keys if kind is None or k[0] is kind]

    def add_entry(self, entry: Entry) -> None:
        kinds = OFFER_KINDS if entry.kind in OFFER_KINDS else (entry.kind,)
        if any((k, entry.code) in self._s.entries for k in kinds):
            raise AlreadyExists(f"{entry.kind.value} {entry.code!r} already exists")
        self._s.entries[(entry.kind, entry.code)] = entry

    def save_entry(self, entry: Entry, expected_revision: int) -> None:
        current = self._s.entries.get((entry.kind, entry.code))
        if current is None:
            raise NotFound(f"{entry.kind.value} {entry.code!r} does not exist")
        if current.state.revision != expected_revision:
            raise StaleRevision(
                f"{entry.kind.value} {entry.code!r}", expected_revision, current.state.revision
            )
        self._s.entries[(entry.kind, entry.code)] = entry

    def delete_entry(self, kind: EntityKind, code: str) -> None:
        self._s.entries.pop((kind, code), None)

    def put_areas(self, areas: Iterable[Area]) -> None:
        self._s.areas.update({a.code: a for a in areas})

    def put_channels(self, channels: Iterable[Channel]) -> None:
        self._s.channels.update({c.code: c for c in channels})

    def put_segments(self, segments: Iterable[Segment]) -> None:
        self._s.segments.update({s.code: s for s in segments})

    def list_areas(self) -> list[Area]:
        return [self._s.areas[k] for k in sorted(self._s.areas)]

    def list_channels(self) -> list[Channel]:
        return [self._s.channels[k] for k in sorted(self._s.channels)]

    def list_segments(self) -> list[Segment]:
        return [self._s.segments[k] for k in sorted(self._s.segments)]

    def put_zone_table(self, table: ZoneTable) -> None:
        self._s.zone_tables[table.name] = table

    def get_zone_table(self, name: str) -> ZoneTable | None:
        return self._s.zone_tables.get(name)

    def list_zone_tables(self) -> list[ZoneTable]:
        return [self._s.zone_tables[k] for k in sorted(self._s.zone_tables)]

    def get_catalog_rule_sources(self) -> list[RuleSource]:
        return [self._s.rule_sources[k] for k in sorted(self._s.rule_sources)]

    def set_catalog_rule_sources(self, sources: Iterable[RuleSource]) -> None:
        self._s.rule_sources = {s.path: s for s in sources}

    def add_version(self, info: CatalogVersionInfo, content: CatalogContent) -> None:
        if info.number in self._s.versions:
            raise ConcurrentWrite(f"catalog version {info.number} was published concurrently")
        self._s.versions[info.number] = (info, content)

    def list_versions(self) -> list[CatalogVersionInfo]:
        return [self._s.versions[n][0] for n in sorted(self._s.versions)]

    def get_version(self, number: int) -> CatalogVersionInfo | None:
        found = self._s.versions.get(number)
        return found[0] if found else None

    def load_version_content(self, number: int) -> CatalogContent:
        found = self._s.versions.get(number)
        if found is None:
            raise NotFound(f"catalog version {number} does not exist")
        return found[1]


class InMemoryGovernance:
    """GovernanceRepository over the in-memory state."""

    def __init__(self, state: _State) -> None:
        self._s = state

    def add_audit_entry(self, entry: AuditEntry) -> None:
        self._s.audit.append(replace(entry, id=len(self._s.audit) + 1))

    def list_audit_entries(
        self, before_id: int = 0, limit: int = 100, principal: str = ""
    ) -> list[AuditEntry]:
        chosen = [
            e
            for e in reversed(self._s.audit)
            if (not before_id or e.id < before_id) and (not principal or e.principal == principal)
        ]
        return chosen[:limit]

    def draft_writers(self) -> set[str]:
        writers: set[str] = set()
        for entry in self._s.audit:
            if entry.outcome is not Outcome.OK:
                continue
            if entry.action is Action.PUBLISH:
                writers = set()
            elif entry.action in DRAFT_WRITES:
                writers.add(entry.principal)
        return writers

    def get_review(self) -> Review | None:
        return self._s.review[0] if self._s.review else None

    def set_review(self, review: Review | None) -> None:
        self._s.review = [] if review is None else [review]

    def put_sign_off(self, sign_off: SignOff) -> None:
        self._s.sign_offs[sign_off.number] = sign_off

    def sign_offs(self) -> dict[int, SignOff]:
        return dict(self._s.sign_offs)


class InMemoryUnitOfWork:
    """Transactions over an in-memory state: work on a copy, swap it in on commit."""

    def __init__(self) -> None:
        self._committed = _State()
        self._working: _State | None = None
        self.catalog: CatalogRepository = InMemoryRepository(self._committed)
        self.governance: GovernanceRepository = InMemoryGovernance(self._committed)

    def __enter__(self) -> Self:
        self._working = copy.copy(self._committed)
        for name, value in vars(self._committed).items():
            setattr(self._working, name, copy.copy(value))
        self.catalog = InMemoryRepository(self._working)
        self.governance = InMemoryGovernance(self._working)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._working = None
        self.catalog = InMemoryRepository(self._committed)
        self.governance = InMemoryGovernance(self._committed)

    def commit(self) -> None:
        if self._working is not None:
            self._committed = self._working
            self.__enter__()

    def rollback(self) -> None:
        if self._working is not None:
            self.__enter__()
