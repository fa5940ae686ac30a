"""The logical data contract (SPEC section 2): every check is written against these datasets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.types import TypeEngine

DATASETS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "customer_type", "created_at"),
    "target_group_members": ("campaign_id", "element_id", "run_date", "customer_id", "customer_type"),
    "launches": ("launch_id", "campaign_id", "element_id", "launched_at", "mode", "clients", "status"),
    "messages": (
        "message_id",
        "launch_id",
        "campaign_id",
        "element_id",
        "customer_id",
        "channel",
        "status",
        "created_at",
    ),
    "message_attributes": ("message_id", "name", "value"),
    "bonus_accruals": ("accrual_id", "launch_id", "campaign_id", "element_id", "customer_id", "amount", "created_at"),
    "promo_codes": ("pool_id", "code", "code_type", "status", "customer_id", "issued_at"),
    "job_runs": ("job_name", "started_at", "finished_at", "status"),
    "error_log": ("logged_at", "code", "subcode", "message", "campaign_id", "customer_id"),
    "dumps": ("occurred_at", "program", "message"),
    "queue_samples": ("queue_name", "sampled_at", "size"),
    "transactions": ("occurred_at", "store_id", "status", "error_code", "critical"),
    "webhook_calls": ("called_at", "webhook_id", "campaign_id", "status_code"),
}


# Columns whose values come from a fixed list: compared trimmed and case-insensitively (an SMS gateway
# that writes "FAILED " means failed). The dataset mapping lower-cases and trims them in SQL, so every
# check - the built-in ones and the repository's own SQL - sees one spelling.
NORMALIZED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_type",),
    "target_group_members": ("customer_type",),
    "launches": ("mode", "status"),
    "messages": ("channel", "status"),
    "promo_codes": ("code_type", "status"),
    "job_runs": ("status",),
    "transactions": ("status",),
}

# The known values of the vocabulary columns; anything else is counted and reported
# (monitor.unknown_values). customer_type's vocabulary is thresholds.customer_types.
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("launches", "mode"): ("live", "test"),
    ("launches", "status"): ("completed", "running", "cancelled", "failed", "not_released"),
    ("messages", "channel"): ("email", "sms", "push", "web"),
    ("messages", "status"): ("prepared", "queued", "sent", "delivered", "failed"),
    ("promo_codes", "status"): ("free", "issued", "expired"),
    ("job_runs", "status"): ("succeeded", "failed", "cancelled", "running"),
}


def vocabularies(customer_types: Iterable[str]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(dataset, column) -> the known values, customer types being the repository's (thresholds)."""
    known = dict(VOCABULARIES)
    types = tuple(str(kind).strip().lower() for kind in customer_types)
    for dataset in ("customers", "target_group_members"):
        known[(dataset, "customer_type")] = types
    return known


# Columns the contract allows to be NULL; a NULL elsewhere is dirty data (`sources check` counts it).
NULLABLE: dict[str, tuple[str, ...]] = {
    "customers": ("customer_type",),
    "target_group_members": ("customer_type",),
    "launches": ("clients",),
    "messages": ("launch_id",),
    "message_attributes": ("value",),
    "bonus_accruals": ("launch_id",),
    "promo_codes": ("customer_id", "issued_at"),
    "job_runs": ("finished_at",),
    "error_log": ("subcode", "message", "campaign_id", "customer_id"),
    "dumps": ("message",),
    "transactions": ("store_id", "error_code", "critical"),
    "webhook_calls": ("campaign_id", "status_code"),
}

# Rows sharing these columns are one row replicated: counted once.
IDENTITY: dict[str, str] = {"launches": "launch_id", "messages": "message_id", "bonus_accruals": "accrual_id"}


def column_type(column: str) -> TypeEngine[Any] | None:
    """The contract's type of a column, where the dialects differ: times, dates, numbers, booleans.

    Typed columns make SQLAlchemy bind Python values the way each dialect stores them
    (SQLite keeps times as text, MariaDB booleans as 0/1). SQLAlchemy is imported here, not at the
    top: validate reads the contract's names and must stay quick.
    """
    import sqlalchemy as sa

    if is_time(column):
        return sa.DateTime()
    types: dict[str, TypeEngine[Any]] = {
        "run_date": sa.Date(),
        "clients": sa.Integer(),
        "size": sa.Integer(),
        "status_code": sa.Integer(),
        "amount": sa.Numeric(12, 2),
        "critical": sa.Boolean(),
    }
    return types.get(column)


def is_time(column: str) -> bool:
    return column.endswith("_at")


def time_columns(dataset: str) -> list[str]:
    """The columns of a dataset that hold moments: what a monitored dataset's timestamp_column may name."""
    return [column for column in DATASETS[dataset] if is_time(column)]


def time_kind(logical: str) -> str:
    """What a time kept as text holds: a date (run_date) or a moment."""
    return "date" if logical == "run_date" else "datetime"
