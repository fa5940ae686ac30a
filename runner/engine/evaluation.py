"""What a data check sees while it runs: the repository, the moment, and the sources."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy.sql import Executable, FromClause, TextClause

from runner.adapter import Adapter, SourceError, open_adapter
from runner.contract import DATASETS
from runner.mapping import datasets_named
from runner.repository import Repository
from runner.sources import Sources, load_sources

if TYPE_CHECKING:
    from runner.store.connect import Store
    from runner.store.history import History
    from runner.store.outbound import Stop


@dataclass
class Reading:
    """What the current task has read: an error result names it, and samples are masked by it."""

    described: list[str] = field(default_factory=list)  # "dataset launches of source 'crm'", ...
    datasets: set[tuple[str, str]] = field(default_factory=set)  # (source, dataset)


READING: contextvars.ContextVar[Reading] = contextvars.ContextVar("reading")


def touch(what: str, source: str | None = None, datasets: Iterable[str] = ()) -> None:
    reading = READING.get(None)
    if reading is None:
        return
    if what not in reading.described:
        reading.described.append(what)
    reading.datasets.update((source, dataset) for dataset in datasets if source is not None)


class Source:
    """A source as checks use it: datasets, raw tables, queries, and its local time."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.name = adapter.name
        self.zone = ZoneInfo(adapter.timezone)

    def dataset(self, name: str) -> FromClause:
        touch(f"dataset {name} of source {self.name!r}", self.name, (name,))
        return self.adapter.dataset(name)

    def table(self, name: str, *columns: str, times: Sequence[str] = ()) -> FromClause:
        """A table named in configuration (monitored tables): a dataset of the contract when it is one,
        else a table mapped under `tables:` in rules/sources.yaml, else the table of that name.

        times: its columns that must hold moments (the timestamp column), checked like the contract's.
        """
        if name in DATASETS:
            return self.dataset(name)
        touch(f"table {name} of source {self.name!r}")
        return self.adapter.table(name, columns, times)

    def redact(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """A sample row as the mapping of the datasets the current check read lets it be shown."""
        return self.adapter.redact(row, self._read())

    def private(self, dataset: str | None) -> frozenset[str]:
        """Columns of a dataset whose values must not be shown as they are (masked or not shown)."""
        return self.adapter.private(dataset) if dataset is not None else frozenset()

    def _read(self) -> frozenset[str] | None:
        reading = READING.get(None)
        if reading is None:
            return None  # outside a check: every policy of the source applies
        return frozenset(dataset for source, dataset in reading.datasets if source == self.name)

    def sql(self, text: str) -> TextClause:
        touch(f"SQL of source {self.name!r}", self.name, datasets_named(text, DATASETS))
        return self.adapter.over_datasets(text)

    def rows(self, statement: Executable, check: str) -> list[dict[str, Any]]:
        return self.adapter.fetch(statement, check=check)

    def local(self, moment: datetime) -> datetime:
        """A moment as the source's zone-less timestamps write it."""
        return moment.astimezone(self.zone).replace(tzinfo=None)


class Evaluation:
    """One evaluation: every check of a `run` or a `check` shares it, and its query answers."""

    def __init__(
        self,
        repo: Repository,
        now: datetime,
        sources: Sources | None = None,
        outbound_stop: Stop | None = None,
        history: History | None = None,
    ) -> None:
        self.repo = repo
        self.now = now
        self.outbound_stop = outbound_stop  # the big red button, when pressed
        self.history = history  # stored check results, when a state store is at hand
        self._sources = sources
        self._open: dict[str, Source | SourceError] = {}
        self._lock = threading.Lock()

    @classmethod
    def with_store(cls, repo: Repository, now: datetime, store: Store) -> Evaluation:
        """An evaluation that sees the store's big red button and its result history."""
        from runner.store.history import History
        from runner.store.outbound import current_stop

        return cls(repo, now, outbound_stop=current_stop(store), history=History(store))

    @cached_property
    def sources(self) -> Sources:
        return self._sources or load_sources(self.repo)

    @property
    def thresholds(self) -> dict[str, Any]:
        return self.repo.thresholds

    def source(self, name: str | None) -> Source:
        """The named (or default) source, connected once; a source that cannot open fails every use."""
        config = self.sources.get(name)
        with self._lock:
            if config.name not in self._open:
                try:
                    self._open[config.name] = Source(open_adapter(config))
                except SourceError as error:
                    self._open[config.name] = error
            opened = self._open[config.name]
        if isinstance(opened, SourceError):
            raise opened
        return opened

    @property
    def opened(self) -> Iterable[Source]:
        return [s for s in self._open.values() if isinstance(s, Source)]

    def close(self) -> None:
        for source in self.opened:
            source.adapter.close()
