"""freshness: minutes since the newest row; a table that falls silent means its feed broke."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from runner.checktypes.target import Describe, LevelsFor, Target, levels_for
from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.result import Result, Status


def freshness(
    ev: Evaluation, about: About, target: Target, levels: LevelsFor, *, describe: Describe | None = None
) -> list[Result]:
    """Observed is the age of the newest row in whole minutes; no rows at all fails."""
    assert target.timestamp is not None
    source = ev.source(target.source)
    column = target.timestamp
    answer = source.rows(
        target.select(ev, source, lambda rows: [sa.func.max(rows.c[column]).label("newest")]), about.check
    )
    now = source.local(ev.now)
    results = []
    for subject, row in target.by_subject(answer, source.private(target.dataset)).items():
        subject_levels = levels_for(levels, subject)
        newest = _moment(row.get("newest"))
        if newest is None:
            results.append(
                about.result(
                    subject,
                    Status.FAIL,
                    expected=f"age in minutes {subject_levels.expected}",
                    cause=f"{subject} has no rows with a {column} at all",
                )
            )
            continue
        age = int((now - newest).total_seconds() // 60)
        cause = (
            describe(subject, age, subject_levels)
            if describe
            else (f"the newest {column} is {newest:%Y-%m-%d %H:%M}, {age} minutes ago")
        )
        results.append(
            about.result(
                subject,
                subject_levels.verdict(age),
                observed=age,
                expected=f"age in minutes {subject_levels.expected}",
                cause=cause,
            )
        )
    return results


def _moment(value: Any) -> datetime | None:
    """SQLite answers MAX() of a timestamp as text."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
