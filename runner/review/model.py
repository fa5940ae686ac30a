"""What a review is made of: the configuration of each side, what changed, and what became riskier."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from runner.document import Document
from runner.findings import Finding, Severity
from runner.positions import JsonPath
from runner.repository import Repository


class _Absent:
    """A field that is not there (distinct from an explicit null)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Any = _Absent()


def canonical(value: Any) -> str:
    """Equality as configuration means it: key order does not matter, true is not 1."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Entity:
    """One identified thing in a configuration file: a campaign, a check, a subscription, ..."""

    kind: str  # a kind name of runner/kinds.py
    key: str  # its id (the file's id, a list item's id or name, or the kind name for one-file kinds)
    document: Document
    path: JsonPath  # where it lives in its file
    data: Any

    @property
    def file(self) -> str:
        return self.document.rel

    def position(self, inner: JsonPath = (), *, key: bool = False) -> tuple[int, int]:
        """Line and column of a path inside the entity; a missing path gives its deepest existing parent."""
        return self.document.position((*self.path, *inner), key=key)


@dataclass(frozen=True)
class FieldChange:
    path: tuple[str, ...]  # inside the entity
    before: Any  # ABSENT when the field was not there
    after: Any  # ABSENT when the field is gone


@dataclass(frozen=True)
class Change:
    kind: str
    key: str
    status: str  # added, removed or changed
    before: Entity | None
    after: Entity | None
    fields: tuple[FieldChange, ...] = ()

    @property
    def entity(self) -> Entity:
        entity = self.after or self.before
        assert entity is not None
        return entity

    @property
    def file(self) -> str:
        return self.entity.file


@dataclass
class Snapshot:
    """One side of the review: its files, its repository (None when it holds no configuration)."""

    label: str
    files: dict[str, bytes]
    repo: Repository | None
    entities: dict[tuple[str, str], Entity] = field(default_factory=dict)

    def of(self, kind: str) -> dict[str, Entity]:
        return {key: entity for (found, key), entity in self.entities.items() if found == kind}

    @cached_property
    def thresholds(self) -> dict[str, Any]:
        """rules/thresholds.yaml over its schema's defaults."""
        return self.repo.thresholds if self.repo is not None else {}


@dataclass(frozen=True)
class Compared:
    """What every risk flag looks at."""

    base: Snapshot
    head: Snapshot
    changes: tuple[Change, ...]
    now: datetime

    def of(self, kind: str, *statuses: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind and (not statuses or c.status in statuses)]


@dataclass(frozen=True, order=True)
class Risk:
    """Something a change makes riskier, said in plain words."""

    file: str
    line: int
    column: int
    flag: str  # review.bonus_raised, ...
    severity: Severity
    subject: str  # the campaign, campaign/element, template, check, localization ...
    reason: str

    def as_finding(self) -> Finding:
        return Finding(self.file, self.line, self.column, self.flag, self.severity, f"{self.subject}: {self.reason}")


@dataclass(frozen=True, order=True)
class Unparsed:
    """A changed file of the head that cannot be read as configuration: what it defines is not compared."""

    file: str
    line: int
    column: int
    label: str  # "campaign file", "subscriptions file", ...
    check_id: str  # yaml.duplicate_key, yaml.syntax, ...
    message: str
    parsed_before: bool  # the base revision could read it

    @property
    def headline(self) -> str:
        """campaign file no longer parses: campaigns/welcome_chain.yaml line 12: duplicate key 'audience' ..."""
        state = "no longer parses" if self.parsed_before else "does not parse"
        return f"{self.label} {state}: {self.file} line {self.line}: {self.message}"


@dataclass(frozen=True)
class Review:
    base: Snapshot
    head: Snapshot
    changed_files: tuple[str, ...]
    changes: tuple[Change, ...]
    risks: tuple[Risk, ...]
    findings: tuple[Finding, ...]
    unparsed: tuple[Unparsed, ...] = ()
