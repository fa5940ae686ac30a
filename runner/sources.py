"""Data sources as configured in rules/sources.yaml, with URLs taken from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.envref import expand
from runner.errors import UsageError
from runner.repository import Repository

SOURCES_FILE = "rules/sources.yaml"


@dataclass(frozen=True)
class DatasetMapping:
    """Where a logical dataset lives: a table (with renamed columns) or a query."""

    table: str | None = None
    query: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)

    def real_column(self, logical: str) -> str:
        return self.columns.get(logical, logical)

    def is_identity(self, dataset: str) -> bool:
        """A table of the dataset's own name with the contract's column names."""
        return self.query is None and self.table == dataset and all(k == v for k, v in self.columns.items())


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
    data = repo.single("sources")
    if data is None:
        raise UsageError(f"{SOURCES_FILE}: missing or invalid; run `campaign-guard validate {SOURCES_FILE}`")
    env = os.environ if environ is None else environ
    by_name = {name: _source(repo.root, name, spec, env) for name, spec in data["sources"].items()}
    return Sources(data["default"], by_name)


def _source(root: Path, name: str, spec: Mapping[str, Any], environ: Mapping[str, str]) -> SourceConfig:
    url = _anchor_sqlite(root, expand(spec["url"], environ, where=f"{SOURCES_FILE}: source {name!r}"))
    datasets = {
        dataset: DatasetMapping(mapping.get("table"), mapping.get("query"), dict(mapping.get("columns", {})))
        for dataset, mapping in spec.get("datasets", {}).items()
    }
    return SourceConfig(
        name=name,
        url=url,
        statement_timeout_seconds=spec.get("statement_timeout_seconds", 30),
        max_concurrent_queries=spec.get("max_concurrent_queries", 4),
        timezone=spec.get("timezone", "UTC"),
        datasets=datasets,
        stop_actions=tuple(spec.get("stop_actions", ())),
        start_actions=tuple(spec.get("start_actions", ())),
    )


def _anchor_sqlite(root: Path, url: str) -> str:
    """A relative SQLite path means relative to the repository, not to wherever the command runs."""
    prefix, _, path = url.partition(":///")
    if prefix.startswith("sqlite") and path and not path.startswith("/") and not path.startswith(":memory:"):
        return f"{prefix}:///{(root / path).resolve()}"
    return url
