"""Slices: how many problems were opened per localization, campaign, owner or check, day by day or week by week.

A problem counts as opened in a period for each `opened` or `reopened` event (a regression opens it
again) whose time falls in that period; escalations, acknowledgements and mutes are not openings.
The columns are whole periods: the last ceil(since / period) calendar days, or ISO weeks (Monday
to Sunday), the one containing now included, in the time zone of now; events after now are not
counted. A problem is keyed by its current localization, campaign, owner or check; a problem
without a campaign or owner is keyed "(none)". Only keys with at least one opening are listed,
the largest total first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from runner.store.clock import to_store
from runner.store.connect import Store
from runner.store.tables import problem_events, problems

KEYS = {
    "localization": problems.c.localization,
    "campaign": problems.c.campaign,
    "owner": problems.c.owner,
    "check": problems.c.check_id,
}
PERIODS = {"day": timedelta(days=1), "week": timedelta(weeks=1)}
OPENINGS = ("opened", "reopened")
NO_KEY = "(none)"


@dataclass(frozen=True)
class Period:
    label: str  # 2026-11-30, 2026-W48
    short: str  # 11-30, W48: the narrow text table
    first_day: date


@dataclass(frozen=True)
class SliceRow:
    key: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Slice:
    by: str
    period: str
    now: datetime  # aware; its zone is the zone of the periods
    since: timedelta
    store: str
    periods: tuple[Period, ...]
    rows: tuple[SliceRow, ...]

    @property
    def start(self) -> datetime:
        return datetime.combine(self.periods[0].first_day, time(), tzinfo=self.now.tzinfo)

    @property
    def totals(self) -> tuple[int, ...]:
        return tuple(sum(column) for column in zip(*(row.counts for row in self.rows), strict=True)) or tuple(
            0 for _ in self.periods
        )

    @property
    def total(self) -> int:
        return sum(row.total for row in self.rows)


def periods_of(now: datetime, period: str, since: timedelta) -> tuple[Period, ...]:
    """The whole periods covering `since` back from `now`, oldest first, the current one last."""
    size = PERIODS[period]
    count = max(1, math.ceil(since / size))
    today = now.date()
    if period == "day":
        return tuple(
            Period(day.isoformat(), f"{day:%m-%d}", day)
            for day in (today - timedelta(days=back) for back in range(count - 1, -1, -1))
        )
    monday = today - timedelta(days=today.weekday())
    periods = []
    for back in range(count - 1, -1, -1):
        first = monday - timedelta(weeks=back)
        year, week, _weekday = first.isocalendar()
        periods.append(Period(f"{year}-W{week:02d}", f"W{week:02d}", first))
    return tuple(periods)


def collect_slice(store: Store, by: str, period: str, now: datetime, since: timedelta) -> Slice:
    periods = periods_of(now, period, since)
    start = datetime.combine(periods[0].first_day, time(), tzinfo=now.tzinfo)
    key = KEYS[by]
    events = problem_events.c
    query = (
        sa.select(key, events.at, sa.func.count())
        .select_from(problem_events.join(problems, problems.c.id == events.problem_id))
        .where(events.kind.in_(OPENINGS), events.at >= to_store(start), events.at <= to_store(now))
        .group_by(key, events.at)  # one record() writes all its events at one moment: few groups
    )
    step = PERIODS[period].days
    counts: dict[str, list[int]] = {}
    with store.read() as connection:
        for name, at, count in connection.execute(query):
            day = at.replace(tzinfo=UTC).astimezone(now.tzinfo).date()
            index = (day - periods[0].first_day).days // step
            if 0 <= index < len(periods):
                counts.setdefault(name if name is not None else NO_KEY, [0] * len(periods))[index] += count
    rows = sorted((SliceRow(name, tuple(row)) for name, row in counts.items()), key=lambda r: (-r.total, r.key))
    return Slice(
        by=by,
        period=period,
        now=now,
        since=since,
        store=store.engine.url.render_as_string(hide_password=True),
        periods=periods,
        rows=tuple(rows),
    )
