"""Notifications: matched problem events, the outbox of messages, and each subscription's place.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subscription", sa.String(200), nullable=False),
        sa.Column("problem_id", sa.Integer, sa.ForeignKey("problems.id", ondelete="CASCADE"), nullable=False),
        sa.Column("event_id", sa.Integer),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(400), nullable=False, unique=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message_id", sa.Integer),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_notifications_subscription_state", "notifications", ["subscription", "state"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(400), nullable=False, unique=True),
        sa.Column("subscription", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipients", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("items", sa.Integer, nullable=False, server_default="0"),
        sa.Column("more", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("claimed_by", sa.String(32)),
        sa.Column("claimed_until", sa.DateTime),
    )
    op.create_index("ix_outbox_status_next", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_subscription_created", "outbox", ["subscription", "created_at"])
    op.create_table(
        "notify_state",
        sa.Column("subscription", sa.String(200), primary_key=True),
        sa.Column("cursor", sa.Integer, nullable=False),
        sa.Column("digest_until", sa.DateTime),
    )


def downgrade() -> None:
    op.drop_table("notify_state")
    op.drop_table("outbox")
    op.drop_table("notifications")
