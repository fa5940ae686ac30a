"""How long a whole `run` or `notify` may take: well under the 5-minute cron interval for notify.

What a run does not reach by its deadline is left for the next one: unreached checks are error
results, undelivered messages stay pending in the outbox.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

NOTIFY_DEADLINE = 120.0  # seconds
RUN_DEADLINE = 1200.0


def seconds_text(seconds: float) -> str:
    """120 for 120.0, 0.5 for 0.5."""
    return f"{seconds:g}"


@dataclass(frozen=True)
class Deadline:
    """`seconds` from when it was started (a monotonic clock: a changed wall clock does not move it)."""

    seconds: float
    ends: float

    @classmethod
    def start(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def left(self) -> float:
        return max(0.0, self.ends - time.monotonic())

    def passed(self) -> bool:
        return self.left() <= 0

    @property
    def text(self) -> str:
        return seconds_text(self.seconds)
