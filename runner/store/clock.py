"""The store keeps naive UTC; commands speak in aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def to_store(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def from_store(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None else None
