"""failed_rows: a query that returns the rows breaking a rule; counted at the source, sampled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import TextClause

from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.levels import Levels
from runner.engine.result import Result, plain
from runner.mapping import query_body

DEFAULT_LEVELS = Levels.parse(fail="> 0")
TOTAL = "failed_rows_total"


def failed_rows(
    ev: Evaluation,
    about: About,
    query: str | sa.Select[Any],
    *,
    subject: str,
    levels: Levels = DEFAULT_LEVELS,
    samples: int = 5,
    source_name: str | None = None,
    of_dataset: str | None = None,
    describe: Callable[[str], str] | None = None,
) -> list[Result]:
    """Observed is the number of failed rows, or their percentage of of_dataset when levels are in %."""
    source = ev.source(source_name)
    failing = _as_subquery(source.sql(query)) if isinstance(query, str) else query.subquery("failed")
    # one statement: the first rows as samples, each carrying the count of all (a window function)
    columns: list[Any] = [sa.text("*")] if isinstance(query, str) else list(failing.c)
    total = sa.func.count().over().label(TOTAL)
    answer = source.rows(sa.select(*columns, total).select_from(failing).limit(max(samples, 1)), about.check)
    count = int(answer[0][TOTAL]) if answer else 0
    # personal data as the mapping allows it to be shown (rules/sources.yaml `samples:`)
    sample_rows = [
        source.redact({key: value for key, value in row.items() if key != TOTAL}) for row in answer[:samples]
    ]
    observed: float = int(count)
    shown = f"{count} rows"
    if levels.percent:
        assert of_dataset is not None
        rows = source.dataset(of_dataset)
        total = source.rows(sa.select(sa.func.count().label("total")).select_from(rows), about.check)[0]["total"]
        observed = round(100.0 * count / total, 2) if total else 0.0
        shown = f"{observed:g}% ({count} of {total} {of_dataset})"
    status = levels.verdict(observed)
    return [
        about.result(
            subject,
            status,
            observed=shown if levels.percent else int(count),
            expected=levels.expected,
            cause=(describe or _returned)(shown),
            samples=[{key: plain(value) for key, value in row.items()} for row in sample_rows],
        )
    ]


def _returned(shown: str) -> str:
    return f"the rule's query returned {shown}"


def _as_subquery(text: TextClause) -> sa.Subquery:
    return sa.select(sa.text("*")).select_from(sa.text(f"({query_body(text.text)}) AS failed_rows")).subquery("failed")
