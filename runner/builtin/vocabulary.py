"""Values outside the contract's vocabularies: counted and reported, never silently ignored.

A launch whose mode is 'prod' is neither live nor test, a message whose status is 'undelivered'
is not failed: every check that looks for a known value passes such rows by. This check counts
them, per dataset and column, among the rows of the last jobs window (promo codes: all of them;
target groups: since yesterday). Values are compared as the mapping gives them: trimmed and
lower-cased. A NULL in a column the contract does not allow to be NULL counts as unknown too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, FromClause

from runner.adapter import SourceError
from runner.builtin.declarations import UNKNOWN_VALUES
from runner.builtin.incidents import window
from runner.contract import NULLABLE
from runner.contract import vocabularies as contract_vocabularies
from runner.engine.evaluation import Evaluation, Source
from runner.engine.execute import source_error
from runner.engine.result import Result, Status

RECENT = {"launches": "launched_at", "messages": "created_at", "job_runs": "started_at", "customers": "created_at"}
SHOWN = 5  # distinct unknown values named per column


def vocabularies(ev: Evaluation) -> dict[str, dict[str, tuple[str, ...]]]:
    """dataset -> column -> known values."""
    known: dict[str, dict[str, tuple[str, ...]]] = {}
    for (dataset, column), values in contract_vocabularies(ev.thresholds["customer_types"]).items():
        known.setdefault(dataset, {})[column] = values
    return known


def outside(value: ColumnElement[Any], values: tuple[str, ...]) -> ColumnElement[bool]:
    """A value that is none of the vocabulary's (a NULL is not: it is no value at all)."""
    return sa.and_(value.is_not(None), value.not_in(values))


def unknown(rows: FromClause, dataset: str, column: str, values: tuple[str, ...]) -> ColumnElement[bool]:
    """Outside the vocabulary, or NULL where the contract allows no NULL."""
    value = rows.c[column]
    found = outside(value, values)
    return found if column in NULLABLE.get(dataset, ()) else sa.or_(value.is_(None), found)


def most_frequent(
    fetch: Callable[[sa.Select[Any]], list[dict[str, Any]]],
    rows: FromClause,
    column: str,
    *conditions: ColumnElement[bool],
) -> list[tuple[Any, int]]:
    """The SHOWN most frequent values of a column among the rows that meet the conditions, with their counts."""
    value = rows.c[column]
    statement = (
        sa.select(value.label("value"), sa.func.count().label("rows"))
        .where(*conditions)
        .group_by(value)
        .order_by(sa.func.count().desc(), value)
        .limit(SHOWN)
    )
    return [(row["value"], int(row["rows"])) for row in fetch(statement)]


def unknown_values(ev: Evaluation) -> Iterator[Result]:
    source = ev.source(None)
    mapped = ev.sources.get(None).datasets
    for dataset, columns in sorted(vocabularies(ev).items()):
        if dataset not in mapped:
            continue
        try:
            yield from _judge(ev, source, dataset, columns)
        except SourceError as error:
            for column in sorted(columns):
                yield source_error(UNKNOWN_VALUES.about(), f"{dataset}.{column}", error)


def _judge(ev: Evaluation, source: Source, dataset: str, columns: dict[str, tuple[str, ...]]) -> Iterator[Result]:
    rows = source.dataset(dataset)
    recent = _recent(ev, source, rows, dataset)
    counts = [
        sa.func.sum(sa.case((unknown(rows, dataset, column, values), 1), else_=0)).label(column)
        for column, values in sorted(columns.items())
    ]
    statement = sa.select(sa.func.count().label("rows"), *counts).select_from(rows)
    if recent is not None:
        statement = statement.where(recent)
    answer = source.rows(statement, UNKNOWN_VALUES.id)[0]
    total = int(answer["rows"] or 0)
    for column, values in sorted(columns.items()):
        found = int(answer[column] or 0)
        about = UNKNOWN_VALUES.about()
        expected = f"one of {', '.join(values)}"
        if not found:
            yield about.result(f"{dataset}.{column}", Status.PASS, observed=0, expected=expected)
            continue
        conditions = [unknown(rows, dataset, column, values), *([recent] if recent is not None else [])]
        seen = most_frequent(lambda statement: source.rows(statement, UNKNOWN_VALUES.id), rows, column, *conditions)
        named = ", ".join(f"{'NULL' if value is None else repr(value)} ({count})" for value, count in seen)
        yield about.result(
            f"{dataset}.{column}",
            Status.WARN,
            observed=found,
            expected=expected,
            cause=f"{found} of {total} {dataset} rows have a {column} outside the vocabulary: {named}",
            samples=[{column: value, "rows": count} for value, count in seen],
        )


def _recent(ev: Evaluation, source: Source, rows: FromClause, dataset: str) -> ColumnElement[bool] | None:
    if dataset == "target_group_members":
        return rows.c.run_date >= source.local(ev.now - timedelta(days=1)).date()
    if dataset in RECENT:
        return rows.c[RECENT[dataset]] >= source.local(ev.now - window(ev, "jobs_window"))
    return None
