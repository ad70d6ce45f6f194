"""The SQLAlchemy side of `catalog.audit`: the audit log, the draft's review and the
versions' sign-offs, in the unit of work's transaction (`SqlUnitOfWork.governance`).

The audit log is append-only: this adapter only inserts and reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, Integer, String, Table, Text, delete, func, insert, select

from catalog.audit import DRAFT_WRITES, Action, AuditEntry, Outcome, Review, SignOff
from catalog.sqlstore import UtcDateTime, metadata

if TYPE_CHECKING:
    from catalog.sqlstore import _Transaction

audit_table = Table(
    "audit_entry",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("principal", String, nullable=False),
    Column("method", String, nullable=False),
    Column("action", String, nullable=False),
    Column("entity", String, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("outcome", String, nullable=False),
    Column("detail", Text, nullable=False),
)

review_table = Table(
    "draft_review",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1: one draft
    Column("content_hash", String(64), nullable=False),
    Column("submitted_by", String, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("approved_by", String, nullable=False),
    Column("approved_at", UtcDateTime, nullable=True),
)

sign_off_table = Table(
    "version_sign_off",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("authored_by", String, nullable=False),
    Column("approved_by", String, nullable=False),
    Column("published_by", String, nullable=False),
)


def _entry_from(row: Any) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        principal=row.principal,
        method=row.method,
        action=Action(row.action),
        entity=row.entity,
        revision=row.revision,
        outcome=Outcome(row.outcome),
        detail=row.detail,
        id=row.id,
    )


class SqlGovernanceRepository:
    """`catalog.audit.GovernanceRepository` over the tables above."""

    def __init__(self, transaction: _Transaction) -> None:
        self._tx = transaction

    def add_audit_entry(self, entry: AuditEntry) -> None:
        self._tx.execute(
            insert(audit_table).values(
                at=entry.at,
                principal=entry.principal,
                method=entry.method,
                action=entry.action.value,
                entity=entry.entity,
                revision=entry.revision,
                outcome=entry.outcome.value,
                detail=entry.detail,
            )
        )

    def list_audit_entries(
        self, before_id: int = 0, limit: int = 100, principal: str = ""
    ) -> list[AuditEntry]:
        t = audit_table
        statement = select(t).order_by(t.c.id.desc()).limit(limit)
        if before_id:
            statement = statement.where(t.c.id < before_id)
        if principal:
            statement = statement.where(t.c.principal == principal)
        return [_entry_from(row) for row in self._tx.execute(statement)]

    def draft_writers(self) -> set[str]:
        t = audit_table
        last_publish = self._tx.execute(
            select(func.max(t.c.id)).where(
                t.c.action == Action.PUBLISH.value, t.c.outcome == Outcome.OK.value
            )
        ).scalar_one_or_none()
        statement = select(t.c.principal).distinct()
        statement = statement.where(
            t.c.action.in_([a.value for a in DRAFT_WRITES]), t.c.outcome == Outcome.OK.value
        )
        if last_publish is not None:
            statement = statement.where(t.c.id > last_publish)
        return {row.principal for row in self._tx.execute(statement)}

    def get_review(self) -> Review | None:
        row = self._tx.execute(select(review_table)).first()
        if row is None:
            return None
        return Review(
            row.content_hash, row.submitted_by, row.submitted_at, row.approved_by, row.approved_at
        )

    def set_review(self, review: Review | None) -> None:
        self._tx.execute(delete(review_table))
        if review is not None:
            self._tx.execute(
                insert(review_table).values(
                    id=1,
                    content_hash=review.content_hash,
                    submitted_by=review.submitted_by,
                    submitted_at=review.submitted_at,
                    approved_by=review.approved_by,
                    approved_at=review.approved_at,
                )
            )

    def put_sign_off(self, sign_off: SignOff) -> None:
        self._tx.execute(
            insert(sign_off_table).values(
                number=sign_off.number,
                authored_by=sign_off.authored_by,
                approved_by=sign_off.approved_by,
                published_by=sign_off.published_by,
            )
        )

    def sign_offs(self) -> dict[int, SignOff]:
        rows = self._tx.execute(select(sign_off_table))
        return {
            r.number: SignOff(r.number, r.authored_by, r.approved_by, r.published_by) for r in rows
        }
