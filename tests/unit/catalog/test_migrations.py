"""The Alembic migrations build exactly the schema `catalog.sqlstore` expects, on both databases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, inspect

from catalog.migrations import current, downgrade, head, upgrade
from catalog.sqlstore import SqlUnitOfWork, create_engine_for, metadata
from tests.support import builders as b

TABLES = {
    "catalog_area",
    "catalog_channel",
    "catalog_entity",
    "catalog_rule_source",
    "catalog_segment",
    "catalog_version",
    "zone_table",
    "audit_entry",
    "draft_review",
    "version_sign_off",
    "parsed_rule",
}


def _differences(url: str, target: MetaData) -> list[Any]:
    engine = create_engine_for(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(context, target))
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_adapter_tables(database_url: str) -> None:
    assert _differences(database_url, metadata) == []


def test_the_comparison_does_notice_a_difference(database_url: str) -> None:
    """Guards the test above against comparing nothing."""
    changed = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["zone_table"].append_column(Column("extra", Integer))
    changed.tables["catalog_version"].c.content_hash.type = String(32)

    kinds = {
        diff[0][0] if isinstance(diff, list) else diff[0]
        for diff in _differences(database_url, changed)
    }

    assert {"add_column", "modify_type"} <= kinds


def test_upgrade_is_idempotent_and_keeps_data(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        with SqlUnitOfWork(engine) as uow:
            uow.catalog.put_areas(b.areas())
            uow.commit()

        upgrade(database_url)
        upgrade(engine, "head")

        assert current(database_url) == head() == "0004"
        with SqlUnitOfWork(engine) as uow:
            assert uow.catalog.list_areas() == sorted(b.areas(), key=lambda a: a.code)
    finally:
        engine.dispose()


def test_downgrade_to_base_drops_every_table_and_upgrade_restores_them(database_url: str) -> None:
    engine = create_engine_for(database_url)
    try:
        assert set(inspect(engine).get_table_names()) >= TABLES

        downgrade(engine, "base")
        assert current(engine) is None
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}

        upgrade(engine)
        assert current(engine) == head()
    finally:
        engine.dispose()
    assert _differences(database_url, metadata) == []


def test_a_new_database_has_no_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    assert current(url) is None
    upgrade(url)
    assert current(url) == head()
