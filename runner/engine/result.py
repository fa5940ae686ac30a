"""What a data check reports: one result per subject it evaluated, ready to be stored."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from runner.findings import Severity


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"  # the check could not be evaluated (its source failed, or the check itself broke)


@dataclass(frozen=True)
class Result:
    """The verdict of one check on one subject (a campaign, element, table, queue, job, pool ...).

    check + subject is the fingerprint a problem will be identified by.
    """

    check: str
    subject: str
    severity: Severity
    localization: str
    status: Status
    title: str
    observed: Any = None
    expected: str = ""
    cause: str = ""
    hint: str = ""
    campaign: str | None = None
    owner: str | None = None
    location: str | None = None
    source: str | None = None
    samples: tuple[Mapping[str, Any], ...] = field(default=(), compare=False)
    crashed: bool = field(default=False, compare=False)
    """An error of the check itself (an unexpected exception), not of its source."""

    @property
    def is_problem(self) -> bool:
        """Fails at problem level: blocks a launch, exit code 1."""
        return self.status is Status.FAIL and self.severity is Severity.PROBLEM

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "subject": self.subject,
            "severity": self.severity.value,
            "localization": self.localization,
            "status": self.status.value,
            "title": self.title,
            "observed": plain(self.observed),
            "expected": self.expected,
            "cause": self.cause,
            "hint": self.hint,
            "campaign": self.campaign,
            "owner": self.owner,
            "location": self.location,
            "source": self.source,
            "samples": [{key: plain(value) for key, value in row.items()} for row in self.samples],
        }


def plain(value: Any) -> Any:
    """A database value as JSON can hold it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value
