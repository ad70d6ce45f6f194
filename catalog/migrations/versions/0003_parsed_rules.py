"""Parsed rule sources cached by content key (issue 16: installs reuse other processes'
parses; catalog.parse_store).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "parsed_rule",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("format", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("key", "format", name="pk_parsed_rule"),
    )


def downgrade() -> None:
    op.drop_table("parsed_rule")
