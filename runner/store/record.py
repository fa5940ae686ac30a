"""Store one run's results: history rows, and every problem transition with its events, atomically."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runner.engine.result import Result, Status, plain
from runner.findings import Severity
from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.lifecycle import UNRESOLVED, Change, fingerprint, on_result
from runner.store.tables import problem_events, problems, results

CHUNK = 500  # bound parameters per IN list


@dataclass(frozen=True)
class Scope:
    """What a finished check looked at: its open problems not reported again are resolved.

    A launch-gate check looks at one campaign; a monitoring check at everything it covers.
    """

    check: str
    campaign: str | None = None

    def covers(self, problem: Mapping[str, Any]) -> bool:
        return problem["check_id"] == self.check and (self.campaign is None or problem["campaign"] == self.campaign)


def record(
    store: Store,
    run_id: str,
    evaluated: Sequence[Result],
    moment: datetime,
    scopes: Iterable[Scope] = (),
    *,
    escalate_after: int = 0,
    retention_days: int = 90,
) -> Counter[str]:
    """Apply `evaluated` (all of one evaluation at `moment`) to the store; the events made, by kind."""
    at = to_store(moment)
    scopes = list(scopes)
    with store.write() as connection:
        current = _problems_touched(connection, evaluated, scopes)
        reported = {fingerprint(r.check, r.subject) for r in evaluated if r.status is not Status.ERROR}
        changes: list[tuple[Mapping[str, Any] | None, Change]] = []
        for result in evaluated:
            problem = current.get(fingerprint(result.check, result.subject))
            change = on_result(problem, result, at, escalate_after)
            if change is not None:
                changes.append((problem, change))
                if problem is None:  # two results for one subject: the second sees the first
                    current[change.values["fingerprint"]] = change.values
                else:
                    current[problem["fingerprint"]] = {**problem, **change.values}
        for print_, problem in list(current.items()):
            if print_ not in reported and "id" in problem and any(scope.covers(problem) for scope in scopes):
                change = on_result(problem, _passed(problem), at, escalate_after)
                if change is not None:
                    changes.append((problem, change))
        events = _write(connection, changes, run_id, at)
        _history(connection, run_id, evaluated, at)
        connection.execute(sa.delete(results).where(results.c.evaluated_at < at - timedelta(days=retention_days)))
    return Counter(kind for kind, *_ in events)


def _problems_touched(
    connection: Connection, evaluated: Sequence[Result], scopes: Sequence[Scope]
) -> dict[str, dict[str, Any]]:
    """Problems of the reported subjects, and the unresolved ones of every finished check."""
    found: dict[str, dict[str, Any]] = {}
    prints = sorted({fingerprint(r.check, r.subject) for r in evaluated if r.status is not Status.ERROR})
    for chunk in _chunks(prints):
        for row in connection.execute(sa.select(problems).where(problems.c.fingerprint.in_(chunk))).mappings():
            found[row["fingerprint"]] = dict(row)
    checks = sorted({scope.check for scope in scopes})
    for chunk in _chunks(checks):
        query = sa.select(problems).where(problems.c.check_id.in_(chunk), problems.c.status.in_(UNRESOLVED))
        for row in connection.execute(query).mappings():
            found.setdefault(row["fingerprint"], dict(row))
    return found


def _passed(problem: Mapping[str, Any]) -> Result:
    """A check that finished without reporting a subject has found nothing wrong with it."""
    return Result(
        problem["check_id"],
        problem["subject"],
        Severity(problem["severity"]),
        problem["localization"],
        Status.PASS,
        problem["title"],
    )


def _write(
    connection: Connection, changes: Sequence[tuple[Mapping[str, Any] | None, Change]], run_id: str, at: datetime
) -> list[tuple[str, str | None, str, str | None, int]]:
    created = [change.values for problem, change in changes if problem is None]
    if created:
        connection.execute(sa.insert(problems), created)
    ids = _ids(connection, [values["fingerprint"] for values in created])
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for problem, change in changes:
        if problem is not None:
            columns = tuple(sorted(change.values))
            by_columns.setdefault(columns, []).append({**change.values, "_id": problem["id"]})
    for columns, rows in by_columns.items():
        statement = (
            sa.update(problems)
            .where(problems.c.id == sa.bindparam("_id"))
            .values({column: sa.bindparam(column) for column in columns})
        )
        connection.execute(statement, rows)
    events = []
    for problem, change in changes:
        merged = {**(problem or {}), **change.values}
        problem_id = problem["id"] if problem is not None else ids[merged["fingerprint"]]
        for kind, note in change.events:
            events.append((kind, note, merged["severity"], merged.get("observed"), problem_id))
    if events:
        connection.execute(
            sa.insert(problem_events),
            [
                {
                    "problem_id": problem_id,
                    "kind": kind,
                    "at": at,
                    "run_id": run_id,
                    "note": note,
                    "severity": severity,
                    "observed": observed,
                }
                for kind, note, severity, observed, problem_id in events
            ],
        )
    return events


def _ids(connection: Connection, prints: Sequence[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(prints)):
        query = sa.select(problems.c.fingerprint, problems.c.id).where(problems.c.fingerprint.in_(chunk))
        ids.update({print_: id_ for print_, id_ in connection.execute(query)})
    return ids


def _history(connection: Connection, run_id: str, evaluated: Sequence[Result], at: datetime) -> None:
    rows = [
        {
            "run_id": run_id,
            "check_id": result.check,
            "subject": result.subject,
            "status": result.status.value,
            "severity": result.severity.value,
            "localization": result.localization,
            "campaign": result.campaign,
            "owner": result.owner,
            "value": _number(result.observed),
            "observed": json.dumps(plain(result.observed), ensure_ascii=False),
            "evaluated_at": at,
        }
        for result in evaluated
    ]
    if rows:
        connection.execute(sa.insert(results), rows)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
