"""The launch gate (the SAP "Check" button): what must hold before a campaign launches.

Every check looks at the campaign's current day or period in its own time zone: today's
target group, today's segmentation run, the launches of this period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from runner.builtin.activity import LAUNCHED
from runner.builtin.attributes import declared, empty_value, required_attributes
from runner.builtin.declarations import (
    AUDIENCE_ANOMALY,
    AUDIENCE_OVER_MAX_CLIENTS,
    BONUS_OVER_CAP,
    CUSTOMER_TYPE_MISMATCH,
    DEDUP_WINDOW,
    EMPTY_ATTRIBUTE,
    OUTBOUND_STOPPED,
    SECOND_LIVE_LAUNCH,
    SEGMENTATION_NOT_DONE,
)
from runner.checktypes.anomaly import Baseline, judge
from runner.checktypes.failed_rows import failed_rows
from runner.checktypes.measure import measure
from runner.checktypes.target import Target, plainly
from runner.durations import parse_duration
from runner.engine.campaign import Campaign
from runner.engine.check import About, DataCheck
from runner.engine.evaluation import Evaluation, Source
from runner.engine.levels import Levels
from runner.engine.result import Result, Status

AUDIENCE_ELEMENTS = ("send", "bonus")
UNKNOWN = "(unknown type)"


def _about(check: DataCheck, campaign: Campaign, path: tuple[Any, ...] = ()) -> About:
    return check.about(campaign=campaign.id, owner=campaign.data.get("owner"), location=campaign.location(path))


def _audience(campaign: Campaign, ev: Evaluation) -> Target:
    """Today's target group of the campaign, per element (shared by two checks: one query)."""
    today = campaign.today(ev.now)
    return Target(
        dataset="target_group_members",
        where=lambda rows: sa.and_(rows.c.campaign_id == campaign.id, rows.c.run_date == today),
        group_by=("campaign_id", "element_id"),
        expect=tuple(f"{campaign.id}/{element_id}" for element_id, _ in campaign.elements(*AUDIENCE_ELEMENTS)),
    )


def _customers(rows: sa.FromClause) -> list[sa.ColumnElement[int]]:
    """A customer listed twice in a target group is one customer."""
    return [sa.func.count(sa.distinct(rows.c.customer_id)).label("value")]


def outbound_stopped(ev: Evaluation, campaign: Campaign) -> list[Result]:
    """The big red button is pressed: every launch gate fails until outbound is started again."""
    about = _about(OUTBOUND_STOPPED, campaign)
    stop = ev.outbound_stop
    if stop is None:
        return [about.result(campaign.id, Status.PASS, observed="running", expected="outbound running")]
    cause = f"outbound stopped by {stop.actor} at {stop.at:%Y-%m-%d %H:%M} UTC: {stop.reason}"
    return [about.result(campaign.id, Status.FAIL, observed="stopped", expected="outbound running", cause=cause)]


def audience_over_max_clients(ev: Evaluation, campaign: Campaign) -> Iterator[Result]:
    """Today's target group of a send or bonus element is larger than the element's max_clients.

    A wrong segment (the whole customer base instead of a selection) is caught before anything
    is sent.
    """
    limits = {
        f"{campaign.id}/{element_id}": Levels.above(element["max_clients"])
        for element_id, element in campaign.elements(*AUDIENCE_ELEMENTS)
    }
    for result in measure(
        ev,
        _about(AUDIENCE_OVER_MAX_CLIENTS, campaign),
        _audience(campaign, ev),
        lambda subject: limits.get(subject, Levels()),
        aggregate="count_distinct",
        column="customer_id",
        describe=plainly("customers in today's target group"),
    ):
        element_id = result.subject.partition("/")[2]
        if element_id in campaign.data["elements"]:
            location = campaign.location(("elements", element_id, "max_clients"))
            yield replace(result, location=location)
        else:
            yield result


def segmentation_not_done(ev: Evaluation, campaign: Campaign) -> Iterator[Result]:
    """The campaign's segmentation job has no successful run today, so the audience would be stale.

    Looks at the latest run of the job started on the campaign's local day.
    """
    job = campaign.data.get("segmentation_job")
    if not job:
        return
    source = ev.source(None)
    start, _end = campaign.day(ev.now)
    runs = source.dataset("job_runs")
    latest = source.rows(
        sa.select(runs.c.status, runs.c.started_at, runs.c.finished_at)
        .where(runs.c.job_name == job, runs.c.started_at >= source.local(start))
        .order_by(runs.c.started_at.desc())
        .limit(1),
        SEGMENTATION_NOT_DONE.id,
    )
    about = _about(SEGMENTATION_NOT_DONE, campaign, ("segmentation_job",))
    status = latest[0]["status"] if latest else None
    if status == "succeeded":
        yield about.result(job, Status.PASS, observed="succeeded", expected="succeeded today")
        return
    if not latest:
        observed, cause = "no run today", f"{job} has not run today"
    elif status is None:
        observed, cause = "no status", f"today's run of {job} has no status"
    else:
        observed, cause = status, f"today's run of {job} ended {status!r}"
    yield about.result(job, Status.FAIL, observed=observed, expected="succeeded today", cause=cause)


def audience_anomaly(ev: Evaluation, campaign: Campaign) -> Iterator[Result]:
    """Today's audience of an element is outside 3 sigma of its last N live launches.

    Elements whose target group is not built today are not judged.

    Only judged when the audience or its mean is above the minimum volume (thresholds.anomaly):
    small campaigns swing too much for the rule to mean anything.
    """
    settings = ev.thresholds["anomaly"]
    baseline = Baseline(settings["history_length"], settings["min_volume"], settings["sigma"])
    source = ev.source(None)
    start, _end = campaign.day(ev.now)
    today = source.rows(_audience(campaign, ev).select(ev, source, _customers), AUDIENCE_ANOMALY.id)
    current = {row["element_id"]: int(row["value"]) for row in today}
    launches = source.dataset("launches")
    history = source.rows(
        sa.select(launches.c.launch_id, launches.c.element_id, launches.c.clients)
        .where(
            launches.c.campaign_id == campaign.id,
            launches.c.mode == "live",
            launches.c.status == "completed",
            launches.c.launched_at < source.local(start),
        )
        .order_by(launches.c.launched_at.desc(), launches.c.launch_id)
        .limit(2 * baseline.history * max(1, len(current))),  # room for launch rows replicated twice
        AUDIENCE_ANOMALY.id,
    )
    for element_id, _element in campaign.elements(*AUDIENCE_ELEMENTS):
        if element_id not in current:
            continue  # no target group built for the element today: nothing to compare yet
        # newest first, by launch id: a launch row replicated twice is one launch
        launched = list({row["launch_id"]: row for row in history if row["element_id"] == element_id}.values())
        periods = launched[: baseline.history]
        previous = [float(row["clients"]) for row in periods if row["clients"] is not None]
        audience = current.get(element_id, 0)
        status, expected, cause = judge(audience, previous, baseline, left_out=len(periods) - len(previous))
        yield _about(AUDIENCE_ANOMALY, campaign, ("elements", element_id)).result(
            f"{campaign.id}/{element_id}", status, observed=audience, expected=expected, cause=cause
        )


def customer_type(campaign: Campaign) -> str:
    """The campaign's customer type as the dataset writes types: trimmed, lower-case."""
    return str(campaign.data["customer_type"]).strip().lower()


def other_type(kind: sa.ColumnElement[str], campaign: Campaign) -> sa.ColumnElement[bool]:
    """A member of another customer type than the campaign's; one without a type (NULL) too."""
    return sa.or_(kind.is_(None), kind != customer_type(campaign))


def customer_type_mismatch(ev: Evaluation, campaign: Campaign) -> list[Result]:
    """Customers in today's target group whose type differs from the campaign's customer_type.

    The CRM skips them at launch (error 121/1); many of them mean the segment filter is wrong.
    """
    wanted = customer_type(campaign)
    today = campaign.today(ev.now)
    source = ev.source(None)
    members = source.dataset("target_group_members")
    kind = members.c.customer_type
    query = (
        sa.select(members.c.element_id, members.c.customer_id, sa.func.coalesce(kind, UNKNOWN).label("customer_type"))
        .distinct()  # a member listed twice is one customer
        .where(members.c.campaign_id == campaign.id, members.c.run_date == today, other_type(kind, campaign))
    )
    return failed_rows(
        ev,
        _about(CUSTOMER_TYPE_MISMATCH, campaign, ("customer_type",)),
        query,
        subject=campaign.id,
        describe=lambda shown: f"{shown} of today's target group are not {wanted!r} customers",
    )


def empty_attribute(ev: Evaluation, campaign: Campaign) -> Iterator[Result]:
    """Messages prepared today whose template attributes are missing, empty or zero ("0 points" SMS).

    The attributes are those the element's template declares required; the values come from
    message_attributes, where a declared attribute without a row counts as empty.
    """
    source = ev.source(None)
    start, end = campaign.day(ev.now)
    messages = source.dataset("messages")
    attributes = source.dataset("message_attributes")
    for element_id, element in campaign.elements("send"):
        names = declared({element_id: required_attributes(ev.repo, element)})
        if names is None:
            continue
        # every declared attribute of every message: a missing row is as empty as an empty value
        shown = (messages.c.message_id, messages.c.customer_id, names.c.name, attributes.c.value)
        query = (
            sa.select(*shown)
            .select_from(
                messages.join(names, names.c.element_id == messages.c.element_id).outerjoin(
                    attributes,
                    sa.and_(attributes.c.message_id == messages.c.message_id, attributes.c.name == names.c.name),
                )
            )
            .where(
                messages.c.campaign_id == campaign.id,
                messages.c.element_id == element_id,
                messages.c.created_at >= source.local(start),
                messages.c.created_at < source.local(end),
                empty_value(attributes, names),
            )
            # a message row replicated is one message: GROUP BY, not DISTINCT, which would make SQLite
            # copy the whole attributes table to answer the outer join (it never flattens a DISTINCT one)
            .group_by(*shown)
        )
        yield from failed_rows(
            ev,
            _about(EMPTY_ATTRIBUTE, campaign, ("elements", element_id, "template")),
            query,
            subject=f"{campaign.id}/{element_id}",
            describe=_empty_in(str(element["template"])),
        )


def _empty_in(template: str) -> Callable[[str], str]:
    return lambda shown: f"{shown}: attributes of template {template!r} are empty or 0"


def second_live_launch(ev: Evaluation, campaign: Campaign) -> list[Result]:
    """An element was launched live more than once in the campaign's period (day, week, or run).

    A start time in the past or a manual restart sends the same campaign twice.
    """
    start, end = campaign.period(ev.now)
    source = ev.source(None)
    target = Target(
        dataset="launches",
        where=lambda rows: sa.and_(
            rows.c.campaign_id == campaign.id,
            rows.c.mode == "live",  # a test launch is no launch to customers
            rows.c.status.in_(LAUNCHED),
            rows.c.launched_at >= source.local(start),
            rows.c.launched_at < source.local(end),
        ),
        group_by=("campaign_id", "element_id"),
    )
    return measure(
        ev,
        _about(SECOND_LIVE_LAUNCH, campaign, ("schedule",)),
        target,
        Levels.above(1),
        aggregate="count_distinct",  # a launch row replicated twice is one launch
        column="launch_id",
        describe=plainly(f"live launches since {start:%Y-%m-%d %H:%M}"),
    )


def bonus_over_cap(ev: Evaluation, campaign: Campaign) -> list[Result]:
    """Customers credited more today by the campaign than the per-client cap.

    The cap is thresholds.max_bonus_per_client, or the campaign's limits.max_bonus when lower.
    """
    caps = [ev.thresholds["max_bonus_per_client"], campaign.data.get("limits", {}).get("max_bonus")]
    cap = min(c for c in caps if c is not None)
    source = ev.source(None)
    start, end = campaign.day(ev.now)
    accruals = source.dataset("bonus_accruals")
    credited = (
        sa.select(accruals.c.accrual_id, accruals.c.customer_id, accruals.c.amount)
        .distinct()  # an accrual row replicated is credited once
        .where(
            accruals.c.campaign_id == campaign.id,
            accruals.c.created_at >= source.local(start),
            accruals.c.created_at < source.local(end),
            ~of_test_launch(source, accruals),
        )
        .subquery("credited")
    )
    total = sa.func.sum(credited.c.amount)
    query = (
        sa.select(credited.c.customer_id, total.label("total_amount"))
        .group_by(credited.c.customer_id)
        .having(total > cap)
    )
    return failed_rows(
        ev,
        _about(BONUS_OVER_CAP, campaign, ("limits",) if "limits" in campaign.data else ()),
        query,
        subject=campaign.id,
        describe=lambda shown: f"{shown}: customers credited more than {cap} today",
    )


def of_test_launch(source: Source, rows: sa.FromClause) -> sa.ColumnElement[bool]:
    """Rows (accruals, messages) of a launch in mode test: never judged against production limits."""
    launches = source.dataset("launches")
    return sa.select(sa.literal(1)).where(launches.c.launch_id == rows.c.launch_id, launches.c.mode == "test").exists()


def dedup_window(ev: Evaluation, campaign: Campaign) -> list[Result]:
    """Customers in today's target group who already got this campaign within its dedup_window.

    "No two birthdays in a row": a customer must not enter the campaign again so soon.
    """
    window = campaign.data.get("dedup_window")
    if not window:
        return []
    source = ev.source(None)
    start, _end = campaign.day(ev.now)
    members = source.dataset("target_group_members")
    messages = source.dataset("messages")
    earlier = (
        sa.select(sa.literal(1))
        .where(
            messages.c.campaign_id == campaign.id,
            messages.c.customer_id == members.c.customer_id,
            messages.c.created_at >= source.local(start - parse_duration(window)),
            messages.c.created_at < source.local(start),
        )
        .exists()
    )
    query = (
        sa.select(members.c.customer_id)
        .distinct()
        .where(members.c.campaign_id == campaign.id, members.c.run_date == campaign.today(ev.now), earlier)
    )
    return failed_rows(
        ev,
        _about(DEDUP_WINDOW, campaign, ("dedup_window",)),
        query,
        subject=campaign.id,
        describe=lambda shown: f"{shown}: customers already reached by this campaign in the last {window}",
    )
