"""Every cron expression and time zone of the configuration, read the way `run --due` and `notify` read them."""

from __future__ import annotations

from collections.abc import Iterator

from runner.document import Document
from runner.findings import Severity
from runner.schedule_fields import CRONS, ZONES, unusable
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
)
