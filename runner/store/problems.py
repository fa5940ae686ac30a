"""Reading problems: filters of `problems list`, one problem's card, the counts `run` exits on."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from runner.errors import UsageError
from runner.store.clock import from_store, to_store
from runner.store.connect import Store
from runner.store.lifecycle import UNRESOLVED
from runner.store.tables import problem_events, problems

ACTIVE = ("open", "acknowledged")  # unresolved and not muted: what `run` exits 1 on


@dataclass(frozen=True)
class ProblemFilter:
    """Every field narrows the list; empty means any."""

    statuses: Sequence[str] = UNRESOLVED
    severities: Sequence[str] = ()
    localizations: Sequence[str] = ()
    campaigns: Sequence[str] = ()  # globs
    owners: Sequence[str] = ()
    checks: Sequence[str] = ()  # globs
    opened_after: datetime | None = None  # --since
    opened_before: datetime | None = None  # --older-than
    min_occurrences: int = 0
    min_regressions: int = 0

    def where(self) -> list[ColumnElement[bool]]:
        c = problems.c
        conditions: list[ColumnElement[bool]] = []
        for column, values in ((c.status, self.statuses), (c.severity, self.severities)):
            if values:
                conditions.append(column.in_(list(values)))
        for column, values in ((c.localization, self.localizations), (c.owner, self.owners)):
            if values:
                conditions.append(column.in_(list(values)))
        for column, patterns in ((c.campaign, self.campaigns), (c.check_id, self.checks)):
            if patterns:
                conditions.append(sa.or_(*(column.like(_like(p), escape="\\") for p in patterns)))
        if self.opened_after is not None:
            conditions.append(c.first_seen >= to_store(self.opened_after))
        if self.opened_before is not None:
            conditions.append(c.first_seen <= to_store(self.opened_before))
        if self.min_occurrences:
            conditions.append(c.occurrences >= self.min_occurrences)
        if self.min_regressions:
            conditions.append(c.regressions >= self.min_regressions)
        return conditions


def _like(glob: str) -> str:
    escaped = glob.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def list_problems(store: Store, filters: ProblemFilter, limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Problems before warnings, newest first; and how many matched in all."""
    conditions = filters.where()
    query = (
        sa.select(problems)
        .where(*conditions)
        .order_by(problems.c.severity, problems.c.first_seen.desc(), problems.c.id.desc())
    )
    with store.read() as connection:
        rows = [problem_view(row) for row in connection.execute(query.limit(limit)).mappings()]
        total = len(rows)
        if limit is not None and total >= limit:
            total = connection.execute(sa.select(sa.func.count()).select_from(problems).where(*conditions)).scalar_one()
    return rows, total


def find_problem(store: Store, fingerprint: str) -> dict[str, Any]:
    """The problem whose fingerprint is, or starts with, the given one."""
    if len(fingerprint) < 4:
        raise UsageError(f"fingerprint {fingerprint!r}: give at least 4 characters")
    with store.read() as connection:
        rows = (
            connection.execute(
                sa.select(problems).where(problems.c.fingerprint.like(_like(fingerprint) + "%", escape="\\")).limit(2)
            )
            .mappings()
            .all()
        )
    if not rows:
        raise UsageError(f"no problem with fingerprint {fingerprint!r} (campaign-guard problems list --status all)")
    if len(rows) > 1:
        raise UsageError(f"fingerprint {fingerprint!r} is ambiguous: give more characters")
    return problem_view(rows[0])


def events_of(store: Store, problem_id: int) -> list[dict[str, Any]]:
    query = sa.select(problem_events).where(problem_events.c.problem_id == problem_id).order_by(problem_events.c.id)
    with store.read() as connection:
        return [
            {
                "kind": row["kind"],
                "at": _iso(row["at"]),
                "run": row["run_id"],
                "actor": row["actor"],
                "note": row["note"],
                "severity": row["severity"],
            }
            for row in connection.execute(query).mappings()
        ]


def open_problem_count(store: Store) -> tuple[int, int]:
    """Active (open or acknowledged) problems of severity problem, and of severity warning."""
    query = (
        sa.select(problems.c.severity, sa.func.count())
        .where(problems.c.status.in_(ACTIVE))
        .group_by(problems.c.severity)
    )
    with store.read() as connection:
        counts: dict[str, int] = {severity: count for severity, count in connection.execute(query)}
    return counts.get("problem", 0), counts.get("warning", 0)


def problem_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A stored problem as commands show it: aware ISO times, decoded JSON."""
    view = {key: row[key] for key in row if key not in ("observed", "samples")}
    for key in ("first_seen", "last_seen", "last_evaluated_at", "resolved_at", "muted_until"):
        view[key] = _iso(row[key])
    view["escalated"] = bool(row["escalated"])
    view["observed"] = json.loads(row["observed"]) if row["observed"] else None
    view["samples"] = json.loads(row["samples"]) if row["samples"] else []
    view["check"] = view.pop("check_id")
    view["link"] = row["location"]
    return view


def _iso(moment: datetime | None) -> str | None:
    aware = from_store(moment)
    return aware.isoformat() if aware is not None else None
