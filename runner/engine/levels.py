"""Warn and fail levels: "> 100", "< 99.7%", ">= 1"; counts or percentages."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from runner.engine.result import Status

_BOUND = re.compile(r"^\s*(<=|>=|<|>|==|!=)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*(%?)\s*$")
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def number(value: float) -> str:
    """1500, 99.7, 1234567.5: never rounded, never in exponent notation."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class Bound:
    """A condition that, when true of the observed value, means the level is reached."""

    op: str
    value: float
    percent: bool = False

    @classmethod
    def parse(cls, text: str) -> Bound:
        match = _BOUND.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a level such as '> 100' or '< 99.7%'")
        return cls(match.group(1), float(match.group(2)), bool(match.group(3)))

    def reached(self, observed: float) -> bool:
        return _OPERATORS[self.op](observed, self.value)

    def __str__(self) -> str:
        return f"{self.op} {number(self.value)}{'%' if self.percent else ''}"


@dataclass(frozen=True)
class Levels:
    fail: Bound | None = None
    warn: Bound | None = None

    @classmethod
    def parse(cls, fail: str | None = None, warn: str | None = None) -> Levels:
        return cls(Bound.parse(fail) if fail else None, Bound.parse(warn) if warn else None)

    @classmethod
    def above(cls, limit: float) -> Levels:
        """Fail when the value exceeds a limit (max_clients, a cap, a queue size)."""
        return cls(Bound(">", limit))

    @classmethod
    def below(cls, limit: float) -> Levels:
        """Fail when the value falls under a floor (free codes, availability)."""
        return cls(Bound("<", limit))

    @property
    def percent(self) -> bool:
        return any(bound.percent for bound in (self.fail, self.warn) if bound is not None)

    def verdict(self, observed: float | None) -> Status:
        if observed is None:
            return Status.PASS
        if self.fail is not None and self.fail.reached(observed):
            return Status.FAIL
        if self.warn is not None and self.warn.reached(observed):
            return Status.WARN
        return Status.PASS

    @property
    def expected(self) -> str:
        """The healthy range, as people read it: "<= 40000", ">= 99.7%"."""
        parts = []
        if self.fail is not None:
            parts.append(_healthy(self.fail))
        if self.warn is not None:
            parts.append(f"warn {self.warn}")
        return "; ".join(parts)


_NEGATION = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}


def _healthy(bound: Bound) -> str:
    return str(Bound(_NEGATION[bound.op], bound.value, bound.percent))
