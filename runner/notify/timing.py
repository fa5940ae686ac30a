"""When a subscription's messages may go out: quiet hours, working days, digests, group_wait."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from croniter import croniter

from runner.notify.subscriptions import Subscription

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _quiet(sub: Subscription, local: datetime) -> bool:
    if not sub.quiet_hours:
        return False
    start_text, end_text = sub.quiet_hours.split("-")
    start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    moment = local.time()
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end  # the window crosses midnight


def _working(sub: Subscription, local: datetime) -> bool:
    return not sub.working_days or WEEKDAYS[local.weekday()] in sub.working_days


def held_until(sub: Subscription, now: datetime, *, immediate: bool) -> datetime | None:
    """None when a message may go out now; else the first minute it may (held, never dropped).

    Working days hold every message; quiet hours hold immediate ones (digests keep their schedule).
    """
    local = now.astimezone(sub.zone)
    if _working(sub, local) and not (immediate and _quiet(sub, local)):
        return None
    probe = local.replace(second=0, microsecond=0)
    for _ in range(8 * 24 * 60):  # at most a week and a day, minute by minute
        probe += timedelta(minutes=1)
        if _working(sub, probe) and not (immediate and _quiet(sub, probe)):
            return probe
    return None  # working_days and quiet_hours leave no minute: never held forever by us


def last_digest(sub: Subscription, now: datetime) -> datetime:
    """The newest digest_schedule fire at or before now."""
    assert sub.digest_schedule is not None
    local = now.astimezone(sub.zone)
    fire: datetime = croniter(sub.digest_schedule, local + timedelta(microseconds=1)).get_prev(datetime)
    return fire


def next_digest(sub: Subscription, now: datetime) -> datetime:
    assert sub.digest_schedule is not None
    fire: datetime = croniter(sub.digest_schedule, now.astimezone(sub.zone)).get_next(datetime)
    return fire
