"""What validation reports: one finding per place that needs attention."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from runner.masking import mask


class Severity(enum.StrEnum):
    """error: the file could not be read at all, or a check broke on it; problem: breaks a campaign
    now; warning: may break it later."""

    ERROR = "error"
    PROBLEM = "problem"
    WARNING = "warning"


# GitHub annotations and SARIF know only error / warning: a file that cannot be read is an error too
ANNOTATION_LEVEL = {Severity.ERROR: "error", Severity.PROBLEM: "error", Severity.WARNING: "warning"}


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int
    check_id: str
    severity: Severity
    message: str

    def __post_init__(self) -> None:
        # the one place every finding passes: no output format can print a secret
        object.__setattr__(self, "message", mask(self.message))

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "check": self.check_id,
            "severity": self.severity.value,
            "message": self.message,
        }
