"""What a generic check measures: rows of a dataset (or raw table), filtered, windowed, grouped."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, FromClause

from runner.engine.evaluation import Evaluation, Source
from runner.engine.levels import Levels
from runner.mapping import pseudonym

NONE = "(none)"
Condition = Callable[[FromClause], ColumnElement[bool]]
"""A filter built from the dataset's columns; configuration's SQL text becomes one too."""


def sql_condition(text: str) -> Condition:
    return lambda _rows: sa.text(f"({text})")  # type: ignore[return-value]


@dataclass(frozen=True)
class Target:
    dataset: str | None = None
    table: str | None = None
    columns: tuple[str, ...] = ()
    where: Condition | None = None
    timestamp: str | None = None
    window: timedelta | None = None
    group_by: tuple[str, ...] = ()
    source: str | None = None
    subject: str | None = None
    expect: tuple[str, ...] = ()
    """Subjects to report even when no row belongs to them (a pool with no codes left at all)."""

    @property
    def name(self) -> str:
        return self.subject or self.dataset or self.table or "rows"

    def rows(self, source: Source) -> FromClause:
        if self.dataset is not None:
            return source.dataset(self.dataset)
        assert self.table is not None
        stamp = (self.timestamp,) if self.timestamp else ()
        wanted = (*self.columns, *self.group_by, *stamp)
        return source.table(self.table, *dict.fromkeys(wanted), times=stamp)

    def conditions(self, rows: FromClause, source: Source, now: datetime) -> list[ColumnElement[bool]]:
        found = [self.where(rows)] if self.where is not None else []
        if self.window is not None:
            assert self.timestamp is not None
            found.append(rows.c[self.timestamp] >= source.local(now - self.window))
        return found

    def select(self, ev: Evaluation, source: Source, measures: Callable[[FromClause], list[Any]]) -> sa.Select[Any]:
        """SELECT group keys, measures FROM the rows WHERE filter and window GROUP BY the keys."""
        rows = self.rows(source)
        keys = [rows.c[column] for column in self.group_by]
        statement = sa.select(*keys, *measures(rows)).select_from(rows)
        conditions = self.conditions(rows, source, ev.now)
        if conditions:
            statement = statement.where(*conditions)
        return statement.group_by(*keys) if keys else statement

    def subject_of(self, row: dict[str, Any], private: frozenset[str] = frozenset()) -> str:
        """The group's key values, "/"-joined; a NULL key is "(none)", never the text "None".

        A key the mapping keeps private (a masked customer id) appears as a pseudonym: masked, and
        still one subject per customer.
        """
        if not self.group_by:
            return self.name
        keys = (row[column] if column not in private else pseudonym(row[column]) for column in self.group_by)
        return "/".join(NONE if key is None else str(key) for key in keys)

    def campaign_of(self, row: dict[str, Any]) -> str | None:
        value = row.get("campaign_id") if "campaign_id" in self.group_by else None
        return str(value) if value is not None else None

    def by_subject(
        self, answer: Sequence[dict[str, Any]], private: frozenset[str] = frozenset()
    ) -> dict[str, dict[str, Any]]:
        """Rows keyed by subject, with expected subjects that have none."""
        found = {self.subject_of(row, private): row for row in answer}
        for subject in self.expect:
            found.setdefault(subject, {})
        return dict(sorted(found.items()))


LevelsFor = Levels | Callable[[str], Levels]
Describe = Callable[[str, Any, Levels], str]
"""The cause of a failed result in words: (subject, observed, levels) -> text."""


def levels_for(levels: LevelsFor, subject: str) -> Levels:
    return levels(subject) if callable(levels) else levels


def plainly(what: str) -> Describe:
    """A cause such as "free codes: 37 (expected >= 100)"."""
    return lambda _subject, observed, levels: f"{what}: {observed} (expected {levels.expected})"
