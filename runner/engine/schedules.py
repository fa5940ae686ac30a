"""rules/schedules.yaml: which checks and launch gates a schedule evaluates, and when it last fired."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from zoneinfo import ZoneInfo

from croniter import croniter

from runner.engine.plan import Task
from runner.errors import UsageError
from runner.repository import Repository

EVERY_RUN = "every-run"  # the implicit schedule of whatever no schedule selects


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: str | None
    zone: ZoneInfo
    checks: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()

    def selects(self, task: Task) -> bool:
        if task.campaign is not None and task.check.startswith("gate."):
            return any(fnmatchcase(task.campaign, pattern) for pattern in self.campaigns)
        return any(fnmatchcase(task.check, pattern) for pattern in self.checks)

    def last_fire(self, now: datetime) -> datetime | None:
        """The newest moment at or before now when the schedule fired (None: it fires every run)."""
        if self.cron is None:
            return None
        local = now.astimezone(self.zone)
        fire: datetime = croniter(self.cron, local + timedelta(microseconds=1)).get_prev(datetime)
        return fire


def load_schedules(repo: Repository) -> list[Schedule]:
    data = repo.single("schedules") or {"schedules": []}
    return [
        Schedule(
            item["name"],
            item["cron"],
            ZoneInfo(item.get("timezone", "UTC")),
            tuple(item.get("checks", ())),
            tuple(item.get("campaigns", ())),
        )
        for item in data["schedules"]
    ] + [Schedule(EVERY_RUN, None, ZoneInfo("UTC"))]


def schedules_of(task: Task, schedules: Sequence[Schedule]) -> list[str]:
    named = [s.name for s in schedules if s.name != EVERY_RUN and s.selects(task)]
    return named or [EVERY_RUN]


def find_schedule(schedules: Iterable[Schedule], name: str) -> Schedule:
    known = {s.name: s for s in schedules}
    if name not in known:
        raise UsageError(f"--schedule {name!r}: no such schedule in rules/schedules.yaml; known: {', '.join(known)}")
    return known[name]
