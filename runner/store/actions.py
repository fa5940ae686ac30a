"""What people do to a problem: acknowledge, mute until a time, resolve by hand. Each is an event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from runner.errors import UsageError
from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.problems import find_problem
from runner.store.tables import problem_events, problems

ALLOWED_FROM = {
    "acknowledged": ("open", "muted"),
    "muted": ("open", "acknowledged", "muted"),
    "resolved": ("open", "acknowledged", "muted"),
}


def act(
    store: Store,
    fingerprint: str,
    status: str,
    *,
    actor: str,
    note: str | None,
    moment: datetime,
    muted_until: datetime | None = None,
) -> dict[str, Any]:
    """Move a problem to `status` by hand; the problem as it was before."""
    problem = find_problem(store, fingerprint)
    at = to_store(moment)
    with store.write() as connection:
        current = connection.execute(sa.select(problems.c.status).where(problems.c.id == problem["id"])).scalar_one()
        if current not in ALLOWED_FROM[status]:
            raise UsageError(f"problem {problem['fingerprint']} is {current}; it cannot be {status}")
        values: dict[str, Any] = {"status": status}
        if status == "acknowledged":
            values["acknowledged_by"] = actor
        if status == "muted":
            values["muted_until"] = to_store(muted_until) if muted_until else None
        if status == "resolved":
            values.update(resolved_at=at, streak=0)
        connection.execute(sa.update(problems).where(problems.c.id == problem["id"]).values(values))
        if status == "muted" and muted_until is not None:
            note = f"until {muted_until.isoformat()}" + (f": {note}" if note else "")
        connection.execute(
            sa.insert(problem_events).values(
                problem_id=problem["id"],
                kind=status,
                at=at,
                actor=actor,
                note=note,
                severity=problem["severity"],
                observed=None,
            )
        )
    return problem
