"""Who the launch would skip and why: one row of reason flags per target-group member.

A member of an element's target group today is excluded for
  type_mismatch     its customer_type (in the target group) is not the campaign's customer_type;
  dedup             it got a message of this campaign within dedup_window before today;
  empty_attributes  (send elements) a message of the element prepared today lacks a required
                    attribute of the template, or has it empty or 0.
The same rules as the launch gate's checks gate.customer_type_mismatch, gate.dedup_window and
gate.empty_attribute; the flags are computed at the source and only their combinations counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement, FromClause, Subquery

from runner.builtin.attributes import Attribute, declared, empty_value
from runner.builtin.gate import other_type
from runner.durations import parse_duration
from runner.engine.campaign import Campaign
from runner.engine.evaluation import Source

REASONS = ("type_mismatch", "dedup", "empty_attributes")
LABELS = {
    "type_mismatch": "customer type mismatch",
    "dedup": "dedup window",
    "empty_attributes": "empty attributes",
}


@dataclass(frozen=True)
class Day:
    """The campaign's current day: its date and its bounds as the source writes times."""

    date: date
    start: datetime  # aware
    end: datetime  # aware

    @classmethod
    def of(cls, campaign: Campaign, now: datetime) -> Day:
        start, end = campaign.day(now)
        return cls(campaign.today(now), start, end)


@dataclass(frozen=True)
class Tally:
    """Customers of a target group (or of the whole campaign) and why some would be skipped."""

    audience: int = 0
    reasons: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    excluded: int = 0  # customers with at least one reason: each counted once
    overlaps: Mapping[str, int] = field(default_factory=dict)  # "dedup+type_mismatch" -> customers

    @property
    def final(self) -> int:
        return self.audience - self.excluded

    def to_json(self) -> dict[str, Any]:
        return {
            "audience": self.audience,
            "excluded": self.excluded,
            "final": self.final,
            "reasons": dict(self.reasons),
            "overlaps": dict(self.overlaps),
        }


def tally(rows: Iterable[Mapping[str, Any]]) -> Tally:
    """Rows of reason flags (0/1 per reason) and the number of customers having exactly them."""
    audience = excluded = 0
    reasons = dict.fromkeys(REASONS, 0)
    overlaps: dict[str, int] = {}
    for row in rows:
        customers = int(row["customers"])
        present = [reason for reason in REASONS if int(row[reason] or 0)]
        audience += customers
        for reason in present:
            reasons[reason] += customers
        if present:
            excluded += customers
        if len(present) > 1:
            key = "+".join(sorted(present))
            overlaps[key] = overlaps.get(key, 0) + customers
    return Tally(audience, reasons, excluded, dict(sorted(overlaps.items())))


def prepared_today(messages: FromClause, campaign: Campaign, source: Source, day: Day) -> ColumnElement[bool]:
    return sa.and_(
        messages.c.campaign_id == campaign.id,
        messages.c.created_at >= source.local(day.start),
        messages.c.created_at < source.local(day.end),
    )


def member_flags(
    source: Source, campaign: Campaign, day: Day, elements: Sequence[str], required: Mapping[str, Sequence[Attribute]]
) -> Subquery:
    """One row per (element_id, customer_id) of today's target groups, with a 0/1 column per reason."""
    groups = source.dataset("target_group_members")
    mismatch = sa.case((other_type(groups.c.customer_type, campaign), 1), else_=0)
    members = (
        sa.select(groups.c.element_id, groups.c.customer_id, sa.func.max(mismatch).label("type_mismatch"))
        .where(
            groups.c.campaign_id == campaign.id,
            groups.c.run_date == day.date,
            groups.c.element_id.in_(list(elements)),
        )
        .group_by(groups.c.element_id, groups.c.customer_id)
        .subquery("members")
    )
    return sa.select(
        members.c.element_id,
        members.c.customer_id,
        members.c.type_mismatch,
        _flag(_dedup(source, campaign, day, members), "dedup"),
        _flag(_empty(source, campaign, day, members, required), "empty_attributes"),
    ).subquery("flags")


def _flag(condition: ColumnElement[bool] | None, name: str) -> ColumnElement[int]:
    if condition is None:
        return sa.literal(0, sa.Integer).label(name)
    return sa.case((condition, 1), else_=0).label(name)


def _dedup(source: Source, campaign: Campaign, day: Day, members: Subquery) -> ColumnElement[bool] | None:
    window = campaign.data.get("dedup_window")
    if not window:
        return None
    messages = source.dataset("messages")
    return (
        sa.select(sa.literal(1))
        .where(
            messages.c.campaign_id == campaign.id,
            messages.c.customer_id == members.c.customer_id,
            messages.c.created_at >= source.local(day.start - parse_duration(str(window))),
            messages.c.created_at < source.local(day.start),
        )
        .exists()
    )


def _empty(
    source: Source, campaign: Campaign, day: Day, members: Subquery, required: Mapping[str, Sequence[Attribute]]
) -> ColumnElement[bool] | None:
    names = declared(required)
    if names is None:
        return None
    messages = source.dataset("messages")
    attributes = source.dataset("message_attributes")
    return (
        sa.select(sa.literal(1))
        .select_from(
            messages.join(names, names.c.element_id == messages.c.element_id).outerjoin(
                attributes,
                sa.and_(attributes.c.message_id == messages.c.message_id, attributes.c.name == names.c.name),
            )
        )
        .where(
            prepared_today(messages, campaign, source, day),
            messages.c.element_id == members.c.element_id,
            messages.c.customer_id == members.c.customer_id,
            empty_value(attributes, names),
        )
        .exists()
    )
