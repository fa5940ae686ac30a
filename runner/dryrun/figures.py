"""The figures of a campaign's launch today, aggregated at the source (SQLAlchemy Core, bound parameters).

A handful of statements, whatever the size of the data: reason-flag combinations per element and
for the whole campaign, messages already prepared today per send element, the planned and the
credited bonus per client. Nothing is read row by row into Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql import Subquery

from runner.builtin.attributes import Attribute, declared, empty_value, required_attributes
from runner.dryrun.exclusions import REASONS, Day, Tally, member_flags, prepared_today, tally
from runner.engine.campaign import Campaign
from runner.engine.evaluation import Evaluation, Source

CHECK = "dry-run"  # how the source names these queries in its errors
AUDIENCE_ELEMENTS = ("send", "bonus")
BUCKETS = 20  # amount -> customers rows shown; the rest are summed up as "other amounts"


@dataclass(frozen=True)
class ElementFigures:
    id: str
    type: str  # send or bonus
    max_clients: int | None
    tally: Tally
    channel: str | None = None  # send: the element's channel (or its template's)
    template: str | None = None
    amount: int | None = None  # bonus: points per customer
    required_attributes: tuple[str, ...] = ()
    messages_today: int | None = None  # send: messages of the element already prepared (or sent) today
    empty_messages: int | None = None  # ... of them with a required attribute empty or 0
    empty_customers: int | None = None  # ... and their customers

    @property
    def bonus_total(self) -> int:
        return (self.amount or 0) * self.tally.final


@dataclass(frozen=True)
class Distribution:
    """Bonus per client: amount -> number of customers (the largest groups; the rest in `other_customers`)."""

    customers: int = 0
    total: Decimal | int = 0
    buckets: tuple[tuple[Decimal | int, int], ...] = ()
    other_customers: int = 0


@dataclass(frozen=True)
class Figures:
    campaign: str
    day: Day
    timezone: str
    source: str
    customer_type: str
    dedup_window: str | None
    elements: tuple[ElementFigures, ...]
    overall: Tally  # every customer of today's target groups once
    planned: Distribution  # amount x final audience of the bonus elements, per client
    credited: Distribution  # bonus_accruals of the campaign already written today, per client
    notes: tuple[str, ...] = field(default=())

    def channels(self) -> dict[str, dict[str, Any]]:
        """Messages per channel: the final audiences of the send elements (and their audiences before)."""
        channels: dict[str, dict[str, Any]] = {}
        for element in self.elements:
            if element.type != "send":
                continue
            channel = channels.setdefault(
                element.channel or "unknown", {"audience": 0, "excluded": 0, "messages": 0, "elements": []}
            )
            channel["audience"] += element.tally.audience
            channel["excluded"] += element.tally.excluded
            channel["messages"] += element.tally.final
            channel["elements"].append(element.id)
        return channels

    @property
    def bonus_total(self) -> int:
        return sum(element.bonus_total for element in self.elements)


def compute(ev: Evaluation, campaign: Campaign) -> Figures:
    """The figures of today's launch of the campaign; raises SourceError when the source fails."""
    source = ev.source(None)
    day = Day.of(campaign, ev.now)
    elements = list(campaign.elements(*AUDIENCE_ELEMENTS))
    ids = [element_id for element_id, _ in elements]
    sends = [element_id for element_id, element in elements if element.get("type") == "send"]
    bonuses = {element_id: int(element["amount"]) for element_id, element in elements if element.get("type") == "bonus"}
    required = {
        element_id: required_attributes(ev.repo, element) for element_id, element in elements if element_id in sends
    }
    flags = member_flags(source, campaign, day, ids, required)

    per_element = _per_element(source, flags)
    overall = tally(_combinations(source, flags, by_customer=True))
    prepared = _prepared(source, campaign, day, required) if sends else {}
    planned = _planned(source, flags, bonuses) if bonuses else Distribution()
    credited = _credited(source, campaign, day)

    built = []
    for element_id, element in elements:
        kind = str(element["type"])
        counts = prepared.get(element_id, {})
        built.append(
            ElementFigures(
                id=element_id,
                type=kind,
                max_clients=element.get("max_clients"),
                tally=per_element.get(element_id, Tally()),
                channel=_channel(ev, element) if kind == "send" else None,
                template=str(element["template"]) if kind == "send" else None,
                amount=bonuses.get(element_id),
                required_attributes=tuple(attribute.name for attribute in required.get(element_id, ())),
                messages_today=int(counts.get("messages", 0)) if kind == "send" else None,
                empty_messages=int(counts.get("empty_messages") or 0) if kind == "send" else None,
                empty_customers=int(counts.get("empty_customers") or 0) if kind == "send" else None,
            )
        )
    return Figures(
        campaign=campaign.id,
        day=day,
        timezone=str(campaign.zone),
        source=source.name,
        customer_type=str(campaign.data["customer_type"]),
        dedup_window=campaign.data.get("dedup_window"),
        elements=tuple(built),
        overall=overall,
        planned=planned,
        credited=credited,
        notes=tuple(_notes(built)),
    )


def _channel(ev: Evaluation, element: Mapping[str, Any]) -> str | None:
    if element.get("channel"):
        return str(element["channel"])
    template = ev.repo.find("template", str(element.get("template")))
    return str(template.data["channel"]) if template is not None and "channel" in template.data else None


def _combinations(source: Source, flags: Subquery, *, by_customer: bool = False) -> list[dict[str, Any]]:
    """Customers per combination of reason flags: per element, or over the campaign (a customer once)."""
    if by_customer:
        flags = (
            sa.select(flags.c.customer_id, *(sa.func.max(flags.c[reason]).label(reason) for reason in REASONS))
            .group_by(flags.c.customer_id)
            .subquery("customers")
        )
        keys = [flags.c[reason] for reason in REASONS]
    else:
        keys = [flags.c.element_id, *(flags.c[reason] for reason in REASONS)]
    statement = sa.select(*keys, sa.func.count().label("customers")).group_by(*keys)
    return source.rows(statement, CHECK)


def _per_element(source: Source, flags: Subquery) -> dict[str, Tally]:
    rows: dict[str, list[dict[str, Any]]] = {}
    for row in _combinations(source, flags):
        rows.setdefault(str(row["element_id"]), []).append(row)
    return {element_id: tally(element_rows) for element_id, element_rows in rows.items()}


def _prepared(
    source: Source, campaign: Campaign, day: Day, required: Mapping[str, Sequence[Attribute]]
) -> dict[str, dict[str, Any]]:
    """Per send element: messages already written today, those with an empty attribute, their customers."""
    messages = source.dataset("messages")
    names = declared(required)
    where = sa.and_(prepared_today(messages, campaign, source, day), messages.c.element_id.in_(list(required)))
    if names is None:
        statement = (
            sa.select(messages.c.element_id, sa.func.count().label("messages"))
            .where(where)
            .group_by(messages.c.element_id)
        )
    else:
        attributes = source.dataset("message_attributes")
        broken = sa.case((sa.and_(names.c.name.is_not(None), empty_value(attributes, names)), 1), else_=0)
        per_message = (
            sa.select(
                messages.c.element_id,
                messages.c.message_id,
                messages.c.customer_id,
                sa.func.max(broken).label("broken"),
            )
            .select_from(
                messages.outerjoin(names, names.c.element_id == messages.c.element_id).outerjoin(
                    attributes,
                    sa.and_(attributes.c.message_id == messages.c.message_id, attributes.c.name == names.c.name),
                )
            )
            .where(where)
            .group_by(messages.c.element_id, messages.c.message_id, messages.c.customer_id)
            .subquery("prepared")
        )
        statement = sa.select(
            per_message.c.element_id,
            sa.func.count().label("messages"),
            sa.func.sum(per_message.c.broken).label("empty_messages"),
            sa.func.count(sa.distinct(sa.case((per_message.c.broken == 1, per_message.c.customer_id)))).label(
                "empty_customers"
            ),
        ).group_by(per_message.c.element_id)
    return {str(row["element_id"]): row for row in source.rows(statement, CHECK)}


def _planned(source: Source, flags: Subquery, bonuses: Mapping[str, int]) -> Distribution:
    """Bonus per client if the launch credits every bonus element's amount to its final audience."""
    amount = sa.case(*((flags.c.element_id == element_id, value) for element_id, value in bonuses.items()), else_=0)
    kept = sa.and_(*(flags.c[reason] == 0 for reason in REASONS))
    per_customer = (
        sa.select(flags.c.customer_id, sa.func.sum(amount).label("amount"))
        .where(flags.c.element_id.in_(list(bonuses)), kept)
        .group_by(flags.c.customer_id)
        .subquery("planned")
    )
    return _distribution(source, per_customer)


def _credited(source: Source, campaign: Campaign, day: Day) -> Distribution:
    """Bonus per client already written to bonus_accruals today by the campaign (the data's own amounts)."""
    accruals = source.dataset("bonus_accruals")
    per_customer = (
        sa.select(accruals.c.customer_id, sa.func.sum(accruals.c.amount).label("amount"))
        .where(
            accruals.c.campaign_id == campaign.id,
            accruals.c.created_at >= source.local(day.start),
            accruals.c.created_at < source.local(day.end),
        )
        .group_by(accruals.c.customer_id)
        .subquery("credited")
    )
    return _distribution(source, per_customer)


def _distribution(source: Source, per_customer: Subquery) -> Distribution:
    totals = source.rows(
        sa.select(sa.func.count().label("customers"), sa.func.sum(per_customer.c.amount).label("total")),
        CHECK,
    )[0]
    customers = int(totals["customers"] or 0)
    if not customers:
        return Distribution()
    count = sa.func.count()
    rows = source.rows(
        sa.select(per_customer.c.amount, count.label("customers"))
        .group_by(per_customer.c.amount)
        .order_by(count.desc(), per_customer.c.amount)
        .limit(BUCKETS),
        CHECK,
    )
    buckets = tuple((_number(row["amount"]), int(row["customers"])) for row in rows)
    return Distribution(
        customers=customers,
        total=_number(totals["total"]),
        buckets=buckets,
        other_customers=customers - sum(n for _, n in buckets),
    )


def _number(value: Any) -> Decimal | int:
    if value is None:
        return 0
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else number


def _notes(elements: Sequence[ElementFigures]) -> list[str]:
    notes = []
    for element in elements:
        grouped = element.tally.audience > 0
        if not grouped:
            notes.append(f"{element.id}: no target group built for today")
        if element.type != "send" or not element.required_attributes:
            continue
        if not element.messages_today:
            if grouped:
                notes.append(f"{element.id}: no messages prepared yet, so empty attributes are not judged")
            continue
        empty_members = element.tally.reasons["empty_attributes"]
        if element.empty_customers and element.empty_customers != empty_members:
            where = (
                f"{empty_members} of these customers are in the element's target group"
                if grouped
                else "the element has no target group today, so none of them is counted as excluded"
            )
            notes.append(
                f"{element.id}: {element.empty_messages} of {element.messages_today} messages prepared today "
                f"({element.empty_customers} customers) have an empty or 0 attribute; {where}"
            )
    return notes
