"""Every cron expression and time zone of the configuration, read the way `run --due` and `notify` read them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from runner.cron_text import cron_problem
from runner.document import Document
from runner.findings import Severity
from runner.positions import JsonPath
from runner.static.check import Check, Context, Hit
from runner.zones import zone_problem

ANY = "*"  # a step of a place that stands for every list item or mapping key

CRONS: Mapping[str, tuple[JsonPath, ...]] = {
    "campaign": (("schedule", "cron"), ("schedule", "gate_cron")),
    "schedules": (("schedules", ANY, "cron"),),
    "functional_checks": (("checks", ANY, "schedule"),),
    "data_checks": (("checks", ANY, "schedule"),),
    "subscriptions": (("subscriptions", ANY, "digest_schedule"),),
}
ZONES: Mapping[str, tuple[JsonPath, ...]] = {
    "campaign": (("schedule", "timezone"),),
    "schedules": (("schedules", ANY, "timezone"),),
    "subscriptions": (("subscriptions", ANY, "timezone"),),
    "sources": (("sources", ANY, "timezone"),),
}


def values_at(data: Any, place: JsonPath, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    """The values written at a place (ANY steps expanded), with their paths."""
    if not place:
        yield path, data
        return
    step, rest = place[0], place[1:]
    if step == ANY and isinstance(data, list):
        for index, item in enumerate(data):
            yield from values_at(item, rest, (*path, index))
    elif step == ANY and isinstance(data, dict):
        for key, item in data.items():
            yield from values_at(item, rest, (*path, key))
    elif isinstance(data, dict) and step in data:
        yield from values_at(data[step], rest, (*path, step))


def cron_invalid(document: Document, ctx: Context) -> Iterator[Hit]:
    """A cron expression cannot be read or never fires (an hour 24, a day 'fry', February 30).

    `run --due` and `notify` skip the schedule, subscription or check that carries it."""
    for place in CRONS.get(document.kind.name, ()):
        for path, value in values_at(document.data, place):
            reason = cron_problem(value) if isinstance(value, str) else None
            if reason:
                yield Hit(path, f"{path[-1]} {value!r}: {reason}")


def timezone_unknown(document: Document, ctx: Context) -> Iterator[Hit]:
    """A time zone is not an IANA name this machine knows (Europe/Moskva).

    `run --due` and `notify` skip the schedule, subscription or campaign that names it."""
    for place in ZONES.get(document.kind.name, ()):
        for path, value in values_at(document.data, place):
            reason = zone_problem(value) if isinstance(value, str) else None
            if reason:
                yield Hit(path, reason)


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
