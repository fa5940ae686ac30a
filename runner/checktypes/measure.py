"""row_count, new_rows and metric: one aggregate over the target's rows, judged by levels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from runner.checktypes.target import Describe, LevelsFor, Target, levels_for, plainly
from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.result import Result, plain

AGGREGATES: dict[str, Callable[[Any], ColumnElement[Any]]] = {
    "sum": sa.func.sum,
    "min": sa.func.min,
    "max": sa.func.max,
    "avg": sa.func.avg,
    "count": sa.func.count,
    "count_distinct": lambda column: sa.func.count(sa.distinct(column)),
}


def measure(
    ev: Evaluation,
    about: About,
    target: Target,
    levels: LevelsFor,
    *,
    aggregate: str = "count",
    column: str | None = None,
    describe: Describe | None = None,
) -> list[Result]:
    """Row count when aggregate is count without a column; otherwise aggregate(column)."""
    source = ev.source(target.source)

    def value(rows: Any) -> list[Any]:
        if aggregate == "count" and column is None:
            return [sa.func.count().label("value")]
        assert column is not None
        return [AGGREGATES[aggregate](rows.c[column]).label("value")]

    answer = source.rows(target.select(ev, source, value), about.check)
    describe = describe or plainly(f"{aggregate}({column})" if column else "rows")
    results = []
    for subject, row in target.by_subject(answer, source.private(target.dataset)).items():
        observed = plain(row.get("value"))
        if observed is None and aggregate == "count":
            observed = 0
        subject_levels = levels_for(levels, subject)
        status = subject_levels.verdict(observed)
        results.append(
            about.result(
                subject,
                status,
                observed=observed,
                expected=subject_levels.expected,
                cause=describe(subject, observed, subject_levels),
                **_campaign(target, row),
            )
        )
    return results


def _campaign(target: Target, row: dict[str, Any]) -> dict[str, Any]:
    campaign = target.campaign_of(row)
    return {"campaign": campaign} if campaign else {}
