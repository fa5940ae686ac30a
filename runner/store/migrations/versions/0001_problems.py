"""Problems, their events and runs (campaign-guard 0.3).

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("selection", sa.Text, nullable=False, server_default=""),
        sa.Column("evaluated_at", sa.DateTime, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("results", sa.Integer, nullable=False, server_default="0"),
        sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
        sa.Column("host", sa.String(255), nullable=False, server_default=""),
    )
    op.create_table(
        "problems",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("localization", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("cause", sa.Text, nullable=False, server_default=""),
        sa.Column("hint", sa.Text, nullable=False, server_default=""),
        sa.Column("campaign", sa.String(200)),
        sa.Column("owner", sa.String(200)),
        sa.Column("location", sa.String(500)),
        sa.Column("source", sa.String(200)),
        sa.Column("observed", sa.Text),
        sa.Column("expected", sa.Text, nullable=False, server_default=""),
        sa.Column("samples", sa.Text),
        sa.Column("first_seen", sa.DateTime, nullable=False),
        sa.Column("last_seen", sa.DateTime, nullable=False),
        sa.Column("last_evaluated_at", sa.DateTime, nullable=False),
        sa.Column("resolved_at", sa.DateTime),
        sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
        sa.Column("regressions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("streak", sa.Integer, nullable=False, server_default="1"),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("muted_until", sa.DateTime),
    )
    op.create_index("ix_problems_status_severity", "problems", ["status", "severity", "first_seen"])
    op.create_index("ix_problems_last_seen", "problems", ["last_seen"])
    op.create_index("ix_problems_check", "problems", ["check_id"])
    op.create_index("ix_problems_campaign", "problems", ["campaign"])
    op.create_table(
        "problem_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("problem_id", sa.Integer, sa.ForeignKey("problems.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("actor", sa.String(200)),
        sa.Column("note", sa.Text),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("observed", sa.Text),
    )
    op.create_index("ix_problem_events_problem", "problem_events", ["problem_id", "id"])


def downgrade() -> None:
    op.drop_table("problem_events")
    op.drop_table("problems")
    op.drop_table("runs")
