"""A data check: declarative facts about it plus the function that evaluates it."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from runner.engine.result import Result, Status
from runner.findings import Severity


@dataclass(frozen=True)
class About:
    """What every result of one check carries; a check builds its results from it."""

    check: str
    title: str
    severity: Severity
    localization: str
    hint: str = ""
    owner: str | None = None
    campaign: str | None = None
    location: str | None = None
    source: str | None = None

    def result(
        self,
        subject: str,
        status: Status,
        *,
        observed: Any = None,
        expected: str = "",
        cause: str = "",
        samples: Iterable[Mapping[str, Any]] = (),
        **overrides: Any,
    ) -> Result:
        """A warn-level verdict is a warning whatever the check's own severity."""
        severity = Severity.WARNING if status is Status.WARN else overrides.pop("severity", self.severity)
        return Result(
            check=self.check,
            subject=subject,
            severity=severity,
            localization=overrides.pop("localization", self.localization),
            status=status,
            title=overrides.pop("title", self.title),
            observed=observed,
            expected=expected,
            cause=cause if status is not Status.PASS else "",
            hint=overrides.pop("hint", self.hint),
            campaign=overrides.pop("campaign", self.campaign),
            owner=overrides.pop("owner", self.owner),
            location=overrides.pop("location", self.location),
            source=overrides.pop("source", self.source),
            samples=tuple(samples),
        )

    def with_(self, **changes: Any) -> About:
        return replace(self, **changes)


@dataclass(frozen=True)
class DataCheck:
    """A built-in check of the launch gate (per campaign) or of monitoring (per run).

    The evaluator is named "module:function" and imported when the check runs.
    """

    id: str
    severity: Severity
    localization: str
    title: str
    fix: str
    stage: str  # "gate" or "monitor"
    evaluator: str
    summary: str
    dirty_data: str = ""
    """How the check reads what a real CRM holds: NULLs, replicated rows, test launches (docs/checks.md)."""

    def about(self, **facts: Any) -> About:
        defaults: dict[str, Any] = {
            "title": self.title,
            "severity": self.severity,
            "localization": self.localization,
            "hint": self.fix,
        }
        return About(self.id, **{**defaults, **facts})

    @property
    def function(self) -> Callable[..., Iterable[Result]]:
        module, _, name = self.evaluator.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
