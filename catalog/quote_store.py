"""`catalog.quotes.QuoteRepository` over SQLAlchemy: the `stored_quote` table (migration
0004), each call on its own short transaction (a quote belongs to no catalog change).

Acceptance is one conditional UPDATE (not yet accepted, still valid), so two servers
accepting the same quote at once cannot both succeed, on SQLite as on PostgreSQL. Database
failures leave as the catalog's storage errors (StorageUnavailable, StorageFull, ...).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Engine, Integer, LargeBinary, String, Table, insert, select, update

from catalog.errors import NotFound
from catalog.quotes import StoredQuote, not_acceptable
from catalog.sqlstore import UtcDateTime, metadata, storage_errors

quote_table = Table(
    "stored_quote",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("catalog_version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    Column("accepted_at", UtcDateTime, nullable=True),
    Column("accepted_by", String, nullable=False),
    Column("request", LargeBinary, nullable=False),
    Column("answer", LargeBinary, nullable=False),
)


def _quote_from(row: Any) -> StoredQuote:
    return StoredQuote(
        id=row.id,
        catalog_version=row.catalog_version,
        created_at=row.created_at,
        created_by=row.created_by,
        valid_until=row.valid_until,
        request=bytes(row.request),
        answer=bytes(row.answer),
        accepted_at=row.accepted_at,
        accepted_by=row.accepted_by,
    )


class SqlQuoteStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(self, quote: StoredQuote) -> None:
        with storage_errors(self._engine.url), self._engine.begin() as connection:
            connection.execute(
                insert(quote_table).values(
                    id=quote.id,
                    catalog_version=quote.catalog_version,
                    created_at=quote.created_at,
                    created_by=quote.created_by,
                    valid_until=quote.valid_until,
                    accepted_at=quote.accepted_at,
                    accepted_by=quote.accepted_by,
                    request=quote.request,
                    answer=quote.answer,
                )
            )

    def get(self, quote_id: str) -> StoredQuote:
        with storage_errors(self._engine.url), self._engine.connect() as connection:
            row = connection.execute(
                select(quote_table).where(quote_table.c.id == quote_id)
            ).first()
        if row is None:
            raise NotFound(f"quote {quote_id!r} does not exist")
        return _quote_from(row)

    def accept(self, quote_id: str, now: datetime, principal: str) -> StoredQuote:
        table = quote_table
        with storage_errors(self._engine.url), self._engine.begin() as connection:
            done = connection.execute(
                update(table)
                .where(
                    table.c.id == quote_id,
                    table.c.accepted_at.is_(None),
                    table.c.valid_until > now,
                )
                .values(accepted_at=now, accepted_by=principal)
            )
            row = connection.execute(select(table).where(table.c.id == quote_id)).first()
        if row is None:
            raise NotFound(f"quote {quote_id!r} does not exist")
        quote = _quote_from(row)
        if done.rowcount != 1:
            raise not_acceptable(quote)
        return quote
