"""A static check: declarative facts about it plus a function that finds hits."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from runner.document import Document
from runner.findings import Severity
from runner.positions import JsonPath
from runner.repository import Repository


@dataclass(frozen=True)
class Hit:
    """One place a check objects to; the message names the thing and says how to fix it."""

    path: JsonPath
    message: str
    key: bool = False
    text_line: int = 0  # a line of the string at path (a template's body), 1-based; 0: the value itself


@dataclass(frozen=True)
class Context:
    repo: Repository
    now: datetime


CheckFunction = Callable[[Document, Context], Iterable[Hit]]


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    localization: str
    kinds: tuple[str, ...]
    fix: str
    run: CheckFunction
    any_shape: bool = False  # runs on files that fail their schema too, so assumes nothing of the data's shape

    @property
    def summary(self) -> str:
        """What the check catches: the first paragraph of its function's docstring."""
        return (inspect.getdoc(self.run) or "").split("\n\n")[0].replace("\n", " ")
