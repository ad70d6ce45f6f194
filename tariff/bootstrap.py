"""The one place where storage, services and snapshots are wired together."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from catalog import bundle, codec, migrations
from catalog.content import CatalogContent
from catalog.errors import NotFound
from catalog.model import CatalogVersionInfo
from catalog.parse_store import ParsedRuleStore
from catalog.repository import UnitOfWork
from catalog.services import CatalogService, utcnow
from catalog.snapshot import SnapshotRegistry
from catalog.sqlstore import SqlUnitOfWork, create_engine_for, storage_errors
from dsl.diagnostics import Diagnostic
from dsl.loader import use_program_cache
from dsl.program_cache import configured_directory
from rules.publish_check import FailedExample, publish_findings
from rules.sale_catalog import SaleCatalog
from rules.stored_parses import StoredParses
from tariff.ops.events import observed_build, triggered
from tariff.ops.reload import notify_published
from tariff.settings import Settings


def check_rules(content: CatalogContent) -> tuple[Diagnostic | FailedExample, ...]:
    """Every rule source of a catalog about to be published, checked together, and every
    example run (rules.publish_check)."""
    return publish_findings(content)


def settle() -> None:
    """Move everything alive now (the installed versions: large, immutable) out of the
    cyclic collector's reach: full collections then stop walking the catalog on the hot path
    (measured: compiled rating 31 -> 20 us per event in process). The price: the cyclic
    parts of a version dropped later (its compiled modules) are only freed at restart —
    bounded by the versions published in the process's life, which are few."""
    gc.freeze()


@dataclass
class App:
    """Everything a running service holds: the store, the service layer, the snapshots."""

    settings: Settings
    engine: Engine
    catalog: CatalogService
    snapshots: SnapshotRegistry[SaleCatalog]
    clock: Callable[[], datetime] = field(default=utcnow)

    def refresh(self, why: str = "reload") -> None:
        """Pick up versions published by other processes (blocking: run off the loop)."""
        with triggered(why):
            self.snapshots.sync(self.catalog.list_versions(), self.clock())
        settle()

    def close(self) -> None:
        self.engine.dispose()


class NoStore(NotFound):
    """A command that reads the catalog was pointed at a store that does not exist (creating
    an empty one in the working directory would only hide the mistake)."""


def missing_store(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist (None: it does, or the URL is a
    server's or in memory, which opening cannot create by mistake)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    name = parsed.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    path = Path(name)
    return None if path.exists() else path


def bootstrap(
    settings: Settings, clock: Callable[[], datetime] = utcnow, *, existing: bool = False
) -> App:
    """Open the database (migrating it unless told not to) and load the published snapshots.
    `existing`: for a command that only reads, a SQLite file that is not there is NoStore,
    not created. Raises StorageUnavailable or StorageFull when the database cannot serve."""
    missing = missing_store(settings.database_url) if existing else None
    if missing is not None:
        raise NoStore(
            f"no catalog store at {missing}: create one with `tariff bundle import BUNDLE` "
            "(or `tariff db upgrade` for an empty one, `tariff serve --demo` for the demo), "
            "or point --database-url / TARIFF_DATABASE_URL at an existing one"
        )
    engine = create_engine_for(settings.database_url)
    if settings.migrate:
        with storage_errors(engine.url):
            migrations.upgrade(engine)

    def uow() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    holder: list[SnapshotRegistry[SaleCatalog]] = []

    def installed(info: CatalogVersionInfo, content: CatalogContent) -> None:
        with triggered("publish"):
            holder[0].install(info, content)
        settle()
        notify_published(engine, info.number)  # other servers install it at once

    parses = StoredParses(ParsedRuleStore(engine))  # every process reuses the others' parses
    use_program_cache(configured_directory())  # ... and this machine's compiled programs

    def publish_check(content: CatalogContent) -> tuple[Diagnostic | FailedExample, ...]:
        parses.warm(content)  # read only: the publish's transaction is open (SQLite would
        return check_rules(content)  # refuse its write after ours); install saves them

    service = CatalogService(uow, clock=clock, on_publish=installed, rule_check=publish_check)
    build = observed_build(parses.around(SaleCatalog))
    registry = SnapshotRegistry(service.version_content_by_number, build)
    holder.append(registry)
    app = App(settings=settings, engine=engine, catalog=service, snapshots=registry, clock=clock)
    app.refresh("start-up")
    return app


BUNDLE_NUMBER = 1  # a bundle answered in process stands as published version 1
DRAFT_NUMBER = 0  # the draft, simulated or shadow-rated, answers as version 0


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bundle_catalog(path: Path) -> SaleCatalog:
    """A catalog bundle (directory or .zip) installed in process, as `--bundle` reads it."""
    content = bundle.read_path(path)
    info = CatalogVersionInfo(
        BUNDLE_NUMBER, _EPOCH, _EPOCH, f"bundle {path}", codec.content_hash(content), 0, 0, 0
    )
    return SaleCatalog(info, content)


def draft_catalog(preview: CatalogContent, digest: str) -> SaleCatalog:
    """The draft as it would sell once published (`catalog.publishing.preview_content`, whose
    content hash is `digest`) installed in process as version 0."""
    info = CatalogVersionInfo(DRAFT_NUMBER, _EPOCH, _EPOCH, "draft", digest, 0, 0, 0)
    return SaleCatalog(info, preview)
