"""A rule test as loaded: its fixture tables, the checks it evaluates and the problems it expects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.types import TypeEngine

from runner.engine.plan import Task


@dataclass(frozen=True)
class Expected:
    """A problem the test expects: check, subject and severity, optionally its observed value."""

    check: str
    subject: str
    severity: str
    observed: Any = None  # None: any value (the schema does not allow null here)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.check, self.subject, self.severity)


@dataclass(frozen=True)
class FixtureTable:
    """A table of the fixture database: its typed columns (in order) and the rows to insert."""

    name: str
    columns: Mapping[str, TypeEngine[Any]]
    rows: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class RuleTest:
    name: str
    file: str
    line: int
    now: datetime
    tasks: tuple[Task, ...]
    tables: tuple[FixtureTable, ...]
    expect: tuple[Expected, ...]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"
