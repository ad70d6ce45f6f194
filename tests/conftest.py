"""Fixtures shared by every test package.

- `database_url`: a fresh, migrated database per test, once on SQLite and once on PostgreSQL.
- `uow_factory`: `factory()` gives a UnitOfWork over one fresh store per test: in memory, on
  SQLite and on PostgreSQL. The in-memory factory returns the same instance every time, as that
  store lives inside it.

PostgreSQL comes from TARIFF_TEST_POSTGRES_URL (default: the local `test` database). When it
cannot be reached its tests are skipped, unless CI is set: CI must fail rather than quietly
test SQLite alone. Deselect them with `-m "not postgres"`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import URL
from sqlalchemy.orm import sessionmaker

from catalog.repository import InMemoryUnitOfWork, UnitOfWork
from catalog.sqlstore import SqlUnitOfWork, create_engine_for
from tests.support import fuzz
from tests.support.databases import migrated_database, postgres_server_url, postgres_unavailable

POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fuzz-long",
        action="store_true",
        default=False,
        help="run the fuzz tests with many more examples (tests/support/fuzz.py)",
    )


def pytest_configure(config: pytest.Config) -> None:
    fuzz.set_long(bool(config.getoption("--fuzz-long")))


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    """The PostgreSQL server, probed once per run."""
    server = postgres_server_url()
    reason = postgres_unavailable(server)
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so PostgreSQL tests may not be skipped)")
        pytest.skip(reason)
    return server


@contextmanager
def _migrated(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgres":
        request.getfixturevalue("postgres_server")  # skips or fails when it is unreachable
    with migrated_database(backend, tmp_path) as url:
        yield url


@pytest.fixture(params=["sqlite", POSTGRES])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh database at the newest schema, dropped after the test."""
    with _migrated(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=["memory", "sqlite", POSTGRES])
def uow_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], UnitOfWork]]:
    """Units of work over one empty store, for tests that must hold on every backend."""
    if request.param == "memory":
        uow = InMemoryUnitOfWork()
        yield lambda: uow
        return
    with _migrated(request, request.param, tmp_path) as url:
        engine = create_engine_for(url)
        sessions = sessionmaker(engine)
        try:
            yield lambda: SqlUnitOfWork(sessions)
        finally:
            engine.dispose()
