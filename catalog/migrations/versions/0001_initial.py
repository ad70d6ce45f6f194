"""Initial schema: draft entities, reference data, zone tables, rule sources, versions.

Revision ID: 0001
Revises:
Create Date: 2025-01-01 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written out rather than taken from catalog.sqlstore: a migration must keep describing the
# schema as it was when it was written, whatever the adapter's tables become later.


def upgrade() -> None:
    op.create_table(
        "catalog_entity",
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("offer_code", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("published", sa.Text(), nullable=True),
        sa.Column("published_status", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "code", name="pk_catalog_entity"),
        sa.UniqueConstraint("offer_code", name="uq_catalog_entity_offer_code"),
    )
    op.create_table(
        "catalog_area",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("level", sa.String(), nullable=False),
        sa.Column("parent_code", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_catalog_area"),
    )
    op.create_table(
        "catalog_channel",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_catalog_channel"),
    )
    op.create_table(
        "catalog_segment",
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("customer_type", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("code", name="pk_catalog_segment"),
    )
    op.create_table(
        "zone_table",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("prefix_count", sa.Integer(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_zone_table"),
    )
    op.create_table(
        "catalog_rule_source",
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("path", name="pk_catalog_rule_source"),
    )
    op.create_table(
        "catalog_version",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("business_count", sa.Integer(), nullable=False),
        sa.Column("product_count", sa.Integer(), nullable=False),
        sa.Column("combo_count", sa.Integer(), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("number", name="pk_catalog_version"),
    )


def downgrade() -> None:
    for table in (
        "catalog_version",
        "catalog_rule_source",
        "zone_table",
        "catalog_segment",
        "catalog_channel",
        "catalog_area",
        "catalog_entity",
    ):
        op.drop_table(table)
