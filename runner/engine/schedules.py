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
from runner.schedule_fields import broken_entries

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
    broken: bool = False  # its cron or zone cannot be used: it never fires, yet keeps its checks from every run

    def selects(self, task: Task) -> bool:
        if task.campaign is not None and task.check.startswith("gate."):
            return any(fnmatchcase(task.campaign, pattern) for pattern in self.campaigns)
        return any(fnmatchcase(task.check, pattern) for pattern in self.checks)

    def last_fire(self, now: datetime) -> datetime | None:
        """The newest moment at or before now when the schedule fired (None: it fires every run)."""
        if self.cron is None:
            return None
        assert not self.broken, "a broken schedule never fires"
        local = now.astimezone(self.zone)
        fire: datetime = croniter(self.cron, local + timedelta(microseconds=1)).get_prev(datetime)
        return fire


def load_schedules(repo: Repository) -> list[Schedule]:
    """The named schedules, then the checks' and campaigns' own crons, then the every-run one."""
    data = repo.single("schedules") or {"schedules": []}
    broken = broken_entries("schedules", data)
    named = [
        _schedule(
            item["name"],
            item["cron"],
            item.get("timezone", "UTC"),
            ("schedules", index) in broken,
            checks=tuple(item.get("checks", ())),
            campaigns=tuple(item.get("campaigns", ())),
        )
        for index, item in enumerate(data["schedules"])
    ]
    return [*named, *_own_schedules(repo), Schedule(EVERY_RUN, None, UTC)]


def _schedule(name: str, cron: str, zone: str, broken: bool, **selected: tuple[str, ...]) -> Schedule:
    """A broken schedule keeps its name and selection but never fires (skipped_entries reports it)."""
    return Schedule(name, cron, UTC if broken else ZoneInfo(zone), broken=broken, **selected)


def _own_schedules(repo: Repository) -> Iterator[Schedule]:
    for kind in ("functional_checks", "data_checks"):
        for document in repo.documents(kind):
            if document.schema_valid:
                broken = broken_entries(kind, document.data)
                for index, spec in enumerate(document.data["checks"]):
                    if "schedule" in spec:
                        name = f"{OWN}check:{spec['id']}"
                        yield _schedule(
                            name, spec["schedule"], "UTC", ("checks", index) in broken, checks=(spec["id"],)
                        )
    for document in repo.documents("campaign"):
        schedule = document.data.get("schedule", {}) if document.schema_valid else {}
        if "gate_cron" in schedule:
            yield _schedule(
                f"{OWN}gate:{document.data['id']}",
                schedule["gate_cron"],
                schedule.get("timezone", "UTC"),
                bool(broken_entries("campaign", document.data)),
                campaigns=(document.data["id"],),
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
