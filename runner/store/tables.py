"""The state store's tables as the newest migration leaves them (migrations/versions/ is the truth)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from runner.masking import mask


class Masked(sa.types.TypeDecorator[str]):
    """Free text (messages, errors, notes, evidence): masked on its way into the store, never a secret."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return mask(value) if isinstance(value, str) else value


# the newest migration: a store at this revision needs no upgrade (checked without loading Alembic)
HEAD_REVISION = "0005"

metadata = sa.MetaData()

# Times are stored as naive UTC everywhere (SQLite keeps no zone); runner.store.clock converts.
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("command", sa.String(32), nullable=False),
    sa.Column("selection", Masked, nullable=False, server_default=""),
    sa.Column("evaluated_at", sa.DateTime, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.String(16), nullable=False),  # running, done, failed, abandoned (killed)
    sa.Column("results", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.Integer, nullable=False, server_default="0"),
    sa.Column("host", sa.String(255), nullable=False, server_default=""),
    sa.Column("holder", sa.String(32)),  # the proof its process is alive (runner.store.holders)
    sa.Column("pid", sa.Integer),
)

problems = sa.Table(
    "problems",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    sa.Column("check_id", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("localization", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open, acknowledged, muted, resolved
    sa.Column("title", Masked, nullable=False),
    sa.Column("cause", Masked, nullable=False, server_default=""),
    sa.Column("hint", Masked, nullable=False, server_default=""),
    sa.Column("campaign", sa.String(200)),
    sa.Column("owner", sa.String(200)),
    sa.Column("location", sa.String(500)),
    sa.Column("source", sa.String(200)),
    sa.Column("observed", Masked),  # JSON
    sa.Column("expected", Masked, nullable=False, server_default=""),
    sa.Column("samples", Masked),  # JSON list of rows
    sa.Column("first_seen", sa.DateTime, nullable=False),
    sa.Column("last_seen", sa.DateTime, nullable=False),
    sa.Column("last_evaluated_at", sa.DateTime, nullable=False),
    sa.Column("resolved_at", sa.DateTime),
    sa.Column("occurrences", sa.Integer, nullable=False, server_default="1"),
    sa.Column("regressions", sa.Integer, nullable=False, server_default="0"),
    sa.Column("streak", sa.Integer, nullable=False, server_default="1"),  # failures in a row
    sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("acknowledged_by", sa.String(200)),
    sa.Column("muted_until", sa.DateTime),
    sa.Index("ix_problems_status_severity", "status", "severity", "first_seen"),
    sa.Index("ix_problems_last_seen", "last_seen"),
    sa.Index("ix_problems_check", "check_id"),
    sa.Index("ix_problems_campaign", "campaign"),
)

problem_events = sa.Table(
    "problem_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("problem_id", sa.Integer, sa.ForeignKey("problems.id", ondelete="CASCADE"), nullable=False),
    # opened, reopened, escalated, resolved, acknowledged, muted, unmuted
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("run_id", sa.String(32)),
    sa.Column("actor", sa.String(200)),
    sa.Column("note", Masked),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("observed", Masked),  # JSON
    sa.Index("ix_problem_events_problem", "problem_id", "id"),
    sa.Index("ix_problem_events_kind_at", "kind", "at"),
)

results = sa.Table(
    "results",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(32), nullable=False),
    sa.Column("check_id", sa.String(200), nullable=False),
    sa.Column("subject", sa.String(500), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("localization", sa.String(32), nullable=False),
    sa.Column("campaign", sa.String(200)),
    sa.Column("owner", sa.String(200)),
    sa.Column("value", sa.Float),  # the observed value when it is a number: trends and 3-sigma
    sa.Column("observed", Masked),  # JSON
    sa.Column("evaluated_at", sa.DateTime, nullable=False),
    sa.Index("ix_results_check_subject_at", "check_id", "subject", "evaluated_at"),
    sa.Index("ix_results_evaluated_at", "evaluated_at"),
)

outbound_switches = sa.Table(
    "outbound_switches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action", sa.String(8), nullable=False),  # stop, start
    sa.Column("reason", Masked, nullable=False, server_default=""),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("report", Masked, nullable=False, server_default=""),  # what the source actions did
)

schedule_claims = sa.Table(
    "schedule_claims",
    metadata,
    sa.Column("schedule", sa.String(200), primary_key=True),
    sa.Column("evaluated_until", sa.DateTime),  # the newest fire time already evaluated
    sa.Column("claimed_by", sa.String(32)),  # a running run holds it
    sa.Column("claimed_until", sa.DateTime),  # a claim of a dead run is taken over (runs.holder)
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("subscription", sa.String(200), nullable=False),
    sa.Column("problem_id", sa.Integer, sa.ForeignKey("problems.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_id", sa.Integer),  # the problem event; none for reminders and escalations
    sa.Column("kind", sa.String(16), nullable=False),  # opened, reopened, escalated, resolved, reminder
    sa.Column("key", sa.String(400), nullable=False, unique=True),  # once per event and subscription
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # waiting, ready, batched, dropped
    sa.Column("message_id", sa.Integer),
    sa.Column("note", Masked),
    sa.Index("ix_notifications_subscription_state", "subscription", "state"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(400), nullable=False, unique=True),  # the idempotency key channels carry
    sa.Column("subscription", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # immediate, digest, reminder, escalation
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("recipients", sa.Text, nullable=False),  # JSON list, environment references unexpanded
    sa.Column("subject", Masked, nullable=False),
    sa.Column("body", Masked, nullable=False),
    sa.Column("format", sa.String(16), nullable=False),
    sa.Column("items", sa.Integer, nullable=False, server_default="0"),
    sa.Column("more", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),  # pending, sent, failed
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.DateTime, nullable=False),
    sa.Column("last_error", Masked),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("claimed_by", sa.String(32)),
    sa.Column("claimed_until", sa.DateTime),
    sa.Column("claim_holder", sa.String(32)),  # the claiming process: dead, its lease is taken over
    sa.Index("ix_outbox_status_next", "status", "next_attempt_at"),
    sa.Index("ix_outbox_subscription_created", "subscription", "created_at"),
)

notify_state = sa.Table(
    "notify_state",
    metadata,
    sa.Column("subscription", sa.String(200), primary_key=True),
    sa.Column("cursor", sa.Integer, nullable=False),  # the newest problem event already matched
    sa.Column("digest_until", sa.DateTime),  # the newest digest fire already sent
)

test_launches = sa.Table(
    "test_launches",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("campaign", sa.String(200), nullable=False),
    sa.Column("evaluated_at", sa.DateTime, nullable=False),  # the moment the dry run evaluated (--now)
    sa.Column("mode", sa.String(8), nullable=False),  # test (a dry run); live launches stay in the CRM
    sa.Column("figures", Masked, nullable=False),  # JSON: what `dry-run --format json` shows under figures
    sa.Column("recorded_at", sa.DateTime, nullable=False),
    sa.Index("ix_test_launches_campaign", "campaign", "evaluated_at"),
)
