"""Alembic environment: runs on the connection `catalog.migrations` hands over in
`config.attributes`, or on `sqlalchemy.url` when used from the alembic command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from catalog.sqlstore import create_engine_for, metadata


def _run(connection: Connection) -> None:
    # transactional_ddl: PostgreSQL always has it, and SQLite does with the BEGIN that
    # create_engine_for issues, so a failed migration leaves no half-made schema.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine_for(url)
    try:
        with engine.begin() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


_main()
