"""`campaign-guard sources check`: is a mapping in rules/sources.yaml sound against its live source?

For every mapped dataset and table of a source it finds, each as a finding with the line of
rules/sources.yaml to change:

1. the mapped table or query and its columns are missing, or a value does not fit the contract's type
   (runner.mapping_probe, the probe every run makes);
2. NULLs in the columns the contract needs (all but contract.NULLABLE), counted over the dataset as
   mapped - renamed, converted and normalized - in one aggregate query per dataset;
3. values outside a vocabulary (contract.VOCABULARIES; customer types are thresholds.customer_types),
   counted in the same query, with the most frequent unknown values;
4. on PostgreSQL and MariaDB, the indexes the shipped checks need: the monitoring and launch-gate
   checks are evaluated once, like `run` does (nothing is stored), every statement they sent to the
   source is EXPLAINed and every full scan of a mapped table with a filter is reported with the real
   columns of the filter - unless the planner estimates the table below INDEX_WORTHY_ROWS rows.

No printing here: the command (runner.commands.sources_check) writes the findings.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement, ColumnElement, Executable

from runner.adapter import SourceError
from runner.contract import DATASETS, NORMALIZED, NULLABLE, vocabularies
from runner.engine.evaluation import Evaluation, Source
from runner.engine.execute import evaluate_each
from runner.engine.plan import run_tasks
from runner.mapping_probe import MappingIssue, probe
from runner.repository import Repository
from runner.sources import DatasetMapping, SourceConfig, Sources
from runner.sql_adapter import Executed, SqlAlchemyAdapter

ERROR, WARNING, ADVICE = "error", "warning", "advice"
SEVERITIES = (ERROR, WARNING, ADVICE)
SHOWN = 5  # distinct unknown values named per column
INDEX_WORTHY_ROWS = 10_000  # a full scan of a smaller table costs less than keeping an index
CHECKS_NAMED = 5  # checks named per index advice
EXPLAINED_DIALECTS = ("postgresql", "mysql")
SQLITE_NO_ADVICE = "index advice: not available on SQLite"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Finding:
    """One thing to fix (or, for advice, to consider) in a source's mapping."""

    source: str
    dataset: str  # the dataset, or the name of the table under `tables:`
    column: str | None
    severity: str  # error | warning | advice
    message: str
    file: str
    line: int | None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dataset": self.dataset,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }


@dataclass
class SourceReport:
    """What was checked of one source and what was found; `failure` when it could not be checked."""

    source: str
    dialect: str | None = None
    datasets: int = 0
    tables: int = 0
    findings: list[Finding] = field(default_factory=list)
    failure: SourceError | None = None

    @property
    def unreachable(self) -> bool:
        """Could not connect (exit 4), as opposed to a URL or driver that cannot work (exit 3)."""
        return self.failure is not None and self.failure.message.startswith(("cannot connect", "query exceeded"))

    def count(self, severity: str) -> int:
        return sum(finding.severity == severity for finding in self.findings)


def check_sources(
    repo: Repository, sources: Sources, names: Sequence[str], now: datetime, progress: Progress | None = None
) -> list[SourceReport]:
    """The report of every named source, in the order given; no exception escapes for a source's sake."""
    say = progress or (lambda _text: None)
    reports: list[SourceReport] = []
    opened: dict[str, _RecordingAdapter] = {}
    try:
        for name in names:
            config = sources.by_name[name]
            report = SourceReport(name)
            reports.append(report)
            adapter = _open(config, report)
            if adapter is None:
                continue
            opened[name] = adapter
            report.dialect = adapter.dialect
            checking = f"{plural(len(config.datasets), 'dataset')}, {plural(len(config.tables), 'table')}"
            say(f"{name}: checking {checking} ...")
            report.findings.extend(_datasets(repo, config, adapter, report))
            report.findings.extend(_tables(repo, config, adapter, report))
        explained = {name: a for name, a in opened.items() if a.dialect in EXPLAINED_DIALECTS}
        if explained:
            say(f"{', '.join(explained)}: evaluating the checks once for index advice ...")
            _evaluate(repo, sources, explained, now)
            for report in reports:
                if report.source in explained:
                    asked = sum(bool(explained[report.source].checks_of(e)) for e in explained[report.source].executed)
                    say(f"{report.source}: explaining the {plural(asked, 'statement')} the checks sent ...")
                    report.findings.extend(index_advice(sources.by_name[report.source], explained[report.source]))
    finally:
        for adapter in opened.values():
            adapter.close()
    return reports


def _open(config: SourceConfig, report: SourceReport) -> _RecordingAdapter | None:
    adapter = None
    try:
        adapter = _RecordingAdapter(config)
        with adapter.connection() as connection:
            connection.execute(sa.text("SELECT 1"))
    except SourceError as error:
        report.failure = error
        if adapter is not None:
            adapter.close()
        return None
    return adapter


# --- 1-3: the mapping, NULLs and vocabularies --------------------------------------------------------------


def _datasets(
    repo: Repository, config: SourceConfig, adapter: _RecordingAdapter, report: SourceReport
) -> Iterator[Finding]:
    known = vocabularies(repo.thresholds["customer_types"])
    for name, mapping in config.datasets.items():
        report.datasets += 1
        issues = _probe(adapter, config, name, mapping, DATASETS[name])
        yield from (_issue_finding(config, issue, table=False) for issue in issues)
        if issues:  # the counts would stumble on the same thing
            continue
        try:
            found = list(_counts(config, adapter, name, mapping, known))
        except Exception as error:  # one dataset's failure is its finding; the others are still counted
            message = f"the NULL and vocabulary counts failed: {_reason(error)}"
            found = [Finding(config.name, name, None, ERROR, message, config.file, mapping.line)]
        yield from found


def _tables(
    repo: Repository, config: SourceConfig, adapter: _RecordingAdapter, report: SourceReport
) -> Iterator[Finding]:
    monitored = _monitored_columns(repo)
    for name, mapping in config.tables.items():
        report.tables += 1
        columns = list(dict.fromkeys([*mapping.columns, *monitored.get(name, ())]))
        if not columns:  # no rule names a column of it: every column it has, as it has them
            present = _all_columns(adapter, mapping)
            if present is None:
                what = "no such table" if mapping.table else "the query fails"
                origin = f"table {name} -> {mapping.origin}" if mapping.table else f"table {name} (query)"
                yield Finding(config.name, name, None, ERROR, f"{origin}: {what}", config.file, mapping.line)
                continue
            columns = present
            if not columns:
                continue
        issues = _probe(adapter, config, name, mapping, columns)
        yield from (_issue_finding(config, issue, table=True) for issue in issues)


def _probe(
    adapter: _RecordingAdapter, config: SourceConfig, name: str, mapping: DatasetMapping, columns: Sequence[str]
) -> list[MappingIssue]:
    try:
        with adapter.connection() as connection:
            return probe(connection, name, mapping, columns, config.file)
    except Exception as error:  # the source went away, or the mapping is beyond the probe: this dataset's error
        origin = f"dataset {name} -> {mapping.origin}" if mapping.table else f"dataset {name} (query)"
        return [MappingIssue(name, None, f"cannot be probed: {_reason(error)}", config.file, mapping.line, origin)]


def _all_columns(adapter: _RecordingAdapter, mapping: DatasetMapping) -> list[str] | None:
    """The real columns of a mapped table or query; None when there is no such table or the query fails."""
    try:
        with adapter.connection() as connection:
            if mapping.table is not None:
                schema, _, table = mapping.table.rpartition(".")
                return [c["name"] for c in sa.inspect(connection).get_columns(table, schema=schema or None)]
            body = (mapping.query or "").strip().rstrip(";")
            return list(connection.execute(sa.text(f"SELECT * FROM ({body}\n) probed WHERE 1 = 0")).keys())
    except (SourceError, exc.NoSuchTableError, exc.DBAPIError):
        return None


def _monitored_columns(repo: Repository) -> dict[str, list[str]]:
    """Table name -> the columns rules/monitored_tables.yaml reads of it."""
    found: dict[str, list[str]] = {}
    for document in repo.documents("monitored_tables"):
        if not document.schema_valid:
            continue
        for table in document.data.get("tables", ()):
            if table.get("timestamp_column"):
                found.setdefault(table["table"], []).append(table["timestamp_column"])
    return found


def _issue_finding(config: SourceConfig, issue: MappingIssue, *, table: bool) -> Finding:
    message = f"{issue.origin}: {issue.message}"
    if table:  # the probe speaks of datasets; a table under `tables:` is called so
        message = message.replace("dataset ", "table ", 1)
    return Finding(config.name, issue.dataset, issue.column, ERROR, message, issue.file, issue.line)


def _counts(
    config: SourceConfig,
    adapter: _RecordingAdapter,
    name: str,
    mapping: DatasetMapping,
    known: Mapping[tuple[str, str], tuple[str, ...]],
) -> Iterator[Finding]:
    """NULLs of every needed column and values outside every vocabulary: one aggregate query."""
    rows = adapter.dataset(name)
    needed = [column for column in DATASETS[name] if column not in NULLABLE.get(name, ())]
    vocabulary = {column: values for (dataset, column), values in known.items() if dataset == name}
    measures: list[ColumnElement[Any]] = [sa.func.count().label("rows")]
    for index, column in enumerate(needed):
        measures.append(sa.func.sum(sa.case((rows.c[column].is_(None), 1), else_=0)).label(f"null_{index}"))
    for index, (column, values) in enumerate(vocabulary.items()):
        outside = _outside(rows.c[column], values)
        measures.append(sa.func.sum(sa.case((outside, 1), else_=0)).label(f"unknown_{index}"))
        measures.append(sa.func.count(sa.distinct(sa.case((outside, rows.c[column])))).label(f"kinds_{index}"))
    answer = adapter.fetch(sa.select(*measures).select_from(rows))[0]
    total = int(answer["rows"] or 0)
    for index, column in enumerate(needed):
        nulls = int(answer[f"null_{index}"] or 0)
        if nulls:
            declared = mapping.column(column)
            why = f" (NULL, or text not written as {declared.format!r})" if declared.type == "text" else ""
            message = f"{nulls:,} of {total:,} rows have no {column}{why}"
            yield Finding(config.name, name, column, WARNING, message, config.file, declared.line)
    for index, (column, values) in enumerate(vocabulary.items()):
        outside_rows = int(answer[f"unknown_{index}"] or 0)
        if not outside_rows:
            continue
        kinds = int(answer[f"kinds_{index}"] or 0)
        top = _most_frequent(adapter, rows, column, values)
        named = ", ".join(f"{value!r} ({count:,})" for value, count in top)
        more = f", and {plural(kinds - len(top), 'more value')}" if kinds > len(top) else ""
        rows_text = "1 row" if outside_rows == 1 else f"{outside_rows:,} rows"
        message = f"{rows_text} with a {column} outside the vocabulary ({', '.join(values)}): {named}{more}"
        yield Finding(config.name, name, column, WARNING, message, config.file, mapping.column(column).line)


def _reason(error: Exception) -> str:
    if isinstance(error, SourceError):
        return error.message
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def _outside(value: ColumnElement[Any], values: tuple[str, ...]) -> ColumnElement[bool]:
    return sa.and_(value.is_not(None), value.not_in(values))


def _most_frequent(
    adapter: _RecordingAdapter, rows: sa.FromClause, column: str, values: tuple[str, ...]
) -> list[tuple[Any, int]]:
    value = rows.c[column]
    statement = (
        sa.select(value.label("value"), sa.func.count().label("rows"))
        .where(_outside(value, values))
        .group_by(value)
        .order_by(sa.func.count().desc(), value)
        .limit(SHOWN)
    )
    return [(row["value"], int(row["rows"])) for row in adapter.fetch(statement)]


# --- 4: index advice ---------------------------------------------------------------------------------------


class _RecordingAdapter(SqlAlchemyAdapter):
    """The adapter `run` uses, remembering which checks asked each statement it sent."""

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


def _evaluate(repo: Repository, sources: Sources, adapters: Mapping[str, SqlAlchemyAdapter], now: datetime) -> None:
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


def index_advice(config: SourceConfig, adapter: _RecordingAdapter) -> list[Finding]:
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
    findings = []
    for (table, columns), checks in sorted(scans.items()):
        size = adapter.estimated_rows(table)
        if size is not None and size < INDEX_WORTHY_ROWS:
            continue
        mappings = tables[table.lower()][1]
        message = _advice(adapter, table, columns, equality[(table, columns)], checks, mappings)
        if message is None:
            continue
        name, mapping = mappings[0]
        findings.append(Finding(config.name, name, None, ADVICE, message, config.file, mapping.line))
    return sorted(findings, key=lambda finding: (finding.line or 0, finding.message))


def _mapped_tables(config: SourceConfig) -> dict[str, tuple[str, list[tuple[str, DatasetMapping]]]]:
    """lower-case table name (without schema) -> (the mapped table, its mappings: datasets first)."""
    found: dict[str, tuple[str, list[tuple[str, DatasetMapping]]]] = {}
    for name, mapping in [*config.datasets.items(), *config.tables.items()]:
        if mapping.table is None:
            continue
        key = mapping.table.rpartition(".")[2].lower()
        found.setdefault(key, (mapping.table, []))[1].append((name, mapping))
    return found


def _real_columns(adapter: _RecordingAdapter, table: str, mappings: list[tuple[str, DatasetMapping]]) -> list[str]:
    columns = _all_columns(adapter, mappings[0][1])
    if columns is None:  # fall back on what the mapping says
        columns = [mapping.real_column(c) for name, mapping in mappings for c in DATASETS.get(name, mapping.columns)]
    return columns


def _advice(
    adapter: _RecordingAdapter,
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


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
