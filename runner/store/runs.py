"""Runs, and the schedule claims that keep two overlapping runs from evaluating the same work.

A run's claims are tied to its holder (runner.store.holders): a claim whose run's process is dead
is taken over at once, and that run is marked abandoned. The lease still bounds every claim, as
before: a run alive but stuck for longer loses its schedules to the next run.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.holders import alive, hold
from runner.store.tables import runs, schedule_claims

# a claim lasts this long at most, longer than any healthy run (a dead run's is taken over at once)
CLAIM_LEASE = timedelta(minutes=30)


@dataclass(frozen=True)
class Busy:
    """A run still going that holds a schedule this run wanted."""

    run_id: str
    pid: int | None
    host: str
    alive: bool  # its holder answered: the process is alive (False: it cannot be asked, an older run)

    def __str__(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}, alive)" if self.alive else f"run {self.run_id}"


def start_run(store: Store, command: str, selection: str, moment: datetime) -> str:
    run_id = uuid.uuid4().hex
    holder = hold(store)
    with store.write() as connection:
        abandon_dead(store, connection)
        connection.execute(
            sa.insert(runs).values(
                id=run_id,
                command=command,
                selection=selection,
                evaluated_at=to_store(moment),
                started_at=to_store(datetime.now(UTC)),
                status="running",
                host=f"{socket.gethostname()}"[:255],
                holder=holder.id,
                pid=holder.pid,
            )
        )
    return run_id


def abandon_dead(store: Store, connection: Connection, only: Iterable[str] | None = None) -> set[str]:
    """Mark abandoned the runs still `running` whose process is dead (killed); their ids.

    Their schedule claims are released: the schedules are evaluated by the next run.
    """
    query = sa.select(runs.c.id, runs.c.holder).where(runs.c.status == "running", runs.c.holder.is_not(None))
    if only is not None:
        query = query.where(runs.c.id.in_(sorted(only)))
    dead = {row.id for row in connection.execute(query) if not alive(store, connection, row.holder)}
    if dead:
        connection.execute(sa.update(runs).where(runs.c.id.in_(sorted(dead))).values(status="abandoned"))
        connection.execute(
            sa.update(schedule_claims)
            .where(schedule_claims.c.claimed_by.in_(sorted(dead)))
            .values(claimed_by=None, claimed_until=None)
        )
    return dead


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
) -> tuple[set[str], dict[str, Busy]]:
    """Claim the schedules that fired since they were last evaluated (all of `fired` with force).

    `fired` maps a schedule to its newest fire time at or before the evaluation moment (None: it
    fires on every run). Returns the claimed schedules, and those skipped because another run that
    is still going holds them (schedule -> that run). A claim of a run whose process is dead is
    taken over.
    """
    wall = to_store(datetime.now(UTC))
    claimed: set[str] = set()
    busy: dict[str, Busy] = {}
    with store.write() as connection:
        rows = _claims(connection, fired)
        holding = {row.claimed_by for row in rows.values() if _held(row, wall)}
        if abandon_dead(store, connection, holding):
            rows = _claims(connection, fired)
        others = _runs(connection, {row.claimed_by for row in rows.values() if _held(row, wall)})
        for name, fire in sorted(fired.items()):
            row = rows.get(name)
            if row is not None and _held(row, wall):
                busy[name] = others.get(row.claimed_by) or Busy(row.claimed_by, None, "", alive=False)
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


def _claims(connection: Connection, fired: Iterable[str]) -> dict[str, sa.Row[Any]]:
    query = sa.select(schedule_claims).where(schedule_claims.c.schedule.in_(sorted(fired)))
    return {row.schedule: row for row in connection.execute(query)}


def _held(row: sa.Row[Any], wall: datetime) -> bool:
    return bool(row.claimed_by and row.claimed_until and row.claimed_until > wall)


def _runs(connection: Connection, ids: set[str]) -> dict[str, Busy]:
    """The runs holding claims, as Busy; alive when they have a holder (the dead were abandoned)."""
    query = sa.select(runs.c.id, runs.c.pid, runs.c.host, runs.c.holder).where(runs.c.id.in_(sorted(ids)))
    return {row.id: Busy(row.id, row.pid, row.host, alive=row.holder is not None) for row in connection.execute(query)}


def complete(store: Store, run_id: str, evaluated: Iterable[tuple[str, datetime]]) -> None:
    """Remember, per schedule, the newest fire time this run evaluated."""
    with store.write() as connection:
        for name, fire in evaluated:
            connection.execute(
                sa.update(schedule_claims)
                .where(schedule_claims.c.schedule == name, schedule_claims.c.claimed_by == run_id)
                .values(evaluated_until=to_store(fire))
            )
