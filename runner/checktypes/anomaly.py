"""anomaly: the current period against the last N periods, 3 sigma, only above a minimum volume.

Period boundaries are computed here and bound as parameters, so the source needs no date
arithmetic of its own: the same SQL runs on every dialect, in any time zone.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from runner.checktypes.measure import AGGREGATES
from runner.checktypes.target import Target
from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.levels import number
from runner.engine.result import Result, Status, plain


@dataclass(frozen=True)
class Baseline:
    history: int = 30
    min_volume: float = 10000
    sigma: float = 3.0


def judge(current: float, previous: list[float], baseline: Baseline, *, left_out: int = 0) -> tuple[Status, str, str]:
    """(status, expected, cause) of a value against its history.

    previous holds the usable periods only; left_out says how many had no value (NULL) and were
    left out. No usable period at all is a warning: the check cannot judge, and says so.
    """
    without = f"; {left_out} without a value left out" if left_out else ""
    if not previous:
        if current <= 0 or current < baseline.min_volume:  # nothing now, or too little to judge anyway
            above = f"; judged only above {number(baseline.min_volume)}" if baseline.min_volume else ""
            return Status.PASS, f"no history{without}{above}", ""
        return Status.WARN, f"no history{without}", f"no history to compare {number(current)} with{without}"
    if len(previous) < 2:
        return Status.PASS, f"not enough history (1 period{without})", ""
    mean = statistics.fmean(previous)
    spread = statistics.pstdev(previous)
    low, high = mean - baseline.sigma * spread, mean + baseline.sigma * spread
    expected = (
        f"between {max(low, 0):.0f} and {high:.0f} ({baseline.sigma:g} sigma of the last {len(previous)}{without})"
    )
    if max(current, mean) < baseline.min_volume:
        return Status.PASS, f"{expected}; judged only above {number(baseline.min_volume)}", ""
    if low <= current <= high:
        return Status.PASS, expected, ""
    times = f"{current / mean:.1f}x the mean {mean:.0f}" if mean else "far from a mean of 0"
    return Status.FAIL, expected, f"{number(current)} is {times} of the last {len(previous)} periods{without}"


def anomaly(
    ev: Evaluation,
    about: About,
    target: Target,
    *,
    period: timedelta,
    baseline: Baseline,
    aggregate: str = "count",
    column: str | None = None,
) -> list[Result]:
    """Periods end at now: the current one is [now - period, now), the history the N before it.

    Each row gets its period number in a subquery (a CASE over bound edges), grouped outside:
    PostgreSQL cannot match a GROUP BY expression whose parameters are bound twice.
    """
    assert target.timestamp is not None
    source = ev.source(target.source)
    edges = [source.local(ev.now - period * k) for k in range(baseline.history + 2)]
    rows = target.rows(source)
    stamp = rows.c[target.timestamp]
    bucket = sa.case(*((stamp >= edges[k + 1], k) for k in range(baseline.history + 1)))
    measured = [rows.c[column].label("measured")] if column else []
    keys = [rows.c[key] for key in target.group_by]
    numbered = (
        sa.select(*keys, bucket.label("period"), *measured)
        .select_from(rows)
        .where(*target.conditions(rows, source, ev.now), stamp >= edges[-1], stamp < edges[0])
        .subquery("numbered")
    )
    value = sa.func.count() if column is None else AGGREGATES[aggregate](numbered.c.measured)
    outer_keys = [numbered.c[key] for key in target.group_by]
    statement = sa.select(*outer_keys, numbered.c.period, value.label("value")).group_by(*outer_keys, numbered.c.period)
    series: dict[str, dict[int, float | None]] = {subject: {} for subject in target.expect}
    for row in source.rows(statement, about.check):
        value = plain(row["value"])
        series.setdefault(target.subject_of(row, source.private(target.dataset)), {})[int(row["period"])] = (
            None if value is None else float(value)
        )
    if not target.group_by:
        series.setdefault(target.name, {})
    results = []
    for subject, values in sorted(series.items()):
        current = values.get(0) or 0.0
        first = max((k for k in values if k > 0), default=0)  # periods before the first row are no history
        history = [values.get(k, 0.0) for k in range(1, first + 1)]
        previous = [value for value in history if value is not None]  # an aggregate of NULLs is left out
        status, expected, cause = judge(current, previous, baseline, left_out=len(history) - len(previous))
        results.append(about.result(subject, status, observed=plain(current), expected=expected, cause=cause))
    return results
