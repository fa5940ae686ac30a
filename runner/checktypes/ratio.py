"""ratio: the share of rows matching a condition, in percent (availability, webhook errors)."""

from __future__ import annotations

import sqlalchemy as sa

from runner.checktypes.target import Condition, Describe, LevelsFor, Target, levels_for, plainly
from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.result import Result, Status


def ratio(
    ev: Evaluation,
    about: About,
    target: Target,
    matching: Condition,
    levels: LevelsFor,
    *,
    min_rows: int = 1,
    describe: Describe | None = None,
) -> list[Result]:
    """Observed = 100 * matching rows / all rows of the target, per subject; fewer than min_rows passes."""
    source = ev.source(target.source)

    def shares(rows: sa.FromClause) -> list[sa.ColumnElement[int]]:
        hit = sa.case((matching(rows), 1), else_=0)
        return [sa.func.sum(hit).label("matching"), sa.func.count().label("total")]

    answer = source.rows(target.select(ev, source, shares), about.check)
    describe = describe or plainly("share")
    results = []
    for subject, row in target.by_subject(answer, source.private(target.dataset)).items():
        total, hits = int(row.get("total") or 0), int(row.get("matching") or 0)
        subject_levels = levels_for(levels, subject)
        if total < min_rows:
            results.append(about.result(subject, Status.PASS, expected=subject_levels.expected, cause=""))
            continue
        percent = round(100.0 * hits / total, 2)
        results.append(
            about.result(
                subject,
                subject_levels.verdict(percent),
                observed=f"{percent:g}%",
                expected=subject_levels.expected,
                cause=describe(subject, f"{percent:g}% ({hits} of {total})", subject_levels),
            )
        )
    return results
