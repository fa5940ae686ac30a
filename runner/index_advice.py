"""Index advice for `campaign-guard sources check`: which indexes the shipped checks need on a source.

On PostgreSQL and MariaDB the monitoring and launch-gate checks are evaluated once, like `run` does
(nothing is stored), through an adapter that remembers which checks asked each statement. Every statement
they sent to the source is EXPLAINed and every full scan of a mapped table with a filter is reported with
the real columns of the filter - unless the planner estimates the table below INDEX_WORTHY_ROWS rows, or
an index on those columns exists already.

The advice is plain data (Advice); runner.mapping_report makes findings of it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement, Executable

from runner.adapter import SourceError
from runner.contract import DATASETS, NORMALIZED
from runner.engine.evaluation import Evaluation, Source
from runner.engine.execute import evaluate_each
from runner.engine.plan import run_tasks
from runner.mapping_probe import present_columns
from runner.repository import Repository
from runner.sources import DatasetMapping, SourceConfig, Sources
from runner.sql_adapter import Executed, SqlAlchemyAdapter

INDEX_WORTHY_ROWS = 10_000  # a full scan of a smaller table costs less than keeping an index
CHECKS_NAMED = 5  # checks named per index advice
EXPLAINED_DIALECTS = ("postgresql", "mysql")
SQLITE_NO_ADVICE = "index advice: not available on SQLite"


@dataclass(frozen=True)
class Advice:
    """One index to consider, told at the first mapping (datasets first) of the scanned table."""

    dataset: str  # the dataset, or the name of the table under `tables:`
    message: str
    line: int | None


class RecordingAdapter(SqlAlchemyAdapter):
    """The adapter `run` uses, remembering which checks asked each statement it sent.

    `sources check` opens one per source and checks the mapping through it too; the statements of its own
    counts have no check, so they get no advice.
    """

    def __init__(self, config: SourceConfig) -> None:
        super().__init__(config)
        self.askers: dict[tuple[str, str], set[str]] = {}
        self._askers_lock = threading.Lock()
        self._sizes: dict[str, int | None] = {}

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    def connection(self) -> AbstractContextManager[Connection]:
        """A connection of the source (SourceError when it cannot be had), closed on leaving."""
        return self._connection(None)

    def fetch(self, statement: Executable, *, check: str | None = None) -> list[dict[str, Any]]:
        if check is not None:
            compiled = cast(ClauseElement, statement).compile(dialect=self._engine.dialect)
            key = (str(compiled), repr(sorted(compiled.params.items())))
            with self._askers_lock:
                self.askers.setdefault(key, set()).add(check)
        return super().fetch(statement, check=check)

    def checks_of(self, executed: Executed) -> set[str]:
        return self.askers.get((executed.sql, repr(sorted(executed.params.items()))), set())

    def columns(self, mapping: DatasetMapping) -> list[str] | None:
        """The real columns of a mapped table or query; None when there is no such table or the query fails."""
        try:
            with self.connection() as connection:
                return present_columns(connection, mapping)
        except SourceError:
            return None

    def explain(self, statement: Executable) -> Any:
        """The planner's plan of a statement as parsed JSON; nothing is executed.

        Compiled as it was sent (post-compile parameters rendered), then run as driver SQL: the answer is
        the plan, which must not go through the result types of the statement's own columns.
        """
        dialect = self._engine.dialect
        compiled = cast(ClauseElement, statement).compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        prefix = "EXPLAIN (FORMAT JSON)" if self.dialect == "postgresql" else "EXPLAIN FORMAT=JSON"
        with self.connection() as connection:
            answer = connection.exec_driver_sql(f"{prefix} {compiled.string}", dict(compiled.params)).scalar()
        return json.loads(answer) if isinstance(answer, str | bytes) else answer

    def estimated_rows(self, table: str) -> int | None:
        """The planner's estimate of a table's size; None when it cannot say."""
        if table not in self._sizes:
            schema, _, name = table.rpartition(".")
            statement = sa.select(sa.text("*")).select_from(sa.table(name, schema=schema or None))
            try:
                accesses = list(_accesses(self.explain(statement), self.dialect))
            except (SourceError, exc.SQLAlchemyError, ValueError):
                accesses = []
            self._sizes[table] = max((a.rows for a in accesses if a.rows is not None), default=None)
        return self._sizes[table]

    def indexes(self, table: str) -> list[list[str]]:
        """The columns of every index of a table, in index order."""
        schema, _, name = table.rpartition(".")
        try:
            with self.connection() as connection:
                found = sa.inspect(connection).get_indexes(name, schema=schema or None)
                keys = sa.inspect(connection).get_pk_constraint(name, schema=schema or None)
        except (SourceError, exc.DBAPIError, exc.NoSuchTableError):
            return []
        columns = [[str(c) for c in index["column_names"] if c is not None] for index in found]
        return [*columns, *([list(keys["constrained_columns"])] if keys.get("constrained_columns") else [])]


class _Watched(Evaluation):
    """An evaluation over the adapters of this check: nothing else is opened, nothing is stored."""

    def __init__(self, repo: Repository, now: datetime, sources: Sources, adapters: Mapping[str, SqlAlchemyAdapter]):
        super().__init__(repo, now, sources)
        self._adapters = adapters
        self._watched: dict[str, Source] = {}
        self._watched_lock = threading.Lock()

    def source(self, name: str | None) -> Source:
        """The named (or default) source if it is checked; made on first use, where a bad zone is the task's."""
        config = self.sources.get(name)
        if config.name not in self._adapters:
            raise SourceError(config.name, None, "not among the sources checked")
        with self._watched_lock:
            if config.name not in self._watched:
                self._watched[config.name] = Source(self._adapters[config.name])
            return self._watched[config.name]


def evaluate_checks(
    repo: Repository, sources: Sources, adapters: Mapping[str, SqlAlchemyAdapter], now: datetime
) -> None:
    """Monitoring and today's launch gates, as `run` evaluates them; the results do not matter here."""
    evaluate_each(run_tasks(repo, now), _Watched(repo, now, sources, adapters))


@dataclass(frozen=True)
class _Access:
    """A table read in a plan: whether in full, and the filter applied while reading it."""

    table: str
    full: bool
    condition: str | None
    rows: int | None


def _accesses(plan: Any, dialect: str) -> Iterator[_Access]:
    """Every table access of an EXPLAIN FORMAT JSON answer, at any depth."""
    for node in _walk(plan):
        if dialect == "postgresql" and "Relation Name" in node:
            full = str(node.get("Node Type", "")).endswith("Seq Scan")
            rows = node.get("Plan Rows")
            yield _Access(str(node["Relation Name"]), full, node.get("Filter"), int(rows) if rows is not None else None)
        elif dialect == "mysql" and "table_name" in node and "access_type" in node:
            rows = node.get("rows", node.get("rows_for_plan"))
            condition = node.get("attached_condition")
            yield _Access(str(node["table_name"]), node["access_type"] == "ALL", condition, _int(rows))


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _walk(inner)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_LITERAL = re.compile(r"[A-Za-z_]*'(?:[^']|'')*'")  # 'x', and MariaDB's TIMESTAMP'...' / _latin1'...'
_NAME = re.compile(r"(::\s*)?(?:\"((?:[^\"]|\"\")+)\"|`((?:[^`]|``)+)`|([A-Za-z_][A-Za-z0-9_$]*))(\s*\()?")


def filter_columns(condition: str, real_columns: Iterable[str]) -> list[tuple[str, bool]]:
    """The table's columns a filter names, in order, and whether each is compared with `=` (or IN)."""
    by_lower = {column.lower(): column for column in real_columns}
    text = _LITERAL.sub("''", condition)
    found: dict[str, bool] = {}
    for match in _NAME.finditer(text):
        cast_to, quoted, backticked, bare, call = match.groups()
        if cast_to or call:  # a type after ::, a function
            continue
        name = quoted or backticked or bare
        column = by_lower.get(name.lower())
        if column is None:
            continue
        after = text[match.end() :].lstrip('"` )')
        equal = bool(re.match(r"(=(?!=)|IN\b|=\s*ANY\b)", after, re.IGNORECASE))
        found[column] = found.get(column, False) or equal
    return list(found.items())


def index_advice(config: SourceConfig, adapter: RecordingAdapter) -> list[Advice]:
    """Every full scan of a mapped table with a filter, in the statements the checks sent."""
    tables = _mapped_tables(config)
    scans: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    equality: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    columns_of: dict[str, list[str]] = {}
    for executed in list(adapter.executed):
        checks = adapter.checks_of(executed)
        if not checks:  # this command's own counts
            continue
        try:
            plan = adapter.explain(executed.statement)
        except (SourceError, exc.SQLAlchemyError, ValueError):  # a plan it cannot give is no advice
            continue
        for access in _accesses(plan, adapter.dialect):
            if not access.full or not access.condition or access.table.lower() not in tables:
                continue
            table, _mappings = tables[access.table.lower()]
            if table not in columns_of:
                columns_of[table] = _real_columns(adapter, table, _mappings)
            named = filter_columns(access.condition, columns_of[table])
            if not named:
                continue
            key = (table, tuple(sorted(column for column, _equal in named)))
            scans.setdefault(key, set()).update(checks)
            equality.setdefault(key, set()).update(column for column, equal in named if equal)
    found: list[Advice] = []
    for (table, columns), checks in sorted(scans.items()):
        size = adapter.estimated_rows(table)
        if size is not None and size < INDEX_WORTHY_ROWS:
            continue
        mappings = tables[table.lower()][1]
        message = _advice(adapter, table, columns, equality[(table, columns)], checks, mappings)
        if message is None:
            continue
        name, mapping = mappings[0]
        found.append(Advice(name, message, mapping.line))
    return sorted(found, key=lambda advice: (advice.line or 0, advice.message))


def _mapped_tables(config: SourceConfig) -> dict[str, tuple[str, list[tuple[str, DatasetMapping]]]]:
    """lower-case table name (without schema) -> (the mapped table, its mappings: datasets first)."""
    found: dict[str, tuple[str, list[tuple[str, DatasetMapping]]]] = {}
    for name, mapping in [*config.datasets.items(), *config.tables.items()]:
        if mapping.table is None:
            continue
        key = mapping.table.rpartition(".")[2].lower()
        found.setdefault(key, (mapping.table, []))[1].append((name, mapping))
    return found


def _real_columns(adapter: RecordingAdapter, table: str, mappings: list[tuple[str, DatasetMapping]]) -> list[str]:
    columns = adapter.columns(mappings[0][1])
    if columns is None:  # fall back on what the mapping says
        columns = [mapping.real_column(c) for name, mapping in mappings for c in DATASETS.get(name, mapping.columns)]
    return columns


def _advice(
    adapter: RecordingAdapter,
    table: str,
    columns: tuple[str, ...],
    equal: set[str],
    checks: set[str],
    mappings: list[tuple[str, DatasetMapping]],
) -> str | None:
    """The advice for one table and filter; None when an index on those columns exists already."""
    converted = _converted(mappings)
    plain = [c for c in columns if c not in converted]
    plain.sort(key=lambda column: (column not in equal, column))
    named = sorted(checks)
    shown = ", ".join(named[:CHECKS_NAMED]) + (f" and {len(named) - CHECKS_NAMED} more" if named[CHECKS_NAMED:] else "")
    head = f"{table.rpartition('.')[2]}: full scan filtered on {', '.join(columns)} (checks {shown})"
    how: dict[str, list[str]] = {}
    for column in columns:
        if column in converted:
            how.setdefault(converted[column], []).append(column)
    notes = "; ".join(
        f"{', '.join(wrapped)} {'is' if len(wrapped) == 1 else 'are'} compared {reason}"
        for reason, wrapped in how.items()
    )
    if not plain:
        return f"{head}; no index on the column serves it ({notes})"
    if any({c.lower() for c in index[: len(plain)]} == {c.lower() for c in plain} for index in adapter.indexes(table)):
        return None  # the index is there; the planner judged the scan cheaper
    advice = f"{head}; consider an index on ({', '.join(plain)})"
    return advice + (f" ({notes}: no index on the column serves that)" if notes else "")


def _converted(mappings: list[tuple[str, DatasetMapping]]) -> dict[str, str]:
    """Real columns the mapping compares as an expression (no index on the column serves it), and how."""
    found: dict[str, str] = {}
    for name, mapping in mappings:
        logicals = DATASETS.get(name, tuple(mapping.columns))
        for logical in logicals:
            column = mapping.column(logical)
            if column.type == "text":
                found[column.real] = "after conversion from text"
            elif logical in NORMALIZED.get(name, ()):
                found[column.real] = "trimmed and lower-cased"
    return found
