"""Holders: a run remembers its process (holder, pid) and an outbox lease its holder, so a killed one is taken over.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("holder", sa.String(32)))
    op.add_column("runs", sa.Column("pid", sa.Integer))
    op.add_column("outbox", sa.Column("claim_holder", sa.String(32)))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claim_holder")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("holder")
