"""Why a cron expression cannot be used, said field by field ("hour 24 is out of range 0-23").

croniter decides what is valid; this module only explains its refusals in the author's terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from croniter import CroniterBadDateError, CroniterError, croniter

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_START = datetime(2026, 1, 1)  # any moment: an expression that fires at all fires within croniter's search
_ITEM = re.compile(r"^(?P<base>[^/]*)(?:/(?P<step>.*))?$")


@dataclass(frozen=True)
class Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    named: str = ""  # how the names are listed in a message

    def problem(self, text: str) -> str | None:
        """The first reason this field's text is wrong, or None when nothing is wrong that we can name."""
        for item in text.split(","):
            if not item:
                return f"{self.name} {text!r} has an empty item between commas"
            match = _ITEM.match(item)
            assert match is not None  # the pattern matches any text
            base, step = match["base"], match["step"]
            if step is not None and not (step.isdigit() and int(step) > 0):
                return f"{self.name} step {step!r} must be a whole number from 1"
            if base in ("*", "?"):
                continue
            for value in base.split("-", 1):
                reason = self._value_problem(value)
                if reason:
                    return reason
        return None

    def _value_problem(self, value: str) -> str | None:
        if value.isdigit():
            number = int(value)
            if not self.low <= number <= self.high:
                return f"{self.name} {number} is out of range {self.low}-{self.high}"
            return None
        if self.names:
            if value.lower() in self.names:
                return None
            return f"{self.name} {value!r} is not a {self.named} or {self.low}-{self.high}"
        return f"{self.name} {value!r} is not a number {self.low}-{self.high}"


FIELDS = (
    Field("minute", 0, 59),
    Field("hour", 0, 23),
    Field("day of month", 1, 31),
    Field("month", 1, 12, MONTHS, "month name (jan..dec)"),
    Field("day of week", 0, 7, DAYS, "day name (mon..sun)"),
)


def cron_problem(expression: str) -> str | None:
    """None when the expression is a five-field cron that fires; else why not, in the author's terms."""
    fields = expression.split()
    if len(fields) != len(FIELDS):
        return (
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), this one has {len(fields)}"
        )
    try:
        croniter(expression, _START).get_next(datetime)
    except CroniterBadDateError:
        return f"it never fires: day of month {fields[2]!r} never occurs in month {fields[3]!r}"
    except (CroniterError, ValueError, KeyError) as exc:
        for field, text in zip(FIELDS, fields, strict=True):
            reason = field.problem(text)
            if reason:
                return reason
        return f"croniter cannot read it ({exc})"
    return None
