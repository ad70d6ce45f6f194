"""The SQLAlchemy 2 adapter of `catalog.repository`: tables, repository, unit of work, engines.

Definitions are stored as canonical JSON text (`catalog.codec`) rather than spread over columns:
the service reads and writes whole entities, and one column keeps SQLite and PostgreSQL, the
codec and the bundle format in step without a migration per model field. Only what storage
itself must enforce or look up by is a column: keys, the shared product/combo code namespace
and the revision used for compare-and-set.
"""

from __future__ import annotations

import json
import logging
import re
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, cast

from sqlalchemy import (
    URL,
    Column,
    CursorResult,
    DateTime,
    Dialect,
    Engine,
    Executable,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from catalog import codec
from catalog.audit import GovernanceRepository
from catalog.content import CatalogContent
from catalog.errors import (
    AlreadyExists,
    CatalogError,
    ConcurrentWrite,
    NotFound,
    StaleRevision,
    StorageCorrupt,
    StorageFull,
    StorageUnavailable,
    ValidationError,
    Violation,
)
from catalog.model import (
    Area,
    AreaLevel,
    CatalogVersionInfo,
    Channel,
    ChannelKind,
    CustomerType,
    Definition,
    EntityKind,
    EntityState,
    Entry,
    LifecycleStatus,
    RuleSource,
    Segment,
    ZoneTable,
)
from catalog.repository import OFFER_KINDS, CatalogRepository

__all__ = [
    "SqlRepository",
    "SqlUnitOfWork",
    "create_engine_for",
    "metadata",
    "storage_error",
    "storage_errors",
]

log = logging.getLogger(__name__)


class UtcDateTime(TypeDecorator[datetime]):
    """Instants in, tz-aware UTC out: SQLite keeps no offset and PostgreSQL answers in the
    session's time zone, so both are normalised here rather than by every caller."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("instants must carry a time zone")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "pk": "pk_%(table_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ix": "ix_%(table_name)s_%(column_0_name)s",
    }
)

entity_table = Table(
    "catalog_entity",
    metadata,
    Column("kind", String, nullable=False),
    Column("code", String, nullable=False),
    # The code again for products and combos, NULL for businesses: one UNIQUE constraint then
    # gives offers a shared namespace while NULLs never collide.
    Column("offer_code", String, nullable=True),
    Column("status", String, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("definition", Text, nullable=False),
    Column("published", Text, nullable=True),
    Column("published_status", String, nullable=True),
    PrimaryKeyConstraint("kind", "code"),
    UniqueConstraint("offer_code"),
)

area_table = Table(
    "catalog_area",
    metadata,
    Column("code", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("level", String, nullable=False),
    Column("parent_code", String, nullable=False),
)

channel_table = Table(
    "catalog_channel",
    metadata,
    Column("code", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("kind", String, nullable=False),
)

segment_table = Table(
    "catalog_segment",
    metadata,
    Column("code", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("customer_type", String, nullable=True),
)

zone_table_table = Table(
    "zone_table",
    metadata,
    Column("name", String, primary_key=True),
    Column("description", Text, nullable=False),
    Column("prefix_count", Integer, nullable=False),
    # "prefix,zone\n" lines: a 100k-prefix table is one value to write and read, not 100k rows.
    Column("content", Text, nullable=False),
)

rule_source_table = Table(
    "catalog_rule_source",
    metadata,
    Column("path", String, primary_key=True),
    Column("text", Text, nullable=False),
)

version_table = Table(
    "catalog_version",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("effective_from", UtcDateTime, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("description", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("business_count", Integer, nullable=False),
    Column("product_count", Integer, nullable=False),
    Column("combo_count", Integer, nullable=False),
    # zlib of the canonical JSON: versions are immutable and only ever loaded whole.
    Column("document", LargeBinary, nullable=False),
)

_VERSION_HEADER = [c for c in version_table.c if c.name != "document"]


# --- engines -------------------------------------------------------------------------------


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # isolation_level None stops the sqlite3 module from issuing BEGIN itself (it would only do
    # so before writes); `_begin_sqlite_transaction` issues it instead, so reads inside a unit
    # of work see one snapshot and migrations are transactional.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def create_engine_for(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL, configured the way this adapter needs.

    A bare `postgresql://` (or `postgres://`) URL is given the psycopg 3 driver, the only
    PostgreSQL driver the project installs. Raises ValueError for any other database.
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(parsed, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_sqlite_transaction)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")


# --- error translation ---------------------------------------------------------------------

# serialization_failure, deadlock_detected, lock_not_available (lock_timeout)
_PG_CONFLICT_STATES = frozenset({"40001", "40P01", "55P03"})
_SQLITE_UNIQUE = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
#: SQLSTATE of class 53 (insufficient resources) -> the resource that ran out
_PG_EXHAUSTED = {
    "53000": "resources",
    "53100": "disk space",
    "53200": "memory",
    "53300": "connections",
    "53400": "resources",  # configuration_limit_exceeded
}
#: SQLSTATE (besides class 08, connection exceptions) of a server that is going away,
#: starting, read-only (a standby after failover) or timing out: worth retrying later.
_PG_UNAVAILABLE_STATES = frozenset(
    {
        "25006",  # read_only_sql_transaction
        "25P03",  # idle_in_transaction_session_timeout
        "57014",  # query_canceled (statement_timeout, or an operator's pg_cancel_backend)
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up, shutting down, recovering)
        "57P04",  # database_dropped
        "57P05",  # idle_session_timeout
        "58000",  # system_error
        "58030",  # io_error
    }
)
#: 53300 as a server refusing a new connection words it (psycopg has no SQLSTATE then)
_PG_NO_SLOTS = re.compile(r"too many clients already|too many connections for")
_SQLITE_EXHAUSTED = {
    "SQLITE_FULL": "disk space",
    "SQLITE_NOMEM": "memory",
    # growing the WAL index (-shm) failed: what a full disk does to a process opening the
    # database, even to read (SQLite's documentation says as much)
    "SQLITE_IOERR_SHMSIZE": "disk space",
}
_SQLITE_UNAVAILABLE = ("SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_READONLY")


def _violated_table(orig: BaseException) -> str:
    diag = getattr(orig, "diag", None)
    if diag is not None:
        return str(diag.table_name or "")
    # sqlite3: "UNIQUE constraint failed: catalog_version.number"
    _, _, columns = str(orig).partition(": ")
    return columns.split(".", 1)[0]


def _reason(orig: BaseException, url: URL | None) -> str:
    """The driver's message on one line (PostgreSQL's primary message without its context),
    with the URL's password masked should a driver ever repeat it."""
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = " ".join(str(primary or orig).split()) or type(orig).__name__
    password = url.password if url is not None else None
    if isinstance(password, str) and len(password) >= 4:
        text = text.replace(password, "***")
    return text


def storage_error(exc: SQLAlchemyError, url: URL | None = None) -> CatalogError | None:
    """The catalog error a database failure stands for, None for a bug (a statement the
    database refused for a reason of ours): a write conflict (AlreadyExists, ConcurrentWrite),
    a database out of space, memory or connections (StorageFull) or one that is unreachable,
    going away or read-only (StorageUnavailable). `url` is the database's, for masking."""
    if isinstance(exc, PoolTimeout):  # every pooled connection stayed busy
        return StorageFull("connections", _reason(exc, url))
    if isinstance(exc, DisconnectionError):
        return StorageUnavailable(_reason(exc, url))
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return None
    orig = exc.orig
    sqlstate = str(getattr(orig, "sqlstate", None) or "")
    errorname = str(getattr(orig, "sqlite_errorname", ""))
    if sqlstate == "23505" or errorname in _SQLITE_UNIQUE:
        if _violated_table(orig) == entity_table.name:
            return AlreadyExists(f"an entity with that code already exists: {orig}")
        return ConcurrentWrite(f"a concurrent writer stored the same key first: {orig}")
    if sqlstate in _PG_CONFLICT_STATES or errorname.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return ConcurrentWrite(
            f"a concurrent writer holds the data: {_reason(orig, url)}; read again and retry"
        )
    reason = _reason(orig, url)
    if errorname.startswith("SQLITE_IOERR"):  # "disk I/O error" alone says too little
        reason = f"{reason} ({errorname})"
    if sqlstate in ("XX001", "XX002") or errorname in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
        return StorageCorrupt(reason)  # data_corrupted, index_corrupted
    exhausted = _PG_EXHAUSTED.get(sqlstate) or _SQLITE_EXHAUSTED.get(errorname)
    # psycopg gives no SQLSTATE for a refused connection, only the server's words
    if exhausted is None and not sqlstate and _PG_NO_SLOTS.search(reason):
        exhausted = "connections"
    if exhausted is not None:
        return StorageFull(exhausted, reason)
    if (
        sqlstate.startswith("08")
        or sqlstate in _PG_UNAVAILABLE_STATES
        or errorname.startswith(_SQLITE_UNAVAILABLE)
        or exc.connection_invalidated
        # no SQLSTATE: the connection failed (refused, reset, timed out, turned away)
        or (not sqlstate and not errorname and isinstance(exc, OperationalError | InterfaceError))
    ):
        return StorageUnavailable(reason)
    return None


@contextmanager
def storage_errors(url: URL | None = None) -> Iterator[None]:
    """Raise the catalog error a database failure inside the block stands for (see
    `storage_error`); anything else passes through unchanged."""
    try:
        yield
    except SQLAlchemyError as exc:
        error = storage_error(exc, url)
        if error is None:
            raise
        raise error from exc


# --- unit of work --------------------------------------------------------------------------


class _Transaction:
    """The session of the open `with` block, shared by the unit of work and its repository.

    After a statement fails, PostgreSQL ignores everything up to ROLLBACK and then turns COMMIT
    into a silent rollback; `failed` makes commit refuse instead, on both databases. Database
    failures leave as catalog errors (`storage_error`), the transaction rolled back.
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._session: Session | None = None
        self.failed = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work inside a `with` block")
        return self._session

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def open(self) -> None:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        self._session = self._sessions()
        self.failed = False

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                _discard(session)
            finally:
                session.close()

    def execute(self, statement: Executable, params: Any = None) -> CursorResult[Any]:
        """Run one statement; conflicts and database failures come back as catalog errors."""
        if self.failed:
            raise RuntimeError("an earlier statement failed: roll back before going on")
        try:
            return cast(CursorResult[Any], self.session.execute(statement, params))
        except SQLAlchemyError as exc:
            self.failed = True
            error = self._translated(exc)
            if error is None:
                raise
            raise error from exc

    def commit(self) -> None:
        if self._session is None:
            return
        if self.failed:
            _discard(self._session)
            self.failed = False
            raise RuntimeError("an earlier statement failed, so the transaction was rolled back")
        try:
            self._session.commit()
        except SQLAlchemyError as exc:
            _discard(self._session)
            error = self._translated(exc)
            if error is None:
                raise
            raise error from exc

    def rollback(self) -> None:
        if self._session is not None:
            _discard(self._session)
            self.failed = False

    def _translated(self, exc: SQLAlchemyError) -> CatalogError | None:
        bind = self._sessions.kw.get("bind")
        return storage_error(exc, bind.url if isinstance(bind, Engine) else None)


def _discard(session: Session) -> None:
    """Roll back. When the connection died with the transaction there is nothing left to roll
    back (the server dropped it; the pool replaces the connection), so that failure is not
    news: the failure that ended the transaction, if any, is already on its way."""
    try:
        session.rollback()
    except SQLAlchemyError:
        log.debug("rolling back on a broken connection", exc_info=True)


class SqlUnitOfWork:
    """One database transaction per `with` block; leaving the block rolls back what was not
    committed. Reusable, but not by two threads at once: give each its own unit of work."""

    catalog: CatalogRepository

    def __init__(self, bind: Engine | sessionmaker[Session]) -> None:
        sessions = bind if isinstance(bind, sessionmaker) else sessionmaker(bind)
        self._tx = _Transaction(sessions)
        self.catalog = SqlRepository(self._tx)
        self.governance: GovernanceRepository = _governance.SqlGovernanceRepository(self._tx)

    def __enter__(self) -> Self:
        self._tx.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._tx.close()

    def commit(self) -> None:
        """Raises AlreadyExists or ConcurrentWrite when a concurrent writer got there first,
        StorageFull or StorageUnavailable when the database failed (rolled back; nothing
        written), RuntimeError (after rolling back) when a statement of this transaction
        failed."""
        self._tx.commit()

    def rollback(self) -> None:
        self._tx.rollback()


# --- repository ----------------------------------------------------------------------------


def _dumps_definition(definition: Definition | None) -> str | None:
    if definition is None:
        return None
    return codec.dumps(codec.encode_definition(definition))


def _loads_definition(kind: EntityKind, text: str, where: str) -> Definition:
    return codec.decode_definition(kind, json.loads(text), where)


def _entity_values(entry: Entry) -> dict[str, Any]:
    return {
        "kind": entry.kind.value,
        "code": entry.code,
        "offer_code": entry.code if entry.kind in OFFER_KINDS else None,
        "status": entry.state.status.value,
        "revision": entry.state.revision,
        "version": entry.state.version,
        "created_at": entry.state.created_at,
        "updated_at": entry.state.updated_at,
        "definition": _dumps_definition(entry.definition),
        "published": _dumps_definition(entry.published),
        "published_status": entry.published_status.value if entry.published_status else None,
    }


def _entry_from(row: Any) -> Entry:
    kind = EntityKind(row.kind)
    where = f"{kind.value} {row.code!r}"
    return Entry(
        definition=_loads_definition(kind, row.definition, where),
        state=EntityState(
            status=LifecycleStatus(row.status),
            revision=row.revision,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        ),
        published=(
            None
            if row.published is None
            else _loads_definition(kind, row.published, f"{where} (published)")
        ),
        published_status=(
            None if row.published_status is None else LifecycleStatus(row.published_status)
        ),
    )


def _encode_prefixes(table: ZoneTable) -> str:
    violations = [
        Violation(f"zone_table.prefixes[{i}]", "must not contain a comma or a line break")
        for i, (prefix, zone) in enumerate(table.prefixes)
        if "," in prefix or "\n" in prefix or "\n" in zone
    ]
    if violations:
        raise ValidationError(violations, f"zone table {table.name!r} cannot be stored")
    return "".join(f"{prefix},{zone}\n" for prefix, zone in table.prefixes)


def _decode_prefixes(content: str) -> tuple[tuple[str, str], ...]:
    lines = content.split("\n")
    lines.pop()  # every line ends with "\n": the last piece is always empty
    return tuple((prefix, zone) for prefix, _, zone in (ln.partition(",") for ln in lines))


def _zone_table_from(row: Any) -> ZoneTable:
    return ZoneTable(
        name=row.name, prefixes=_decode_prefixes(row.content), description=row.description
    )


def _version_from(row: Any) -> CatalogVersionInfo:
    return CatalogVersionInfo(
        number=row.number,
        effective_from=row.effective_from,
        published_at=row.published_at,
        description=row.description,
        content_hash=row.content_hash,
        business_count=row.business_count,
        product_count=row.product_count,
        combo_count=row.combo_count,
    )


class SqlRepository:
    """CatalogRepository over the tables above, inside the unit of work's transaction.

    Lists are sorted in Python so that the order is by code point, as in the in-memory store,
    whatever collation the database uses.
    """

    def __init__(self, transaction: _Transaction) -> None:
        self._tx = transaction

    # entries

    def get_entry(self, kind: EntityKind, code: str) -> Entry | None:
        t = entity_table
        row = self._tx.execute(select(t).where(t.c.kind == kind.value, t.c.code == code)).first()
        return None if row is None else _entry_from(row)

    def list_entries(self, kind: EntityKind | None = None) -> list[Entry]:
        statement = select(entity_table)
        if kind is not None:
            statement = statement.where(entity_table.c.kind == kind.value)
        entries = [_entry_from(row) for row in self._tx.execute(statement)]
        entries.sort(key=lambda e: (e.kind.value, e.code))
        return entries

    def add_entry(self, entry: Entry) -> None:
        """Raises AlreadyExists when the code is taken (offers share one namespace)."""
        inserted = self._tx.execute(self._insert_new(entity_table), _entity_values(entry))
        if inserted.rowcount == 0:
            raise AlreadyExists(f"{entry.kind.value} {entry.code!r} already exists")

    def save_entry(self, entry: Entry, expected_revision: int) -> None:
        """Compare-and-set: raises StaleRevision, or NotFound when the entity is gone."""
        t = entity_table
        key = (t.c.kind == entry.kind.value, t.c.code == entry.code)
        values = _entity_values(entry)
        del values["kind"], values["code"], values["offer_code"]
        updated = self._tx.execute(
            update(t).where(*key, t.c.revision == expected_revision).values(**values)
        )
        if updated.rowcount == 1:
            return
        current = self._tx.execute(select(t.c.revision).where(*key)).scalar_one_or_none()
        what = f"{entry.kind.value} {entry.code!r}"
        if current is None:
            raise NotFound(f"{what} does not exist")
        raise StaleRevision(what, expected_revision, current)

    def delete_entry(self, kind: EntityKind, code: str) -> None:
        t = entity_table
        self._tx.execute(delete(t).where(t.c.kind == kind.value, t.c.code == code))

    # reference data

    def put_areas(self, areas: Iterable[Area]) -> None:
        rows = {
            a.code: {
                "code": a.code,
                "name": a.name,
                "level": a.level.value,
                "parent_code": a.parent_code,
            }
            for a in areas
        }
        self._upsert(area_table, rows.values())

    def put_channels(self, channels: Iterable[Channel]) -> None:
        rows = {c.code: {"code": c.code, "name": c.name, "kind": c.kind.value} for c in channels}
        self._upsert(channel_table, rows.values())

    def put_segments(self, segments: Iterable[Segment]) -> None:
        rows = {
            s.code: {
                "code": s.code,
                "name": s.name,
                "customer_type": s.customer_type.value if s.customer_type else None,
            }
            for s in segments
        }
        self._upsert(segment_table, rows.values())

    def list_areas(self) -> list[Area]:
        rows = self._tx.execute(select(area_table))
        areas = [Area(r.code, r.name, AreaLevel(r.level), r.parent_code) for r in rows]
        return sorted(areas, key=lambda a: a.code)

    def list_channels(self) -> list[Channel]:
        rows = self._tx.execute(select(channel_table))
        channels = [Channel(r.code, r.name, ChannelKind(r.kind)) for r in rows]
        return sorted(channels, key=lambda c: c.code)

    def list_segments(self) -> list[Segment]:
        segments = [
            Segment(r.code, r.name, CustomerType(r.customer_type) if r.customer_type else None)
            for r in self._tx.execute(select(segment_table))
        ]
        return sorted(segments, key=lambda s: s.code)

    def put_zone_table(self, table: ZoneTable) -> None:
        """Raises ValidationError for a prefix with a comma or line break, which the stored
        line format cannot hold."""
        row = {
            "name": table.name,
            "description": table.description,
            "prefix_count": len(table.prefixes),
            "content": _encode_prefixes(table),
        }
        self._upsert(zone_table_table, [row])

    def get_zone_table(self, name: str) -> ZoneTable | None:
        t = zone_table_table
        row = self._tx.execute(select(t).where(t.c.name == name)).first()
        return None if row is None else _zone_table_from(row)

    def list_zone_tables(self) -> list[ZoneTable]:
        tables = [_zone_table_from(row) for row in self._tx.execute(select(zone_table_table))]
        return sorted(tables, key=lambda z: z.name)

    def get_catalog_rule_sources(self) -> list[RuleSource]:
        rows = self._tx.execute(select(rule_source_table))
        return sorted((RuleSource(r.path, r.text) for r in rows), key=lambda s: s.path)

    def set_catalog_rule_sources(self, sources: Iterable[RuleSource]) -> None:
        rows = {s.path: {"path": s.path, "text": s.text} for s in sources}
        self._tx.execute(delete(rule_source_table))
        if rows:
            self._tx.execute(insert(rule_source_table), list(rows.values()))

    # versions

    def add_version(self, info: CatalogVersionInfo, content: CatalogContent) -> None:
        """Raises ConcurrentWrite when the number is taken."""
        document = codec.dumps(codec.encode_content(content)).encode("utf-8")
        row = {
            "number": info.number,
            "effective_from": info.effective_from,
            "published_at": info.published_at,
            "description": info.description,
            "content_hash": info.content_hash,
            "business_count": info.business_count,
            "product_count": info.product_count,
            "combo_count": info.combo_count,
            "document": zlib.compress(document),
        }
        inserted = self._tx.execute(self._insert_new(version_table), row)
        if inserted.rowcount == 0:
            raise ConcurrentWrite(f"catalog version {info.number} was published concurrently")

    def list_versions(self) -> list[CatalogVersionInfo]:
        statement = select(*_VERSION_HEADER).order_by(version_table.c.number)
        return [_version_from(row) for row in self._tx.execute(statement)]

    def get_version(self, number: int) -> CatalogVersionInfo | None:
        statement = select(*_VERSION_HEADER).where(version_table.c.number == number)
        row = self._tx.execute(statement).first()
        return None if row is None else _version_from(row)

    def load_version_content(self, number: int) -> CatalogContent:
        """Raises NotFound when there is no such version."""
        t = version_table
        document = self._tx.execute(
            select(t.c.document).where(t.c.number == number)
        ).scalar_one_or_none()
        if document is None:
            raise NotFound(f"catalog version {number} does not exist")
        return codec.decode_content(json.loads(zlib.decompress(document).decode("utf-8")))

    # dialect-specific inserts

    def _insert(self, table: Table) -> postgresql.Insert | sqlite.Insert:
        if self._tx.dialect == "postgresql":
            return postgresql.insert(table)
        if self._tx.dialect == "sqlite":
            return sqlite.insert(table)
        raise ValueError(f"unsupported database {self._tx.dialect!r}: use sqlite or postgresql")

    def _insert_new(self, table: Table) -> Executable:
        """INSERT that skips a row whose key is taken (rowcount 0) instead of failing, so the
        caller gets a catalog error and a transaction that is still usable. On PostgreSQL it
        also waits for a concurrent inserter of the same key, then skips if that one commits."""
        statement = self._insert(table).on_conflict_do_nothing()
        # SQLAlchemy only keeps the rowcount of UPDATE and DELETE unless asked to.
        return statement.execution_options(preserve_rowcount=True)

    def _upsert(self, table: Table, rows: Iterable[dict[str, Any]]) -> None:
        batch = list(rows)
        if not batch:
            return
        keys = [c.name for c in table.primary_key.columns]
        statement = self._insert(table)
        changes = {c.name: statement.excluded[c.name] for c in table.c if c.name not in keys}
        self._tx.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes), batch)


# the audit log and review tables join `metadata` (the module imports this one)
from catalog import governance_store as _governance  # noqa: E402

# the parsed-rule cache table joins `metadata` too (migration 0003)
from catalog import parse_store as _parse_store  # noqa: E402, F401

# ... and the stored quotes' (migration 0004)
from catalog import quote_store as _quote_store  # noqa: E402, F401
