"""The risk flags: their ids, severities and titles, and what every flag function reads values with.

Every flag compares the base and the head configuration of the same id; docs/review.md states each
rule and severity. A flag of severity problem makes the review exit 1, as a problem finding does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from runner.findings import Severity
from runner.positions import JsonPath
from runner.review.model import Change, Compared, Entity, Risk, Snapshot


@dataclass(frozen=True)
class Flag:
    id: str
    severity: Severity
    title: str  # a few words, for the summary table


FLAGS: tuple[Flag, ...] = (
    Flag("review.bonus_raised", Severity.PROBLEM, "bonus raised"),
    Flag("review.schedule_in_past", Severity.PROBLEM, "schedule moved into the past"),
    Flag("review.dedup_removed", Severity.PROBLEM, "dedup window removed"),
    Flag("review.subscription_unreached", Severity.PROBLEM, "problems nobody is told of"),
    Flag("review.max_clients_raised", Severity.WARNING, "audience cap raised more than 2x"),
    Flag("review.channel_switched", Severity.WARNING, "channel switched"),
    Flag("review.schedule_more_frequent", Severity.WARNING, "schedule more frequent"),
    Flag("review.element_unreleased", Severity.WARNING, "element not released"),
    Flag("review.template_reopened", Severity.WARNING, "template reopened"),
    Flag("review.template_placeholders_changed", Severity.WARNING, "template placeholders changed"),
    Flag("review.dedup_shortened", Severity.WARNING, "dedup window shortened"),
    Flag("review.threshold_loosened", Severity.WARNING, "check loosened"),
)
BY_ID = {flag.id: flag for flag in FLAGS}

RiskFunction = Callable[[Compared], Iterator[Risk]]


def risk(flag: str, entity: Entity, inner: JsonPath, subject: str, reason: str, *, key: bool = False) -> Risk:
    line, column = entity.position(inner, key=key)
    return Risk(entity.file, line, column, flag, BY_ID[flag].severity, subject, reason)


# a file that fails its schema still shows up in a review: values are read defensively


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def elements(campaign: Any) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in as_dict(as_dict(campaign).get("elements")).items() if isinstance(v, dict)}


def element_fields(change: Change, name: str) -> Iterator[tuple[str, Any, Any]]:
    """(element id, value before, value after) of one field of every element the head still has."""
    assert change.before is not None and change.after is not None
    before = elements(change.before.data)
    for element_id, element in elements(change.after.data).items():
        yield element_id, before.get(element_id, {}).get(name), element.get(name)


def amount(value: float) -> str:
    """5,000 and 99.7: thousands separated, never rounded."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def times(old: float, new: float) -> str:
    """(×10), (×2.5), (×0.5): how many times the new value is the old one."""
    if old <= 0:
        return ""
    ratio = f"{new / old:.2f}".rstrip("0").rstrip(".")
    return f" (×{ratio})"


def thresholds_entity(c: Compared) -> Entity | None:
    """rules/thresholds.yaml of the head (of the base when the head has none), to point at."""
    for snapshot in (c.head, c.base):
        for document in snapshot.repo.documents("thresholds") if snapshot.repo is not None else []:
            if document.error is None:
                return Entity("thresholds", "thresholds", document, (), document.data)
    return None


def users(snapshot: Snapshot, template_id: str) -> list[str]:
    """Campaigns with a send element of this template."""
    if snapshot.repo is None:
        return []
    found = set()
    for document in snapshot.repo.documents("campaign"):
        data = document.data if document.error is None and isinstance(document.data, dict) else {}
        if isinstance(data.get("id"), str) and any(e.get("template") == template_id for e in elements(data).values()):
            found.add(data["id"])
    return sorted(found)


def listing(items: list[str]) -> str:
    return ", ".join(items) if items else "none"
