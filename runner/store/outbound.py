"""The big red button's state: every stop and start, who pressed it and why; the newest counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.tables import outbound_switches


@dataclass(frozen=True)
class Stop:
    actor: str
    reason: str
    at: datetime  # naive UTC
    report: str


def current_stop(store: Store) -> Stop | None:
    """The stop in force, or None while outbound runs."""
    with store.read() as connection:
        row = connection.execute(sa.select(outbound_switches).order_by(outbound_switches.c.id.desc()).limit(1)).first()
    if row is None or row.action != "stop":
        return None
    return Stop(row.actor, row.reason, row.at, row.report)


def press(store: Store, action: str, *, actor: str, reason: str, moment: datetime, report: str) -> None:
    with store.write() as connection:
        connection.execute(
            sa.insert(outbound_switches).values(
                action=action, actor=actor, reason=reason, at=to_store(moment), report=report
            )
        )
