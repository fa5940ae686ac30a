"""Runs, and the schedule claims that keep two overlapping runs from evaluating the same work."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.tables import runs, schedule_claims

# a run that died keeps its schedules claimed this long; longer than any healthy run
CLAIM_LEASE = timedelta(minutes=30)


def start_run(store: Store, command: str, selection: str, moment: datetime) -> str:
    run_id = uuid.uuid4().hex
    with store.write() as connection:
        connection.execute(
            sa.insert(runs).values(
                id=run_id,
                command=command,
                selection=selection,
                evaluated_at=to_store(moment),
                started_at=to_store(datetime.now(UTC)),
                status="running",
                host=f"{socket.gethostname()}"[:255],
            )
        )
    return run_id


def finish_run(store: Store, run_id: str, *, results: int, errors: int, failed: bool = False) -> None:
    with store.write() as connection:
        connection.execute(
            sa.update(runs)
            .where(runs.c.id == run_id)
            .values(
                finished_at=to_store(datetime.now(UTC)),
                status="failed" if failed else "done",
                results=results,
                errors=errors,
            )
        )
        connection.execute(
            sa.update(schedule_claims)
            .where(schedule_claims.c.claimed_by == run_id)
            .values(claimed_by=None, claimed_until=None)
        )


def claim(
    store: Store, run_id: str, fired: Mapping[str, datetime | None], *, force: bool = False
) -> tuple[set[str], dict[str, str]]:
    """Claim the schedules that fired since they were last evaluated (all of `fired` with force).

    `fired` maps a schedule to its newest fire time at or before the evaluation moment (None: it
    fires on every run). Returns the claimed schedules, and those skipped because another run that
    is still going holds them (schedule -> run id).
    """
    wall = to_store(datetime.now(UTC))
    claimed: set[str] = set()
    busy: dict[str, str] = {}
    with store.write() as connection:
        rows = {
            row.schedule: row
            for row in connection.execute(
                sa.select(schedule_claims).where(schedule_claims.c.schedule.in_(sorted(fired)))
            )
        }
        for name, fire in sorted(fired.items()):
            row = rows.get(name)
            if row is not None and row.claimed_by and row.claimed_until and row.claimed_until > wall:
                busy[name] = row.claimed_by
                continue
            latest = to_store(fire) if fire is not None else None
            seen = row.evaluated_until if row is not None else None
            if not force and latest is not None and seen is not None and latest <= seen:
                continue  # nothing new fired since its last evaluation
            values = {"claimed_by": run_id, "claimed_until": wall + CLAIM_LEASE}
            if row is None:
                connection.execute(sa.insert(schedule_claims).values(schedule=name, evaluated_until=None, **values))
            else:
                connection.execute(sa.update(schedule_claims).where(schedule_claims.c.schedule == name).values(values))
            claimed.add(name)
    return claimed, busy


def complete(store: Store, run_id: str, evaluated: Iterable[tuple[str, datetime]]) -> None:
    """Remember, per schedule, the newest fire time this run evaluated."""
    with store.write() as connection:
        for name, fire in evaluated:
            connection.execute(
                sa.update(schedule_claims)
                .where(schedule_claims.c.schedule == name, schedule_claims.c.claimed_by == run_id)
                .values(evaluated_until=to_store(fire))
            )
