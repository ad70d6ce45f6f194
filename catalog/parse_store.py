"""The store's cache of parsed rule sources: opaque bytes by content key (issue 16).

A key is `dsl.parser.source_key` of a rule text (grammar, limits, path and text hashed), the
body whatever its writer encoded (rules.stored_parses: compressed JSON node data, never
code), `format` the writer's encoding version. Entries are immutable — the same key always
holds the same parse — so writes only insert, concurrent writers of one key agree, and an
entry is never updated; processes of two code versions (two formats) keep their own rows.
Every process and every restart reads the parses the others wrote.

A cache must not stop a service: a read or write that fails (database gone, disk full, the
table missing before migration 0003) is logged and answered as a miss.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Column, ColumnElement, Engine, Integer, LargeBinary, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from catalog.sqlstore import metadata

log = logging.getLogger(__name__)

#: Keys per SELECT … IN (…) (well under SQLite's bound-parameter limit).
BATCH = 500

parsed_rule_table = Table(
    "parsed_rule",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("format", Integer, primary_key=True, autoincrement=False),
    Column("body", LargeBinary, nullable=False),
)


class ParsedRuleStore:
    """Reads and inserts cache entries on its own short transactions (not the unit of work's:
    an install reads it, and a cache entry belongs to no use case)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, keys: Iterable[str], format: int) -> dict[str, bytes]:
        """The bodies stored under `keys` in `format` (other formats are misses)."""
        table = parsed_rule_table
        rows = self._select((table.c.key, table.c.body), keys, format)
        return {key: bytes(body) for key, body in rows}

    def present(self, keys: Iterable[str], format: int) -> set[str]:
        """Which of `keys` are stored in `format` (without reading their bodies)."""
        return {key for (key,) in self._select((parsed_rule_table.c.key,), keys, format)}

    def _select(
        self, columns: tuple[ColumnElement[Any], ...], keys: Iterable[str], format: int
    ) -> list[tuple[Any, ...]]:
        wanted = list(dict.fromkeys(keys))
        table = parsed_rule_table
        found: list[tuple[Any, ...]] = []
        try:
            with self._engine.connect() as connection:
                for start in range(0, len(wanted), BATCH):
                    chunk = wanted[start : start + BATCH]
                    query = select(*columns).where(table.c.key.in_(chunk), table.c.format == format)
                    found.extend(tuple(row) for row in connection.execute(query))
        except SQLAlchemyError as error:
            log.warning("parsed-rule cache not read: %s", type(error).__name__)
            return []
        return found

    def put(self, entries: Mapping[str, bytes], format: int) -> None:
        """Insert the entries not stored yet in `format` (a stored one is the same parse)."""
        if not entries:
            return
        rows = [{"key": k, "format": format, "body": body} for k, body in entries.items()]
        table = parsed_rule_table
        try:
            with self._engine.begin() as connection:
                postgres = connection.dialect.name == "postgresql"
                insert = postgresql.insert(table) if postgres else sqlite.insert(table)
                for start in range(0, len(rows), BATCH):
                    connection.execute(insert.on_conflict_do_nothing(), rows[start : start + BATCH])
        except SQLAlchemyError as error:
            log.warning("parsed-rule cache not written: %s", type(error).__name__)
