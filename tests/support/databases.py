"""Throw-away databases for tests: a migrated SQLite file or a PostgreSQL database of its own.

A database per test costs ~100 ms on PostgreSQL and keeps tests independent of each other and
of the order they run in; `WITH (FORCE)` drops it even if a test leaked a connection.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from catalog.migrations import upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DATABASE_PREFIX = "tariff_t_"


def postgres_server_url() -> URL:
    """The server tests create their databases on (any database there serves to connect)."""
    url = make_url(os.environ.get("TARIFF_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _admin_engine(server: URL) -> Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    return create_engine(
        server,
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
        connect_args={"connect_timeout": 5},
    )


def postgres_unavailable(server: URL) -> str | None:
    """Why the server cannot be used, or None when it answers."""
    engine = _admin_engine(server)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        shown = server.render_as_string(hide_password=True)
        return f"PostgreSQL at {shown} is unreachable: {exc.orig}"
    finally:
        engine.dispose()
    return None


@contextmanager
def temporary_postgres_database(server: URL) -> Iterator[str]:
    """Create an empty uniquely named database, yield its URL, drop it afterwards."""
    name = DATABASE_PREFIX + secrets.token_hex(6)
    admin = _admin_engine(server)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def migrated_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest schema: `backend` is "sqlite" or "postgres"."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
        upgrade(url)
        yield url
    elif backend == "postgres":
        with temporary_postgres_database(postgres_server_url()) as url:
            upgrade(url)
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}")
