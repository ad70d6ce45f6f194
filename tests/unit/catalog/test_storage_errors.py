"""Database failures leave the store as catalog errors that say what happened: the database
out of space, memory or connections is StorageFull, one unreachable, going away or read-only
is StorageUnavailable, a lock held too long is a ConcurrentWrite, and a statement refused for
a reason of ours stays what it is (a bug). Every error here is the driver's own, raised by a
real SQLite file or the real PostgreSQL server; a failed write leaves the store as it was."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from catalog.errors import (
    CatalogError,
    ConcurrentWrite,
    StorageCorrupt,
    StorageFull,
    StorageUnavailable,
)
from catalog.migrations import upgrade
from catalog.model import ZoneTable
from catalog.sqlstore import SqlUnitOfWork, create_engine_for, storage_error, storage_errors
from tests.support.databases import (
    migrated_database,
    postgres_server_url,
    temporary_postgres_database,
)

PG = pytest.mark.postgres
NO_LIMIT = 1_073_741_823  # SQLite's default max_page_count


def _zones(count: int, name: str = "big") -> ZoneTable:
    return ZoneTable(name, tuple((f"86{i:08d}", "national") for i in range(count)))


def _write(
    engine: Engine,
    *tables: ZoneTable,
    read_only: bool = False,
    kill_between: Callable[[], None] | None = None,
) -> None:
    """One unit of work storing `tables` (in a read-only transaction if asked; calling
    `kill_between` after the first table, mid-transaction)."""
    with SqlUnitOfWork(engine) as uow:
        if read_only:
            uow._tx.session.execute(text("SET TRANSACTION READ ONLY"))
        for i, table in enumerate(tables):
            if i == 1 and kill_between is not None:
                kill_between()
            uow.catalog.put_zone_table(table)
        uow.commit()


def _names(engine: Engine) -> list[str]:
    with SqlUnitOfWork(engine) as uow:
        return [t.name for t in uow.catalog.list_zone_tables()]


def _fault(engine: Engine, sql: str) -> CatalogError | None:
    """What `storage_error` makes of the error the database raises for `sql`."""
    with engine.connect() as connection, pytest.raises(DBAPIError) as caught:
        connection.execute(text(sql))
    return storage_error(caught.value, engine.url)


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    upgrade(url)
    engine = create_engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- SQLite ------------------------------------------------------------------------------


def test_sqlite_full_is_storage_full_and_the_write_leaves_nothing(sqlite_store: Engine) -> None:
    _write(sqlite_store, _zones(10, "small"))
    limit = [NO_LIMIT]

    @event.listens_for(sqlite_store, "begin")
    def no_growth(connection: Connection) -> None:  # SQLite's own SQLITE_FULL, at this size
        connection.exec_driver_sql(f"PRAGMA max_page_count = {limit[0]}")

    with sqlite_store.connect() as connection:
        limit[0] = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
    with pytest.raises(StorageFull) as caught:
        _write(sqlite_store, _zones(20_000))
    assert str(caught.value) == (
        "the catalog database is out of disk space: database or disk is full"
    )
    assert caught.value.resource == "disk space"
    assert isinstance(caught.value.__cause__, DBAPIError)
    assert _names(sqlite_store) == ["small"]  # nothing landed; reads still work
    limit[0] = NO_LIMIT  # room again: the same write goes through
    _write(sqlite_store, _zones(20_000))
    assert _names(sqlite_store) == ["big", "small"]


def test_sqlite_read_only_and_unopenable_files_are_unavailable(
    sqlite_store: Engine, tmp_path: Path
) -> None:
    database = sqlite_store.url.database
    read_only = create_engine_for(f"sqlite:///file:{database}?mode=ro&uri=true")
    try:
        with pytest.raises(StorageUnavailable) as caught:
            _write(read_only, _zones(1))
        assert "attempt to write a readonly database" in str(caught.value)
    finally:
        read_only.dispose()
    missing = create_engine_for(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite'}")
    try:
        with pytest.raises(StorageUnavailable) as caught:
            _names(missing)
        assert str(caught.value) == (
            "the catalog database is unavailable: unable to open database file"
        )
    finally:
        missing.dispose()


def test_sqlite_locked_by_another_writer_is_a_concurrent_write(sqlite_store: Engine) -> None:
    holder = sqlite3.connect(str(sqlite_store.url.database), isolation_level=None)
    impatient = create_engine_for(f"{sqlite_store.url}?timeout=0.05")
    try:
        holder.execute("BEGIN IMMEDIATE")  # holds the write lock
        with pytest.raises(ConcurrentWrite) as caught:
            _write(impatient, _zones(1))
        assert "database is locked" in str(caught.value)
    finally:
        holder.rollback()
        holder.close()
        impatient.dispose()


def test_a_statement_refused_for_our_own_reasons_is_left_as_a_bug(sqlite_store: Engine) -> None:
    assert _fault(sqlite_store, "SELECT * FROM no_such_table") is None
    with (
        pytest.raises(SQLAlchemyError),
        storage_errors(sqlite_store.url),  # passes it through
        sqlite_store.connect() as connection,
    ):
        connection.execute(text("SELECT * FROM no_such_table"))


def test_no_pooled_connection_free_in_time_is_storage_full(sqlite_store: Engine) -> None:
    """Every connection of the pool busy past its timeout (SQLAlchemy's own TimeoutError)."""
    one = create_engine(sqlite_store.url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    try:
        with one.connect(), pytest.raises(StorageFull) as caught:  # the only one, held
            _names(one)
        assert caught.value.resource == "connections"
        assert "QueuePool limit of size 1 overflow 0 reached" in str(caught.value)
    finally:
        one.dispose()


# --- PostgreSQL --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_store(postgres_server: URL, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated database for the tests that only make it refuse things (none writes)."""
    with migrated_database("postgres", tmp_path_factory.mktemp("pg")) as url:
        engine = create_engine_for(url)
        try:
            yield engine
        finally:
            engine.dispose()


#: SQLSTATE -> (class, message prefix): raised by the server itself (PL/pgSQL RAISE with that
#: ERRCODE gives the driver's own exception class for it, e.g. psycopg.errors.DiskFull).
RAISED = {
    "53100": (StorageFull, "the catalog database is out of disk space: "),
    "53200": (StorageFull, "the catalog database is out of memory: "),
    "53300": (StorageFull, "the catalog database is out of connections: "),
    "57P01": (StorageUnavailable, "the catalog database is unavailable: "),
    "57P03": (StorageUnavailable, "the catalog database is unavailable: "),
    "08006": (StorageUnavailable, "the catalog database is unavailable: "),
    "58030": (StorageUnavailable, "the catalog database is unavailable: "),
    "40001": (ConcurrentWrite, "a concurrent writer holds the data: "),
    "55P03": (ConcurrentWrite, "a concurrent writer holds the data: "),
}


@PG
@pytest.mark.parametrize("sqlstate", sorted(RAISED))
def test_postgres_states_by_class(pg_store: Engine, sqlstate: str) -> None:
    raised = f"RAISE EXCEPTION 'state %', '{sqlstate}' USING ERRCODE = '{sqlstate}'"
    error = _fault(pg_store, f"DO $$ BEGIN {raised}; END $$")
    cls, prefix = RAISED[sqlstate]
    assert type(error) is cls
    assert str(error).startswith(prefix)
    assert f"state {sqlstate}" in str(error)
    assert "CONTEXT" not in str(error)  # the primary message only, on one line


@PG
def test_postgres_read_only_transaction_is_unavailable(pg_store: Engine) -> None:
    """What a standby says to a write after a failover (25006)."""
    with pytest.raises(StorageUnavailable) as caught:
        _write(pg_store, _zones(1), read_only=True)
    assert "read-only transaction" in str(caught.value)


@PG
def test_postgres_bug_is_left_as_a_bug(pg_store: Engine) -> None:
    assert _fault(pg_store, "SELECT * FROM no_such_table") is None
    assert _fault(pg_store, "SELEKT 1") is None


@PG
def test_postgres_refusing_connections_is_unavailable_without_the_password(
    postgres_server: URL,
) -> None:
    closed = postgres_server.set(port=1, password="sekrit-pw")  # nothing listens on port 1
    engine = create_engine_for(closed.render_as_string(hide_password=False))
    try:
        with pytest.raises(StorageUnavailable) as caught:
            _names(engine)
        assert str(caught.value).startswith(
            'the catalog database is unavailable: connection failed: connection to server at "'
        )
        assert "\n" not in str(caught.value)
    finally:
        engine.dispose()
    # a message that does repeat it (a role named like its password): masked
    name = f"tariff_t_{secrets.token_hex(4)}"
    echoed = postgres_server.set(username=name, password=name)
    engine = create_engine_for(echoed.render_as_string(hide_password=False))
    try:
        with pytest.raises(StorageUnavailable) as caught:
            _names(engine)
        assert 'role "***" does not exist' in str(caught.value)
        assert name not in str(caught.value)
    finally:
        engine.dispose()


@PG
def test_postgres_out_of_connection_slots_is_storage_full(postgres_server: URL) -> None:
    role = f"tariff_t_{secrets.token_hex(4)}"
    admin = create_engine_for(postgres_server.render_as_string(hide_password=False))
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0'))
        engine = create_engine_for(
            postgres_server.set(username=role).render_as_string(hide_password=False)
        )
        try:
            with pytest.raises(StorageFull) as caught:
                _names(engine)
            assert caught.value.resource == "connections"
            assert "too many connections for role" in str(caught.value)
        finally:
            engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


@PG
def test_postgres_connection_killed_mid_transaction_is_unavailable_then_replaced(
    postgres_server: URL,
) -> None:
    """The server ends the connection of an open unit of work (an operator, a restart):
    that unit of work fails as UNAVAILABLE with nothing written, and the next one gets a
    fresh connection by itself (the pool pings before handing one out)."""
    with temporary_postgres_database(postgres_server_url()) as url:
        upgrade(url)
        engine = create_engine_for(url)
        admin = create_engine_for(postgres_server.render_as_string(hide_password=False))
        database = make_url(url).database

        def kill_connections() -> None:
            with admin.begin() as connection:
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": database},
                )

        try:
            with pytest.raises(StorageUnavailable) as caught:
                _write(engine, _zones(1), _zones(1, "second"), kill_between=kill_connections)
            assert "terminating connection due to administrator command" in str(caught.value)
            kill_connections()  # the pooled connection dies idle: nobody notices
            assert _names(engine) == []
        finally:
            engine.dispose()
            admin.dispose()


def test_a_file_that_is_not_a_database_is_storage_corrupt(tmp_path: Path) -> None:
    """SQLITE_NOTADB (and SQLITE_CORRUPT, PostgreSQL XX001/XX002) is no bug of ours and no
    outage that a retry fixes: the store says the database is damaged (DATA_LOSS)."""
    path = tmp_path / "not-a-database.sqlite"
    path.write_bytes(b"this is a text file, not SQLite's 100-byte header" * 100)
    engine = create_engine_for(f"sqlite:///{path}")
    try:
        with pytest.raises(StorageCorrupt) as caught, SqlUnitOfWork(engine) as uow:
            uow.catalog.list_zone_tables()
    finally:
        engine.dispose()
    assert "damaged or not a database: file is not a database" in str(caught.value)
