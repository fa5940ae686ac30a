"""The hourly report's data: what the runs of the window found, section by section (the SAP article).

The window is (now - since, now]: results evaluated after its start and up to now. Of every
check + subject, only the newest result inside the window counts, so a queue that went back under
its limit in a later run of the window is not listed. A section lists those newest results that did
not pass (fail, warn, or error: the check could not look); the launches section lists every result
of monitor.launched_last_hour, which never fails. The window is half-open so that consecutive
hourly reports never list one run twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from runner.builtin.declarations import BUILTIN_CHECKS
from runner.builtin.system import SYSTEM_CHECKS
from runner.report.times import duration
from runner.store.clock import from_store, to_store
from runner.store.connect import Store
from runner.store.holders import alive
from runner.store.problems import ACTIVE  # what `run` counts as "open now"
from runner.store.tables import problems, results, runs

LAUNCHED = "monitor.launched_last_hour"
SAMPLES = 3  # sample rows shown per listed result
TITLES = {check.id: check.title for check in BUILTIN_CHECKS}
BUILTIN = frozenset(TITLES) | {about.check for about in SYSTEM_CHECKS}  # the button, failed sources
ERROR_CAUSE = "the check could not be evaluated: its source did not answer (see the output of that run)"


def _checks(*ids: str) -> Callable[[str], bool]:
    return lambda check: check in ids


def _configured(check: str) -> bool:
    return check not in BUILTIN


# (key, title, which check ids the section lists), in the order of the article; what no section
# claims lands in "other" (availability, webhooks, promo pools, campaign limits, launch gates).
SECTIONS: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("new_errors", "New errors", _checks("monitor.new_errors")),
    ("functional", "Functional checks", _configured),
    ("dumps", "Dumps", _checks("monitor.new_dumps")),
    ("cancelled_jobs", "Cancelled jobs", _checks("monitor.cancelled_jobs")),
    ("queues", "Queues over their limit", _checks("monitor.queue_size")),
    ("freshness", "Integration freshness (silent tables)", _checks("monitor.table_freshness")),
    ("duplicates", "Duplicates", _checks("monitor.duplicate_participation")),
    ("launched", "Campaigns launched", _checks(LAUNCHED)),
    ("unreleased", "Non-released elements", _checks("monitor.unreleased_elements")),
    ("other", "Other failing checks", lambda check: True),
)


@dataclass(frozen=True)
class Row:
    """The newest result of one check + subject in the window, with its problem's words."""

    check: str
    subject: str
    status: str  # pass (launches only), warn, fail, error
    severity: str  # the problem's (it may have escalated), else the check's
    observed: str
    expected: str
    title: str
    cause: str
    hint: str
    campaign: str | None
    owner: str | None
    location: str | None
    fingerprint: str | None
    problem_status: str | None  # open, acknowledged, muted, resolved; None: no problem
    samples: tuple[dict[str, Any], ...]
    evaluated_at: datetime

    @property
    def what(self) -> str:
        """The title and the cause in one sentence."""
        return f"{self.title.rstrip('.')}: {self.cause}" if self.cause else self.title

    @property
    def fix(self) -> str:
        return self.hint if self.status != "error" else ""

    @property
    def examples(self) -> tuple[str, ...]:
        """The sample rows as key=value lists."""
        return tuple(", ".join(f"{key}={_shown(value)}" for key, value in sample.items()) for sample in self.samples)

    @property
    def where(self) -> str:
        """campaign X, owner Y, at file:line (those it has)."""
        parts = [f"campaign {self.campaign}" if self.campaign else "", f"owner {self.owner}" if self.owner else ""]
        parts.append(f"at {self.location}" if self.location else "")
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    rows: tuple[Row, ...]
    several_checks: bool  # rows of several checks: each names its check


@dataclass(frozen=True)
class LocalizationCount:
    localization: str
    problems: int
    warnings: int

    @property
    def total(self) -> int:
        return self.problems + self.warnings


@dataclass(frozen=True)
class AbandonedRun:
    """A run of the window whose process died before it finished (killed); the next run took its schedules over."""

    id: str
    pid: int | None
    host: str
    started_at: datetime

    @property
    def process(self) -> str:
        return f"pid {self.pid} on {self.host}" if self.pid is not None else f"on {self.host}"


@dataclass(frozen=True)
class HourlyReport:
    now: datetime  # aware; its zone is the zone the report is written in
    since: timedelta
    store: str
    runs: int
    newest_run: datetime | None
    sections: tuple[Section, ...]
    open_by_localization: tuple[LocalizationCount, ...]
    muted: int
    abandoned: tuple[AbandonedRun, ...] = ()

    @property
    def start(self) -> datetime:
        return self.now - self.since

    @property
    def open_problems(self) -> int:
        return sum(count.problems for count in self.open_by_localization)

    @property
    def open_warnings(self) -> int:
        return sum(count.warnings for count in self.open_by_localization)


def collect(store: Store, now: datetime, since: timedelta) -> HourlyReport:
    start, end = to_store(now - since), to_store(now)
    with store.read() as connection:
        listed = [_row(row) for row in connection.execute(_newest_query(start, end)).mappings()]
        runs_count, newest = connection.execute(
            sa.select(sa.func.count(), sa.func.max(runs.c.evaluated_at)).where(
                runs.c.evaluated_at > start, runs.c.evaluated_at <= end
            )
        ).one()
        counts = connection.execute(
            sa.select(problems.c.localization, problems.c.severity, problems.c.status, sa.func.count())
            .where(problems.c.status.in_((*ACTIVE, "muted")))
            .group_by(problems.c.localization, problems.c.severity, problems.c.status)
        ).all()
        abandoned = _abandoned(store, connection, start, end)
        by_localization: dict[str, dict[str, int]] = {}
        muted = 0
        for localization, severity, status, count in counts:
            if status == "muted":
                muted += count
                continue
            slot = by_localization.setdefault(localization, {"problem": 0, "warning": 0})
            slot[severity] = slot.get(severity, 0) + count
    return HourlyReport(
        now=now,
        since=since,
        store=store.engine.url.render_as_string(hide_password=True),
        runs=runs_count,
        newest_run=from_store(newest),
        sections=_sections(listed, since),
        open_by_localization=tuple(
            sorted(
                (LocalizationCount(name, slot["problem"], slot["warning"]) for name, slot in by_localization.items()),
                key=lambda count: (-count.problems, -count.warnings, count.localization),
            )
        ),
        muted=muted,
        abandoned=abandoned,
    )


def _abandoned(store: Store, connection: sa.Connection, start: datetime, end: datetime) -> tuple[AbandonedRun, ...]:
    """The window's runs marked abandoned, and those still `running` whose process is dead (not yet marked)."""
    rows = connection.execute(
        sa.select(runs.c.id, runs.c.pid, runs.c.host, runs.c.started_at, runs.c.status, runs.c.holder)
        .where(runs.c.evaluated_at > start, runs.c.evaluated_at <= end, runs.c.status.in_(("abandoned", "running")))
        .order_by(runs.c.started_at, runs.c.id)
    ).all()
    return tuple(
        AbandonedRun(row.id, row.pid, row.host, row.started_at.replace(tzinfo=UTC))
        for row in rows
        if row.status == "abandoned" or (row.holder is not None and not alive(store, connection, row.holder))
    )


def _newest_query(start: datetime, end: datetime) -> sa.Select[Any]:
    """The newest result of every check + subject in (start, end] that did not pass, or is a launch."""
    rank = sa.func.row_number().over(
        partition_by=(results.c.check_id, results.c.subject),
        order_by=(results.c.evaluated_at.desc(), results.c.id.desc()),
    )
    ranked = (
        sa.select(results, rank.label("rank"))
        .where(results.c.evaluated_at > start, results.c.evaluated_at <= end)
        .subquery()
    )
    p = problems.c
    joined = ranked.outerjoin(problems, sa.and_(p.check_id == ranked.c.check_id, p.subject == ranked.c.subject))
    return (
        sa.select(
            ranked,
            p.fingerprint,
            p.status.label("problem_status"),
            p.severity.label("problem_severity"),
            p.title,
            p.cause,
            p.hint,
            p.expected,
            p.location,
            p.samples,
        )
        .select_from(joined)
        .where(ranked.c.rank == 1, sa.or_(ranked.c.status != "pass", ranked.c.check_id == LAUNCHED))
        .order_by(ranked.c.check_id, ranked.c.subject)
    )


def _row(row: Mapping[Any, Any]) -> Row:
    status = row["status"]
    severity = row["severity"]
    if row["problem_status"] in (*ACTIVE, "muted") and status != "error":
        severity = row["problem_severity"]
    samples = json.loads(row["samples"]) if row["samples"] and status != "error" else []
    return Row(
        check=row["check_id"],
        subject=row["subject"],
        status=status,
        severity=severity,
        observed=_shown(json.loads(row["observed"]) if row["observed"] else None),
        expected=row["expected"] or "",
        title=row["title"] or TITLES.get(row["check_id"], row["check_id"]),
        cause=ERROR_CAUSE if status == "error" else row["cause"] or "",
        hint=row["hint"] or "",
        campaign=row["campaign"],
        owner=row["owner"],
        location=row["location"],
        fingerprint=row["fingerprint"],
        problem_status=row["problem_status"],
        samples=tuple(samples[:SAMPLES]),
        evaluated_at=row["evaluated_at"].replace(tzinfo=UTC),
    )


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


_STATUS_ORDER = {"fail": 0, "error": 1, "warn": 2, "pass": 3}
_SEVERITY_ORDER = {"problem": 0, "warning": 1}


def _sections(rows: list[Row], since: timedelta) -> tuple[Section, ...]:
    """Every row in the first section that claims its check; problems before warnings."""
    grouped: dict[str, list[Row]] = {key: [] for key, _title, _claims in SECTIONS}
    for row in rows:
        key = next(key for key, _title, claims in SECTIONS if claims(row.check))
        grouped[key].append(row)
    sections = []
    for key, title, _claims in SECTIONS:
        listed = sorted(
            grouped[key],
            key=lambda r: (_SEVERITY_ORDER.get(r.severity, 2), _STATUS_ORDER.get(r.status, 4), r.check, r.subject),
        )
        if key == "launched":
            title += " in the last hour" if since == timedelta(hours=1) else f" in the last {duration(since)}"
        sections.append(Section(key, title, tuple(listed), key in ("functional", "other")))
    return tuple(sections)
