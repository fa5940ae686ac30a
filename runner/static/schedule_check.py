"""Every cron expression, time zone and quiet-hours window, read the way `run --due` and `notify` read them."""

from __future__ import annotations

from collections.abc import Iterator

from runner.document import Document
from runner.findings import Severity
from runner.schedule_fields import CRONS, WINDOWS, ZONES, unusable
from runner.static.check import Check, Context, Hit


def cron_invalid(document: Document, ctx: Context) -> Iterator[Hit]:
    """A cron expression cannot be read or never fires (an hour 24, a day 'fry', February 30).

    `run` and `notify` skip the schedule, check, campaign or subscription that carries it, and exit 3."""
    for found in unusable(document.kind.name, document.data):
        if found.what == "cron":
            yield Hit(found.path, found.message)


def timezone_unknown(document: Document, ctx: Context) -> Iterator[Hit]:
    """A time zone is not an IANA name this machine knows (Europe/Moskva).

    `run` and `notify` skip the schedule, campaign or subscription that names it, and exit 3."""
    for found in unusable(document.kind.name, document.data):
        if found.what == "zone":
            yield Hit(found.path, found.message)


def quiet_hours_invalid(document: Document, ctx: Context) -> Iterator[Hit]:
    """quiet_hours is no window of the day: an hour 24 or more, a minute 60 or more, or an empty window.

    `notify` skips a subscription whose quiet hours are no real times, and exits 3."""
    for found in unusable(document.kind.name, document.data):
        if found.what == "window":
            yield Hit(found.path, found.message)
    for index, spec in enumerate(document.data["subscriptions"]):
        window = spec.get("quiet_hours", "")
        start, _, end = window.partition("-")
        if start and start == end:
            yield Hit(
                ("subscriptions", index, "quiet_hours"),
                f"quiet_hours {window!r}: start and end are equal, so nothing is ever held; "
                "write the window you mean, such as 22:00-08:00",
            )


CHECKS = (
    Check(
        "cron.invalid",
        Severity.PROBLEM,
        "system",
        tuple(CRONS),
        "Correct the field the message names: minute 0-59, hour 0-23, day of month 1-31, "
        "month 1-12 or jan..dec, day of week 0-7 or mon..sun.",
        cron_invalid,
    ),
    Check(
        "timezone.unknown",
        Severity.PROBLEM,
        "system",
        tuple(ZONES),
        "Use an IANA time zone name such as Europe/Moscow or UTC.",
        timezone_unknown,
    ),
    Check(
        "quiet_hours.invalid",
        Severity.PROBLEM,
        "system",
        tuple(WINDOWS),
        "Write quiet_hours as HH:MM-HH:MM with hours 00-23 and minutes 00-59; it may cross midnight (22:00-08:00).",
        quiet_hours_invalid,
    ),
)
