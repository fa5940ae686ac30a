"""rules/schedules.yaml: which checks and launch gates a schedule evaluates, and when it last fired."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from zoneinfo import ZoneInfo

from croniter import croniter

from runner.engine.plan import Task
from runner.errors import UsageError
from runner.repository import Repository

EVERY_RUN = "every-run"  # the implicit schedule of whatever no schedule selects
OWN = "own:"  # the schedule a check or campaign carries itself (`schedule`, `gate_cron`)
UTC = ZoneInfo("UTC")


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
    """The named schedules, then the checks' and campaigns' own crons, then the every-run one."""
    data = repo.single("schedules") or {"schedules": []}
    named = [
        Schedule(
            item["name"],
            item["cron"],
            ZoneInfo(item.get("timezone", "UTC")),
            tuple(item.get("checks", ())),
            tuple(item.get("campaigns", ())),
        )
        for item in data["schedules"]
    ]
    return [*named, *_own_schedules(repo), Schedule(EVERY_RUN, None, UTC)]


def _own_schedules(repo: Repository) -> Iterator[Schedule]:
    for kind in ("functional_checks", "data_checks"):
        for document in repo.documents(kind):
            if document.schema_valid:
                for spec in document.data["checks"]:
                    if "schedule" in spec:
                        yield Schedule(f"{OWN}check:{spec['id']}", spec["schedule"], UTC, checks=(spec["id"],))
    for document in repo.documents("campaign"):
        schedule = document.data.get("schedule", {}) if document.schema_valid else {}
        if "gate_cron" in schedule:
            zone = ZoneInfo(schedule.get("timezone", "UTC"))
            yield Schedule(
                f"{OWN}gate:{document.data['id']}", schedule["gate_cron"], zone, campaigns=(document.data["id"],)
            )


def schedules_of(task: Task, schedules: Sequence[Schedule]) -> list[str]:
    """A check's own cron replaces the named schedules; nothing selects it: every run."""
    selecting = [s.name for s in schedules if s.name != EVERY_RUN and s.selects(task)]
    own = [name for name in selecting if name.startswith(OWN)]
    return own or selecting or [EVERY_RUN]


def find_schedule(schedules: Iterable[Schedule], name: str) -> Schedule:
    known = {s.name: s for s in schedules}
    if name not in known:
        raise UsageError(f"--schedule {name!r}: no such schedule in rules/schedules.yaml; known: {', '.join(known)}")
    return known[name]
