"""Test launches: the figures of a dry run kept with `campaign-guard dry-run --record` (the SAP test contour).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "test_launches",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("campaign", sa.String(200), nullable=False),
        sa.Column("evaluated_at", sa.DateTime, nullable=False),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("figures", sa.Text, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_test_launches_campaign", "test_launches", ["campaign", "evaluated_at"])


def downgrade() -> None:
    op.drop_index("ix_test_launches_campaign", table_name="test_launches")
    op.drop_table("test_launches")
