"""Data sources as configured in rules/sources.yaml, with URLs taken from the environment.

One file maps a CRM: the URL, the logical datasets onto tables or queries (with renamed
columns, time stored as text, and which columns samples may show), and the other tables the
rules name (monitored integration tables). Every mapping remembers its line, so that an error
found against the live source can say which line of rules/sources.yaml to fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.document import Document
from runner.envref import expand
from runner.errors import UsageError
from runner.repository import Repository

SOURCES_FILE = "rules/sources.yaml"


@dataclass(frozen=True)
class Column:
    """Where a logical column lives, and how the source stores it when not as the contract's type."""

    real: str
    type: str | None = None  # "text": a time or date stored as text in `format`
    format: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class SamplePolicy:
    """Which columns of a dataset sample rows may show: all but masked ones, or only those shown."""

    show: frozenset[str] | None = None
    mask: frozenset[str] = frozenset()

    def hidden(self, columns: Iterable[str]) -> frozenset[str]:
        """The dataset's columns a `show` list leaves out."""
        return frozenset(columns) - self.show if self.show is not None else frozenset()


@dataclass(frozen=True)
class DatasetMapping:
    """Where a logical dataset lives: a table (with renamed columns) or a query."""

    table: str | None = None
    query: str | None = None
    columns: Mapping[str, str | Column] = field(default_factory=dict)
    samples: SamplePolicy = SamplePolicy()
    line: int | None = None

    def column(self, logical: str) -> Column:
        found = self.columns.get(logical, logical)
        return found if isinstance(found, Column) else Column(found, line=self.line)

    def real_column(self, logical: str) -> str:
        return self.column(logical).real

    @property
    def origin(self) -> str:
        """The table, or "query", as a person names it in a message."""
        return self.table or "query"


@dataclass(frozen=True)
class SourceConfig:
    name: str
    url: str
    statement_timeout_seconds: int = 30
    max_concurrent_queries: int = 4
    timezone: str = "UTC"
    datasets: Mapping[str, DatasetMapping] = field(default_factory=dict)
    stop_actions: tuple[str, ...] = ()
    start_actions: tuple[str, ...] = ()
    tables: Mapping[str, DatasetMapping] = field(default_factory=dict)
    """Tables outside the contract that rules name (monitored tables), mapped like datasets."""
    file: str = SOURCES_FILE
    url_error: str | None = None
    """Why the URL is unknown (its environment variable is not set): the source fails where it is used."""


@dataclass(frozen=True)
class Sources:
    default: str
    by_name: Mapping[str, SourceConfig]

    def get(self, name: str | None) -> SourceConfig:
        wanted = name or self.default
        if wanted not in self.by_name:
            raise UsageError(f"{SOURCES_FILE}: no source named {wanted!r}")
        return self.by_name[wanted]


def load_sources(repo: Repository, environ: Mapping[str, str] | None = None) -> Sources:
    """The validated sources file; `campaign-guard validate` explains what is wrong with an invalid one."""
    document = next((d for d in repo.documents("sources") if d.schema_valid), None)
    if document is None:
        raise UsageError(f"{SOURCES_FILE}: missing or invalid; run `campaign-guard validate {SOURCES_FILE}`")
    env = os.environ if environ is None else environ
    data = document.data
    by_name = {name: _source(repo.root, document, name, spec, env) for name, spec in data["sources"].items()}
    return Sources(data["default"], by_name)


def _source(
    root: Path, document: Document, name: str, spec: Mapping[str, Any], environ: Mapping[str, str]
) -> SourceConfig:
    try:
        url, unset = _anchor_sqlite(root, expand(spec["url"], environ, where=document.rel)), None
    except UsageError as error:  # an error of this source alone, when something uses it
        url, unset = "", str(error)
    return SourceConfig(
        name=name,
        url=url,
        url_error=unset,
        statement_timeout_seconds=spec["statement_timeout_seconds"],
        max_concurrent_queries=spec["max_concurrent_queries"],
        timezone=spec["timezone"],
        datasets={
            dataset: _mapping(document, ("sources", name, "datasets", dataset), mapping)
            for dataset, mapping in spec.get("datasets", {}).items()
        },
        stop_actions=tuple(spec.get("stop_actions", ())),
        start_actions=tuple(spec.get("start_actions", ())),
        tables={
            table: _mapping(document, ("sources", name, "tables", table), mapping)
            for table, mapping in spec.get("tables", {}).items()
        },
        file=document.rel,
    )


def _mapping(document: Document, path: tuple[str, ...], spec: Mapping[str, Any]) -> DatasetMapping:
    columns: dict[str, str | Column] = {}
    for logical, real in spec.get("columns", {}).items():
        line = document.position((*path, "columns", logical))[0]
        if isinstance(real, str):
            columns[logical] = Column(real, line=line)
        else:
            columns[logical] = Column(real["column"], real.get("type"), real.get("format"), line)
    samples = spec.get("samples", {})
    policy = SamplePolicy(frozenset(samples["show"]) if "show" in samples else None, frozenset(samples.get("mask", ())))
    return DatasetMapping(
        spec.get("table"), spec.get("query"), columns, policy, line=document.position(path, key=True)[0]
    )


def _anchor_sqlite(root: Path, url: str) -> str:
    """A relative SQLite path means relative to the repository, not to wherever the command runs."""
    prefix, _, path = url.partition(":///")
    if prefix.startswith("sqlite") and path and not path.startswith("/") and not path.startswith(":memory:"):
        return f"{prefix}:///{(root / path).resolve()}"
    return url
