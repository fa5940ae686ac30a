"""Check-result history, the outbound switch, schedule claims; problems remember escalation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("problems", sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_index("ix_problem_events_kind_at", "problem_events", ["kind", "at"])  # slices, notifications
    op.create_table(
        "results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("localization", sa.String(32), nullable=False),
        sa.Column("campaign", sa.String(200)),
        sa.Column("owner", sa.String(200)),
        sa.Column("value", sa.Float),
        sa.Column("observed", sa.Text),
        sa.Column("evaluated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_results_check_subject_at", "results", ["check_id", "subject", "evaluated_at"])
    op.create_index("ix_results_evaluated_at", "results", ["evaluated_at"])
    op.create_table(
        "outbound_switches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("report", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "schedule_claims",
        sa.Column("schedule", sa.String(200), primary_key=True),
        sa.Column("evaluated_until", sa.DateTime),
        sa.Column("claimed_by", sa.String(32)),
        sa.Column("claimed_until", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("schedule_claims")
    op.drop_table("outbound_switches")
    op.drop_table("results")
    op.drop_index("ix_problem_events_kind_at", "problem_events")
    with op.batch_alter_table("problems") as batch:
        batch.drop_column("escalated")
