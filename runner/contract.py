"""The logical data contract (SPEC section 2): every check is written against these datasets."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
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


def column_type(column: str) -> TypeEngine[Any] | None:
    """The contract's type of a column, where the dialects differ: times, dates, numbers, booleans.

    Typed columns make SQLAlchemy bind Python values the way each dialect stores them
    (SQLite keeps times as text, MariaDB booleans as 0/1).
    """
    if column.endswith("_at"):
        return sa.DateTime()
    return _TYPES.get(column)


_TYPES: dict[str, TypeEngine[Any]] = {
    "run_date": sa.Date(),
    "clients": sa.Integer(),
    "size": sa.Integer(),
    "status_code": sa.Integer(),
    "amount": sa.Numeric(12, 2),
    "critical": sa.Boolean(),
}
