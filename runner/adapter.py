"""What a data source offers the check engine, and the error it raises."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.sql import Executable, FromClause, TextClause

    from runner.sources import SourceConfig


class SourceError(Exception):
    """A source could not answer: unreachable, refused, missing table or column, too slow.

    Names the source and the check, so that one failing source does not hide the others.
    """

    def __init__(self, source: str, check: str | None, message: str, *, unreachable: bool = False) -> None:
        self.source = source
        self.check = check
        self.message = message
        self.unreachable = unreachable
        """The source did not answer at all (no connection, the statement timeout): exit 4, not a mapping error."""
        about = f" (check {check})" if check else ""
        super().__init__(f"source {source!r}{about}: {message}")


class Adapter(Protocol):
    name: str
    timezone: str

    def over_datasets(self, sql: str) -> TextClause:
        """SQL from configuration, written against dataset names, made to run on this source."""
        ...

    def dataset(self, name: str) -> FromClause:
        """The logical dataset, with the contract's column names, to build queries on."""
        ...

    def table(self, name: str, columns: Sequence[str], times: Sequence[str] = ()) -> FromClause:
        """A table outside the contract (a monitored integration table), as mapped under `tables:`."""
        ...

    def redact(self, row: Mapping[str, Any], datasets: Collection[str] | None = None) -> dict[str, Any]:
        """A sample row with the columns the mapping of those datasets (all: None) masks or hides treated so."""
        ...

    def private(self, dataset: str) -> frozenset[str]:
        """The columns of a dataset that samples and subjects may not show as they are."""
        ...

    def fetch(self, statement: Executable, *, check: str | None = None) -> list[dict[str, Any]]:
        """Rows of a query; raises SourceError."""
        ...

    def run_statements(self, statements: Sequence[str], *, check: str | None = None) -> None:
        """Run configured statements (stop/start actions) in one transaction; raises SourceError."""
        ...

    def close(self) -> None: ...


def open_adapter(config: SourceConfig) -> Adapter:
    """Every URL is a SQLAlchemy URL today; other adapters would be chosen here by scheme."""
    from runner.sql_adapter import SqlAlchemyAdapter

    if config.url_error is not None:
        raise SourceError(config.name, None, config.url_error)
    return SqlAlchemyAdapter(config)
