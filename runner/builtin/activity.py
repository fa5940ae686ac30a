"""What campaigns did: duplicate participation, launches of the last hour, elements nobody released."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from runner.builtin.declarations import DUPLICATE_PARTICIPATION, LAUNCHED_LAST_HOUR, UNRELEASED_ELEMENTS
from runner.builtin.incidents import window
from runner.engine.campaign import Campaign
from runner.engine.evaluation import Evaluation
from runner.engine.result import Result, Status
from runner.scenario import reachable

LAUNCHED = ("completed", "running")  # not cancelled, not refused as not released


def running_campaigns(ev: Evaluation) -> dict[str, Campaign]:
    campaigns = (Campaign(d) for d in ev.repo.documents("campaign") if d.schema_valid)
    return {c.id: c for c in campaigns if c.data["status"] == "running"}


def duplicate_participation(ev: Evaluation) -> Iterator[Result]:
    """Customers who got the same element of a campaign more than once yesterday.

    Judged for campaigns with a dedup_window (SAP: the duplicate check runs for campaigns that
    declare one); yesterday is the source's calendar day.
    """
    campaigns = {k: c for k, c in running_campaigns(ev).items() if c.data.get("dedup_window")}
    if not campaigns:
        return
    source = ev.source(None)
    today = datetime.combine(source.local(ev.now).date(), time())
    messages = source.dataset("messages")
    repeated = (
        sa.select(messages.c.campaign_id, messages.c.element_id, messages.c.customer_id)
        .where(
            messages.c.campaign_id.in_(sorted(campaigns)),
            messages.c.created_at >= today - timedelta(days=1),
            messages.c.created_at < today,
        )
        .group_by(messages.c.campaign_id, messages.c.element_id, messages.c.customer_id)
        .having(sa.func.count(sa.distinct(messages.c.message_id)) > 1)  # a message row replicated is one message
        .subquery("repeated")
    )
    answer = source.rows(
        sa.select(repeated.c.campaign_id, sa.func.count().label("customers")).group_by(repeated.c.campaign_id),
        DUPLICATE_PARTICIPATION.id,
    )
    found = {row["campaign_id"]: int(row["customers"]) for row in answer}
    for campaign_id, campaign in sorted(campaigns.items()):
        customers = found.get(campaign_id, 0)
        yield DUPLICATE_PARTICIPATION.about(
            campaign=campaign_id, owner=campaign.data.get("owner"), location=campaign.location(("dedup_window",))
        ).result(
            campaign_id,
            Status.FAIL if customers else Status.PASS,
            observed=customers,
            expected="0",
            cause=f"{customers} customers got the same message of {campaign_id} twice yesterday",
        )


def launched_last_hour(ev: Evaluation) -> Iterator[Result]:
    """Campaigns launched within the monitoring window, with their audience (report only, never fails).

    A launch row replicated is one launch; a launch without a client count adds none.
    """
    source = ev.source(None)
    launches = source.dataset("launches")
    recent = (
        sa.select(launches.c.launch_id, launches.c.campaign_id, launches.c.mode, launches.c.clients)
        .distinct()
        .where(launches.c.launched_at >= source.local(ev.now - window(ev)), launches.c.status.in_(LAUNCHED))
        .subquery("recent")
    )
    answer = source.rows(
        sa.select(
            recent.c.campaign_id,
            recent.c.mode,
            sa.func.count(sa.distinct(recent.c.launch_id)).label("launches"),
            sa.func.sum(recent.c.clients).label("clients"),
        ).group_by(recent.c.campaign_id, recent.c.mode),
        LAUNCHED_LAST_HOUR.id,
    )
    for row in sorted(answer, key=lambda r: (str(r["campaign_id"]), str(r["mode"]))):
        yield LAUNCHED_LAST_HOUR.about(campaign=row["campaign_id"]).result(
            f"{row['campaign_id']}/{row['mode']}",
            Status.PASS,
            observed=f"{row['launches']} {row['mode']} launches, {int(row['clients'] or 0)} clients",
        )


def unreleased_elements(ev: Evaluation) -> Iterator[Result]:
    """A running campaign has an element nobody released: the chain silently stops there.

    Found two ways: an element reachable from start with released: false in the repository,
    and an element the CRM refused to run because it is not released there (launches with
    status not_released within the jobs window).
    """
    campaigns = running_campaigns(ev)
    refused: dict[tuple[str, str], int] = {}
    if campaigns:
        source = ev.source(None)
        launches = source.dataset("launches")
        answer = source.rows(
            sa.select(launches.c.campaign_id, launches.c.element_id, sa.func.count().label("refused"))
            .where(
                launches.c.status == "not_released",
                launches.c.campaign_id.in_(sorted(campaigns)),
                launches.c.launched_at >= source.local(ev.now - window(ev, "jobs_window")),
            )
            .group_by(launches.c.campaign_id, launches.c.element_id),
            UNRELEASED_ELEMENTS.id,
        )
        refused = {(row["campaign_id"], row["element_id"]): int(row["refused"]) for row in answer}
    for campaign_id, campaign in sorted(campaigns.items()):
        elements = campaign.data["elements"]
        for element_id in reachable(elements, campaign.data["start"]):
            in_repository = not elements[element_id].get("released", False)
            in_crm = refused.get((campaign_id, element_id), 0)
            if not (in_repository or in_crm):
                continue
            where = (
                "is released: false in the repository"
                if in_repository
                else (f"was refused by the CRM as not released ({in_crm} launches)")
            )
            yield UNRELEASED_ELEMENTS.about(
                campaign=campaign_id,
                owner=campaign.data.get("owner"),
                location=campaign.location(("elements", element_id, "released")),
            ).result(
                f"{campaign_id}/{element_id}",
                Status.FAIL,
                observed="not released",
                expected="released",
                cause=f"element {element_id!r} of the running campaign {where}",
            )
