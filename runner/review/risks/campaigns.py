"""Risk flags of campaigns: audience caps, bonuses, channels, schedules, release and dedup."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, croniter

from runner.durations import parse_duration
from runner.review.model import ABSENT, Compared, Risk, canonical
from runner.review.risks.flags import (
    amount,
    as_dict,
    as_int,
    as_str,
    element_fields,
    elements,
    listing,
    risk,
    thresholds_entity,
    times,
    users,
)

# --- max_clients ------------------------------------------------------------------------------------------


def max_clients_raised(c: Compared) -> Iterator[Risk]:
    """An element that exists on both sides may now reach more than twice as many customers."""
    for change in c.of("campaign", "changed"):
        assert change.after is not None
        for element_id, was, now in element_fields(change, "max_clients"):
            old, new = as_int(was), as_int(now)
            if old is not None and new is not None and old > 0 and new > 2 * old:
                yield risk(
                    "review.max_clients_raised",
                    change.after,
                    ("elements", element_id, "max_clients"),
                    f"{change.key}/{element_id}",
                    f"element {element_id} may now reach {amount(new)} customers per launch instead of "
                    f"{amount(old)}{times(old, new)}; make sure the audience really grew that much",
                )


# --- bonuses ----------------------------------------------------------------------------------------------

_CAPS = {
    "max_bonus": "the largest bonus one customer may get from one launch",
    "max_bonus_total": "the largest sum of bonuses one launch may credit",
}


def bonus_raised(c: Compared) -> Iterator[Risk]:
    """A bonus element credits more, a campaign's bonus cap rose or went, or the global cap rose."""
    for change in c.of("campaign", "changed"):
        assert change.before is not None and change.after is not None
        for element_id, was, now in element_fields(change, "amount"):
            old, new = as_int(was), as_int(now)
            if old is not None and new is not None and new > old:
                yield risk(
                    "review.bonus_raised",
                    change.after,
                    ("elements", element_id, "amount"),
                    f"{change.key}/{element_id}",
                    f"element {element_id} now credits {amount(new)} bonus points to each customer instead of "
                    f"{amount(old)}{times(old, new)}",
                )
        old_limits, new_limits = as_dict(change.before.data.get("limits")), as_dict(change.after.data.get("limits"))
        for cap, meaning in _CAPS.items():
            old, new = as_int(old_limits.get(cap)), as_int(new_limits.get(cap))
            if old is None:
                continue
            if new is None:
                reason = f"limits.{cap} ({meaning}) of {amount(old)} is removed: nothing caps it any more"
            elif new > old:
                reason = f"limits.{cap} ({meaning}) rises from {amount(old)} to {amount(new)}{times(old, new)}"
            else:
                continue
            yield risk("review.bonus_raised", change.after, ("limits", cap), change.key, reason)
    old_cap = as_int(c.base.thresholds.get("max_bonus_per_client"))
    new_cap = as_int(c.head.thresholds.get("max_bonus_per_client"))
    if old_cap is not None and new_cap is not None and new_cap > old_cap:
        entity = thresholds_entity(c)
        if entity is not None:
            yield risk(
                "review.bonus_raised",
                entity,
                ("max_bonus_per_client",),
                "thresholds",
                f"the global cap max_bonus_per_client rises from {amount(old_cap)} to {amount(new_cap)}"
                f"{times(old_cap, new_cap)}: every campaign may now credit more to one customer",
            )


# --- channels ---------------------------------------------------------------------------------------------


def channel_switched(c: Compared) -> Iterator[Risk]:
    """A send element or a template now goes through another channel, or a campaign's channels changed."""
    for change in c.of("campaign", "changed"):
        assert change.before is not None and change.after is not None
        old_channels = [x for x in change.before.data.get("channels") or [] if isinstance(x, str)]
        new_channels = [x for x in change.after.data.get("channels") or [] if isinstance(x, str)]
        added = [x for x in new_channels if x not in old_channels]
        removed = [x for x in old_channels if x not in new_channels]
        if added or removed:
            parts = [f"now also sends by {', '.join(added)}"] if added else []
            parts += [f"no longer sends by {', '.join(removed)}"] if removed else []
            yield risk(
                "review.channel_switched",
                change.after,
                ("channels",),
                change.key,
                f"the campaign's channels change from {listing(old_channels)} to {listing(new_channels)}: "
                + " and ".join(parts),
            )
        for element_id, was, now in element_fields(change, "channel"):
            old, new = as_str(was), as_str(now)
            if old is not None and new is not None and old != new:
                yield risk(
                    "review.channel_switched",
                    change.after,
                    ("elements", element_id, "channel"),
                    f"{change.key}/{element_id}",
                    f"element {element_id} now sends by {new} instead of {old}: other customers are reached, "
                    "at another cost",
                )
    for change in c.of("template", "changed"):
        assert change.before is not None and change.after is not None
        old, new = as_str(change.before.data.get("channel")), as_str(change.after.data.get("channel"))
        if old is not None and new is not None and old != new:
            yield risk(
                "review.channel_switched",
                change.after,
                ("channel",),
                change.key,
                f"template {change.key} is now for {new} instead of {old}; campaigns sending it: "
                f"{listing(users(c.head, change.key))}",
            )


# --- schedules --------------------------------------------------------------------------------------------


def _start(schedule: dict[str, Any]) -> datetime | None:
    """start_at as an aware moment (local to the schedule's time zone unless it carries an offset)."""
    try:
        moment = datetime.fromisoformat(schedule["start_at"])
        zone = ZoneInfo(schedule["timezone"])
    except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def schedule_in_past(c: Compared) -> Iterator[Risk]:
    """start_at moved to a moment in the past that is also earlier than before."""
    for change in c.of("campaign", "changed"):
        assert change.before is not None and change.after is not None
        if change.after.data.get("status") in ("draft", "finished"):
            continue
        old_schedule, new_schedule = (as_dict(side.data.get("schedule")) for side in (change.before, change.after))
        new = _start(new_schedule)
        if new is None or new >= c.now or new_schedule.get("start_at") == old_schedule.get("start_at"):
            continue
        old = _start(old_schedule)
        if old is not None and new >= old:
            continue
        was = f"from {old_schedule['start_at']} " if old is not None else ""
        yield risk(
            "review.schedule_in_past",
            change.after,
            ("schedule", "start_at"),
            change.key,
            f"start_at moves {was}to {new_schedule['start_at']}, which is in the past: the campaign may launch "
            "(or catch up on missed launches) as soon as this is merged",
        )


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FROM = datetime(2026, 1, 5)  # a Monday: every schedule is counted over the same span
_YEARS = timedelta(days=4 * 365 + 1)  # four years: each weekday and each day of a month about equally often
_WEEK = timedelta(days=7)
_BUSY = 10_000  # a schedule firing this often in four years is counted over one week instead
_TOLERANCE = 1.01  # four years hold one weekday 209 times and the others 208: not "more frequent"


def _cron_of(schedule: dict[str, Any]) -> str | None:
    """The launches of a daily, weekly or cron schedule as one cron expression."""
    kind = schedule.get("type")
    if kind == "cron":
        return schedule["cron"] if isinstance(schedule.get("cron"), str) else None
    at = schedule.get("at")
    hour, _, minute = (at if isinstance(at, str) else "00:00").partition(":")
    if not (hour.isdigit() and minute.isdigit()):
        return None
    if kind == "daily":
        return f"{int(minute)} {int(hour)} * * *"
    if kind == "weekly":
        days = [day for day in _WEEKDAYS if day in (schedule.get("days") or [])]
        return f"{int(minute)} {int(hour)} * * {','.join(days)}" if days else None
    return None


def _fires(expression: str, start: datetime, span: timedelta, most: int) -> int:
    fires = croniter(expression, start - timedelta(microseconds=1))
    count = 0
    while count < most and fires.get_next(datetime) < start + span:
        count += 1
    return count


def launches_per_week(schedule: dict[str, Any]) -> float | None:
    """Average launches per week over a fixed span; once is 0, an event trigger is not comparable (None)."""
    if schedule.get("type") == "once":
        return 0.0
    expression = _cron_of(schedule)
    if expression is None:
        return None
    try:
        start = _FROM.replace(tzinfo=ZoneInfo(schedule.get("timezone") or "UTC"))
        count = _fires(expression, start, _YEARS, _BUSY)
        if count < _BUSY:
            return count / (_YEARS / _WEEK)
        return float(_fires(expression, start, _WEEK, 7 * 24 * 3600))
    except (CroniterBadCronError, CroniterBadDateError, ValueError, KeyError, ZoneInfoNotFoundError):
        return None


def how_often(per_week: float) -> str:
    """once; 7 times a week; once a month; 2 times a month"""
    if per_week == 0:
        return "once"
    if per_week >= 0.9:
        rounded = f"{per_week:.1f}".removesuffix(".0")
        return "once a week" if rounded == "1" else f"{rounded} times a week"
    per_month = f"{per_week * 365.25 / 12 / 7:.1f}".removesuffix(".0")
    return "once a month" if per_month == "1" else f"{per_month} times a month"


def describe_schedule(schedule: dict[str, Any]) -> str:
    kind = schedule.get("type")
    at = f" at {schedule['at']}" if isinstance(schedule.get("at"), str) else ""
    if kind == "once":
        return f"once at {schedule.get('start_at', '?')}"
    if kind == "daily":
        return f"daily{at}"
    if kind == "weekly":
        return f"weekly on {', '.join(map(str, schedule.get('days') or ['?']))}{at}"
    if kind == "cron":
        return f"cron {schedule.get('cron', '?')}"
    if kind == "event":
        return f"on event {schedule.get('event', '?')}"
    return str(kind)


def schedule_more_frequent(c: Compared) -> Iterator[Risk]:
    """A periodic campaign launches more often per week than before, or a one-off one now repeats."""
    for change in c.of("campaign", "changed"):
        assert change.before is not None and change.after is not None
        old_schedule, new_schedule = (as_dict(side.data.get("schedule")) for side in (change.before, change.after))
        if canonical(old_schedule) == canonical(new_schedule):
            continue
        old, new = launches_per_week(old_schedule), launches_per_week(new_schedule)
        if old is None or new is None or new <= old * _TOLERANCE:
            continue
        yield risk(
            "review.schedule_more_frequent",
            change.after,
            ("schedule",),
            change.key,
            f"the campaign now launches {how_often(new)} instead of {how_often(old)} ({describe_schedule(old_schedule)}"
            f" → {describe_schedule(new_schedule)}): customers hear from it more often",
            key=True,
        )


# --- release ----------------------------------------------------------------------------------------------


def element_unreleased(c: Compared) -> Iterator[Risk]:
    """An element is added without released: true, or a released element is released no more."""
    for change in c.of("campaign", "added", "changed"):
        assert change.after is not None
        if change.after.data.get("status") == "draft":
            continue  # a draft's release is checked when it stops being a draft
        before = elements(change.before.data) if change.before is not None else {}
        for element_id, element in elements(change.after.data).items():
            if element.get("released") is True:
                continue
            if element_id not in before:
                reason = (
                    f"element {element_id} is added but not released: customers who reach it stop there "
                    "until someone sets released: true"
                )
            elif before[element_id].get("released") is True:
                reason = f"element {element_id} was released and is not any more: customers who reach it stop there"
            else:
                continue
            yield risk(
                "review.element_unreleased",
                change.after,
                ("elements", element_id),
                f"{change.key}/{element_id}",
                reason,
                key=True,
            )


# --- dedup ------------------------------------------------------------------------------------------------


def _duration(value: Any) -> timedelta | None:
    try:
        return parse_duration(value) if isinstance(value, str) else None
    except ValueError:
        return None


def dedup_removed(c: Compared) -> Iterator[Risk]:
    """The dedup window is gone: a customer may get the campaign in back-to-back launches."""
    for change in c.of("campaign", "changed"):
        assert change.before is not None and change.after is not None
        old = change.before.data.get("dedup_window", ABSENT)
        if old is not ABSENT and change.after.data.get("dedup_window", ABSENT) is ABSENT:
            yield risk(
                "review.dedup_removed",
                change.after,
                ("dedup_window",),
                change.key,
                f"dedup_window {old} is removed: a customer may now get this campaign again in the very next "
                "launch (two birthdays in a row)",
            )


def dedup_shortened(c: Compared) -> Iterator[Risk]:
    """The dedup window is shorter: a customer may get the campaign again sooner."""
    for change in c.of("campaign", "changed"):
        assert change.before is not None and change.after is not None
        old = _duration(change.before.data.get("dedup_window"))
        new = _duration(change.after.data.get("dedup_window"))
        if old is not None and new is not None and new < old:
            yield risk(
                "review.dedup_shortened",
                change.after,
                ("dedup_window",),
                change.key,
                f"dedup_window shortens from {change.before.data['dedup_window']} to "
                f"{change.after.data['dedup_window']}: a customer may get this campaign again sooner",
            )
