"""`campaign-guard sources check`: is a mapping in rules/sources.yaml sound against its live source?

This module verifies the mapping and keeps the findings. For every mapped dataset and table of a
source it finds, each as a finding with the line of rules/sources.yaml to change:

1. the mapped table or query and its columns are missing, or a value does not fit the contract's type
   (runner.mapping_probe, the probe every run makes);
2. NULLs in the columns the contract needs (all but contract.NULLABLE), counted over the dataset as
   mapped - renamed, converted and normalized - in one aggregate query per dataset;
3. values outside a vocabulary (contract.VOCABULARIES; customer types are thresholds.customer_types),
   counted in the same query, with the most frequent unknown values.

check_sources adds, on PostgreSQL and MariaDB, the indexes the shipped checks need (runner.index_advice)
as advice findings.

No printing here: the command (runner.commands.sources_check) writes the findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from runner.adapter import SourceError
from runner.builtin.vocabulary import most_frequent, outside
from runner.contract import DATASETS, NULLABLE, vocabularies
from runner.index_advice import EXPLAINED_DIALECTS, RecordingAdapter, evaluate_checks, index_advice
from runner.mapping import where
from runner.mapping_probe import MappingIssue, probe
from runner.repository import Repository
from runner.sources import DatasetMapping, SourceConfig, Sources

ERROR, WARNING, ADVICE = "error", "warning", "advice"
SEVERITIES = (ERROR, WARNING, ADVICE)

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
        return self.failure is not None and self.failure.unreachable

    def count(self, severity: str) -> int:
        return sum(finding.severity == severity for finding in self.findings)


def check_sources(
    repo: Repository, sources: Sources, names: Sequence[str], now: datetime, progress: Progress | None = None
) -> list[SourceReport]:
    """The report of every named source, in the order given; no exception escapes for a source's sake."""
    say = progress or (lambda _text: None)
    reports: list[SourceReport] = []
    opened: dict[str, RecordingAdapter] = {}
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
            evaluate_checks(repo, sources, explained, now)
            for report in reports:
                if report.source in explained:
                    asked = sum(bool(explained[report.source].checks_of(e)) for e in explained[report.source].executed)
                    say(f"{report.source}: explaining the {plural(asked, 'statement')} the checks sent ...")
                    report.findings.extend(_advice_findings(sources.by_name[report.source], explained[report.source]))
    finally:
        for adapter in opened.values():
            adapter.close()
    return reports


def _advice_findings(config: SourceConfig, adapter: RecordingAdapter) -> list[Finding]:
    """The index advice for a source whose checks were evaluated, as findings at its mapping's line."""
    return [
        Finding(config.name, advice.dataset, None, ADVICE, advice.message, config.file, advice.line)
        for advice in index_advice(config, adapter)
    ]


def _open(config: SourceConfig, report: SourceReport) -> RecordingAdapter | None:
    adapter = None
    if config.url_error is not None:  # its environment variable is not set
        report.failure = SourceError(config.name, None, config.url_error)
        return None
    try:
        adapter = RecordingAdapter(config)
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
    repo: Repository, config: SourceConfig, adapter: RecordingAdapter, report: SourceReport
) -> Iterator[Finding]:
    known = vocabularies(repo.thresholds["customer_types"])
    for name, mapping in config.datasets.items():
        report.datasets += 1
        issues = _probe(adapter, config, name, mapping, DATASETS[name])
        yield from (_issue_finding(config, issue) for issue in issues)
        if issues:  # the counts would stumble on the same thing
            continue
        try:
            found = list(_counts(config, adapter, name, mapping, known))
        except Exception as error:  # one dataset's failure is its finding; the others are still counted
            message = f"the NULL and vocabulary counts failed: {_reason(error)}"
            found = [Finding(config.name, name, None, ERROR, message, config.file, mapping.line)]
        yield from found


def _tables(
    repo: Repository, config: SourceConfig, adapter: RecordingAdapter, report: SourceReport
) -> Iterator[Finding]:
    monitored = _monitored_columns(repo)
    for name, mapping in config.tables.items():
        report.tables += 1
        columns = list(dict.fromkeys([*mapping.columns, *monitored.get(name, ())]))
        if not columns:  # no rule names a column of it: every column it has, as it has them
            present = adapter.columns(mapping)
            if present is None:
                what = "no such table" if mapping.table else "the query fails"
                origin = where(name, mapping, noun="table")
                yield Finding(config.name, name, None, ERROR, f"{origin}: {what}", config.file, mapping.line)
                continue
            columns = present
            if not columns:
                continue
        times = tuple(monitored.get(name, ()))
        issues = _probe(adapter, config, name, mapping, columns, times=times, noun="table")
        yield from (_issue_finding(config, issue) for issue in issues)


def _probe(
    adapter: RecordingAdapter,
    config: SourceConfig,
    name: str,
    mapping: DatasetMapping,
    columns: Sequence[str],
    *,
    times: Sequence[str] = (),
    noun: str = "dataset",
) -> list[MappingIssue]:
    try:
        with adapter.connection() as connection:
            return probe(connection, name, mapping, columns, config.file, times=times, noun=noun)
    except Exception as error:  # the source went away, or the mapping is beyond the probe: this dataset's error
        origin = where(name, mapping, noun=noun)
        return [MappingIssue(name, None, f"cannot be probed: {_reason(error)}", config.file, mapping.line, origin)]


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


def _issue_finding(config: SourceConfig, issue: MappingIssue) -> Finding:
    message = f"{issue.origin}: {issue.message}"
    return Finding(config.name, issue.dataset, issue.column, ERROR, message, issue.file, issue.line)


def _counts(
    config: SourceConfig,
    adapter: RecordingAdapter,
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
        strange = outside(rows.c[column], values)
        measures.append(sa.func.sum(sa.case((strange, 1), else_=0)).label(f"unknown_{index}"))
        measures.append(sa.func.count(sa.distinct(sa.case((strange, rows.c[column])))).label(f"kinds_{index}"))
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
        top = most_frequent(adapter.fetch, rows, column, outside(rows.c[column], values))
        named = ", ".join(f"{value!r} ({count:,})" for value, count in top)
        more = f", and {plural(kinds - len(top), 'more value')}" if kinds > len(top) else ""
        rows_text = "1 row" if outside_rows == 1 else f"{outside_rows:,} rows"
        message = f"{rows_text} with a {column} outside the vocabulary ({', '.join(values)}): {named}{more}"
        yield Finding(config.name, name, column, WARNING, message, config.file, mapping.column(column).line)


def _reason(error: Exception) -> str:
    if isinstance(error, SourceError):
        return error.message
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
