"""Does a mapping fit its source? The mapped table or query and its columns exist, and the values
have the contract's types - checked once per run before a dataset is used, and by `sources check`.

A time column that really holds text (or numbers) would be compared as text: on SQLite an ISO
'T' turns a one-hour window into "since midnight", on PostgreSQL the query fails without naming
the column. The probe finds it first and says which line of rules/sources.yaml to change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection

from runner.contract import column_type, is_time, time_kind
from runner.mapping import base, query_body, where
from runner.sources import DatasetMapping
from runner.timetext import check_format, parses

# how SQLAlchemy writes times into SQLite (which has no time type): text in this shape compares right
_SQLITE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")
_GUESSES = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M",
            "%Y%m%d%H%M%S", "%d.%m.%Y", "%Y%m%d", "%Y-%m-%d")  # fmt: skip


@dataclass(frozen=True)
class MappingIssue:
    """One thing wrong with a mapping, said the way the user fixes it."""

    dataset: str
    column: str | None
    message: str
    file: str
    line: int | None
    origin: str

    def __str__(self) -> str:
        at = f" ({self.file}:{self.line})" if self.line else f" ({self.file})"
        return f"{self.origin}{at}: {self.message}"


def probe(
    connection: Connection,
    name: str,
    mapping: DatasetMapping,
    columns: Sequence[str],
    file: str,
    *,
    times: Sequence[str] = (),
    noun: str = "dataset",
) -> list[MappingIssue]:
    """Issues of one mapped dataset (or table): missing table, query or columns first, then types.

    times: columns that must hold moments besides the contract's own (a monitored table's timestamp).
    noun: what the messages call it, "dataset" or "table".
    """
    missing = _missing(connection, name, mapping, columns, file, noun)
    if missing:
        return missing
    return _types(connection, name, mapping, columns, file, times, noun)


def _issue(
    name: str, mapping: DatasetMapping, logical: str | None, message: str, file: str, noun: str = "dataset"
) -> MappingIssue:
    line = mapping.line if logical is None else mapping.column(logical).line
    return MappingIssue(name, logical, message, file, line, where(name, mapping, logical, noun))


def _missing(
    connection: Connection, name: str, mapping: DatasetMapping, columns: Sequence[str], file: str, noun: str
) -> list[MappingIssue]:
    dialect = connection.dialect.name
    for logical in columns:
        column = mapping.column(logical)
        if column.type == "text":
            try:
                check_format(column.format or "", time_kind(logical))
            except ValueError as error:
                return [_issue(name, mapping, logical, str(error), file, noun)]
    reals = [mapping.real_column(c) for c in columns]
    rows = base(mapping, reals, dialect, "probed")
    try:
        _answer(connection, sa.select(*(rows.c[r] for r in dict.fromkeys(reals))).select_from(rows).where(sa.false()))
        return []
    except exc.DBAPIError as error:
        failure = _first_line(error)
    present = present_columns(connection, mapping)
    if present is None:
        what = "no such table" if mapping.table else f"the query fails: {failure}"
        return [_issue(name, mapping, None, what, file, noun)]
    lowered = {p.lower() for p in present}
    absent = [c for c in columns if mapping.real_column(c).lower() not in lowered]
    if not absent:
        return [_issue(name, mapping, None, f"the source refuses the mapping: {failure}", file, noun)]
    return [_issue(name, mapping, logical, "no such column", file, noun) for logical in absent]


def present_columns(connection: Connection, mapping: DatasetMapping) -> list[str] | None:
    """The real columns of the table (or the query's answer); None when there is no such table or query."""
    if mapping.table is not None:
        schema, _, table = mapping.table.rpartition(".")
        try:
            return [c["name"] for c in sa.inspect(connection).get_columns(table, schema=schema or None)]
        except exc.NoSuchTableError:
            return None
        except exc.DBAPIError:
            _rollback(connection)
            return None
    assert mapping.query is not None
    try:
        return list(
            connection.execute(sa.text(f"SELECT * FROM ({query_body(mapping.query)}) probed WHERE 1 = 0")).keys()
        )
    except exc.DBAPIError:
        _rollback(connection)
        return None


def _types(
    connection: Connection,
    name: str,
    mapping: DatasetMapping,
    columns: Sequence[str],
    file: str,
    times: Sequence[str],
    noun: str,
) -> list[MappingIssue]:
    """One sample value per typed column (a non-NULL one), judged against the contract's type."""
    typed = [c for c in columns if column_type(c) is not None or mapping.column(c).type == "text" or c in times]
    if not typed:
        return []
    dialect = connection.dialect.name
    rows = base(mapping, [mapping.real_column(c) for c in typed], dialect, "probed")
    samples = []
    for index, logical in enumerate(typed):
        raw = rows.c[mapping.real_column(logical)]
        samples.append(sa.select(raw).where(raw.is_not(None)).limit(1).scalar_subquery().label(f"c{index}"))
    try:
        answer = _answer(connection, sa.select(*samples))
    except exc.DBAPIError as error:
        return [_issue(name, mapping, None, f"the source refuses the mapping: {_first_line(error)}", file, noun)]
    row = answer[0] if answer else {}
    issues = []
    for index, logical in enumerate(typed):
        value = row.get(f"c{index}")
        column = mapping.column(logical)
        problem = judge(logical, value, column.type, column.format, dialect, as_time=logical in times)
        if problem:
            issues.append(_issue(name, mapping, logical, problem, file, noun))
    return issues


def judge(
    logical: str, value: Any, declared: str | None, fmt: str | None, dialect: str, *, as_time: bool = False
) -> str | None:
    """Why a sample value does not fit the logical column, or None when it does."""
    if value is None:
        return None
    if declared == "text":
        assert fmt is not None
        if isinstance(value, str) and parses(value, fmt):
            return None
        return f"holds {_shown(value)}, which does not match the declared format {fmt!r}"
    expected = column_type(logical)
    if as_time or is_time(logical) or isinstance(expected, sa.Date):
        if isinstance(value, datetime | date):
            return None
        if isinstance(value, str) and dialect == "sqlite" and _SQLITE_TIME.match(value):
            return None
        kind = time_kind(logical)
        if isinstance(value, str):
            guess = next((f for f in _GUESSES if parses(value, f)), "...")
            return (
                f"holds text such as {_shown(value)}, not a {'date' if kind == 'date' else 'timestamp'}; declare "
                f'how it is written: {logical}: {{column: ..., type: text, format: "{guess}"}}'
            )
        return f"holds {type(value).__name__} values such as {_shown(value)}, not a timestamp; map it through a query"
    if isinstance(expected, sa.Boolean):
        return None if isinstance(value, bool | int) else f"holds {_shown(value)}, not a boolean (true/false, 1/0)"
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return None
    return f"holds {_shown(value)}, not a number; map it through a query that casts it"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _answer(connection: Connection, statement: sa.Executable) -> list[dict[str, Any]]:
    try:
        return [dict(row._mapping) for row in connection.execute(statement)]
    except exc.DBAPIError:
        _rollback(connection)
        raise


def _rollback(connection: Connection) -> None:
    """PostgreSQL refuses every statement of a transaction after a failed one."""
    if connection.in_transaction():
        connection.rollback()


def _first_line(error: exc.DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
