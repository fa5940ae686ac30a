"""Where each kind writes cron expressions and time zones, and which of them cannot be used.

validate reports them (cron.invalid, timezone.unknown); `run` and `notify` skip the entry that
carries one - a schedule, a check, a campaign, a subscription - and say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runner.cron_text import cron_problem
from runner.document import Document
from runner.positions import JsonPath
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
WINDOWS: Mapping[str, tuple[JsonPath, ...]] = {
    "subscriptions": (("subscriptions", ANY, "quiet_hours"),),
}
DATES: Mapping[str, tuple[JsonPath, ...]] = {  # read by run only; validate reports them as schedule.invalid
    "campaign": (("schedule", "start_at"), ("schedule", "end_at")),
}
_ENTRY_LABELS = {
    "campaign": "campaign",
    "schedules": "schedule",
    "functional_checks": "check",
    "data_checks": "check",
    "subscriptions": "subscription",
    "sources": "source",
}


@dataclass(frozen=True)
class Unusable:
    """A cron or zone that cannot be used, and the entry it makes unusable."""

    path: JsonPath  # of the value
    entry: JsonPath  # of the schedule, check, subscription, ... that carries it
    what: str  # "cron", "zone", "window" (quiet hours) or "date"
    message: str  # names the field, the value and the reason


def _values_at(data: Any, place: JsonPath, path: JsonPath = ()) -> Iterator[tuple[JsonPath, Any]]:
    """The values written at a place (ANY steps expanded), with their paths."""
    if not place:
        yield path, data
        return
    step, rest = place[0], place[1:]
    if step == ANY and isinstance(data, list):
        for index, item in enumerate(data):
            yield from _values_at(item, rest, (*path, index))
    elif step == ANY and isinstance(data, dict):
        for key, item in data.items():
            yield from _values_at(item, rest, (*path, key))
    elif isinstance(data, dict) and step in data:
        yield from _values_at(data[step], rest, (*path, step))


def unusable(kind: str, data: Any) -> Iterator[Unusable]:
    """Every cron expression and time zone of one file that cannot be used, in the order of the tables."""
    for what, table in (("cron", CRONS), ("zone", ZONES), ("window", WINDOWS), ("date", DATES)):
        for place in table.get(kind, ()):
            entry_length = place.index(ANY) + 1 if ANY in place else 0
            for path, value in _values_at(data, place):
                if not isinstance(value, str):
                    continue
                if what == "zone":
                    reason = zone_problem(value)
                    message = reason or ""
                else:
                    reason = _READERS[what](value)
                    message = f"{path[-1]} {value!r}: {reason}"
                if reason:
                    yield Unusable(path, path[:entry_length], what, message)


def _date_problem(text: str) -> str | None:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return "not a real date and time"
    return None


def _window_problem(text: str) -> str | None:
    """HH:MM-HH:MM (the schema's shape) as two real times of the day."""
    for end in text.split("-"):
        hour, _, minute = end.partition(":")
        if not 0 <= int(hour) <= 23:
            return f"hour {int(hour)} is out of range 0-23"
        if not 0 <= int(minute) <= 59:
            return f"minute {int(minute)} is out of range 0-59"
    return None


_READERS = {"cron": cron_problem, "window": _window_problem, "date": _date_problem}


def entry_name(kind: str, data: Any, entry: JsonPath) -> str:
    """How a user calls the entry: schedule 'morning', check 'bonus.total', campaign 'welcome_chain'."""
    node = data
    for step in entry:
        node = node[step]
    name = node.get("id", node.get("name")) if isinstance(node, dict) else None
    if name is None and entry and isinstance(entry[-1], str):
        name = entry[-1]  # a mapping key: a source's name
    label = _ENTRY_LABELS.get(kind, kind)
    return f"{label} {name!r}" if name is not None else label


def skipped_files(documents: Iterable[Document]) -> list[str]:
    """One line for each whole file `run` skips: one the loader refused (where and why), or schema-invalid."""
    lines = []
    for document in documents:
        rel, error = document.rel, document.error
        if error is not None:
            lines.append(f"{rel}:{error.line}: skipped: {error.message}; run `campaign-guard validate {rel}`")
        elif not document.schema_valid:
            lines.append(f"{rel} is invalid and was skipped; run `campaign-guard validate {rel}`")
    return lines


def skipped_entries(documents: Iterable[Document]) -> list[str]:
    """One line for each entry `run` and `notify` skip: where, which entry, why, and what to run."""
    lines = []
    for document in documents:
        if not document.schema_valid:
            continue  # the whole file is skipped and reported as invalid
        kind = document.kind.name
        for found in unusable(kind, document.data):
            line, _ = document.position(found.path)
            lines.append(
                f"{document.rel}:{line}: {entry_name(kind, document.data, found.entry)} skipped: {found.message} "
                f"(run `campaign-guard validate {document.rel}`)"
            )
    return lines


def broken_entries(kind: str, data: Any) -> set[tuple[str | int, ...]]:
    """The paths of the entries of one file that carry an unusable cron or zone."""
    return {tuple(found.entry) for found in unusable(kind, data)}
