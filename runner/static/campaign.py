"""Checks of a campaign's own settings: schedule, segmentation, limits, bonuses, channels, types."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from runner.document import Document
from runner.findings import Severity
from runner.scenario import elements_of
from runner.static.check import Check, Context, Hit
from runner.zones import zone_problem

PERIODIC = ("daily", "weekly", "cron")
LIMIT_PAIRS = (("min_messages", "max_messages"), ("min_bonus", "max_bonus"))


def _moment(schedule: dict[str, Any], field: str) -> datetime | None:
    """start_at / end_at as an aware datetime, or None when absent or unreadable."""
    try:
        moment = datetime.fromisoformat(schedule[field])
        zone = ZoneInfo(schedule["timezone"])
    except (KeyError, ValueError, ZoneInfoNotFoundError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def segmentation_job_missing(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A periodic campaign names no segmentation job, so nobody checks its audience is fresh."""
    schedule_type = campaign.data["schedule"]["type"]
    if schedule_type in PERIODIC and not campaign.data.get("segmentation_job"):
        yield Hit(
            ("schedule", "type"),
            f"a {schedule_type} campaign needs segmentation_job: the job that "
            "rebuilds its target group, so that a launch on a stale audience is stopped",
        )


def schedule_invalid(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """The schedule's dates cannot be read: an impossible date, or an end before the start."""
    schedule = campaign.data["schedule"]
    if zone_problem(schedule["timezone"]):
        return  # timezone.unknown says so; the dates cannot be read without their zone
    for field in ("start_at", "end_at"):
        if field in schedule and _moment(schedule, field) is None:
            yield Hit(
                ("schedule", field),
                f"{field} {schedule[field]!r} is not a real date and time; write it as YYYY-MM-DDTHH:MM",
            )
    start, end = _moment(schedule, "start_at"), _moment(schedule, "end_at")
    if start and end and end <= start:
        yield Hit(
            ("schedule", "end_at"),
            f"end_at {schedule['end_at']} is not after start_at {schedule['start_at']}; the campaign would never run",
        )


def start_in_past(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A campaign that is not running yet has its start in the past; it would launch at once, and
    a daily job would relaunch it every few minutes (the SAP incident)."""
    if campaign.data["status"] not in ("draft", "scheduled"):
        return
    start = _moment(campaign.data["schedule"], "start_at")
    if start is not None and start < ctx.now:
        yield Hit(
            ("schedule", "start_at"),
            f"start_at {campaign.data['schedule']['start_at']} is in the past "
            f"for a {campaign.data['status']} campaign; move it to the future",
        )


def bonus_above_cap(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A bonus element or the campaign limits promise more than the global per-client cap."""
    cap = ctx.repo.thresholds["max_bonus_per_client"]
    for element_id, element in elements_of(campaign.data, "bonus"):
        if element["amount"] > cap:
            yield Hit(
                ("elements", element_id, "amount"),
                f"bonus {element['amount']} in element {element_id!r} "
                f"is above the cap of {cap} per client (rules/thresholds.yaml); lower it",
            )
    max_bonus = campaign.data.get("limits", {}).get("max_bonus")
    if max_bonus is not None and max_bonus > cap:
        yield Hit(
            ("limits", "max_bonus"),
            f"limits.max_bonus {max_bonus} is above the cap of {cap} per client (rules/thresholds.yaml); lower it",
        )


def limits_inconsistent(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A minimum above its maximum, or a per-client bonus above the whole launch's total."""
    limits = campaign.data.get("limits", {})
    for low, high in LIMIT_PAIRS:
        if low in limits and high in limits and limits[low] > limits[high]:
            yield Hit(
                ("limits", low),
                f"limits.{low} {limits[low]} is above limits.{high} {limits[high]}; swap or correct them",
            )
    if "max_bonus" in limits and "max_bonus_total" in limits and limits["max_bonus"] > limits["max_bonus_total"]:
        yield Hit(
            ("limits", "max_bonus_total"),
            f"limits.max_bonus_total {limits['max_bonus_total']} is below "
            f"limits.max_bonus {limits['max_bonus']} for a single customer; correct one of them",
        )


def channel_undeclared(campaign: Document, ctx: Context) -> Iterator[Hit]:
    """A send element uses a channel the campaign does not declare in channels."""
    declared = campaign.data["channels"]
    for element_id, element in elements_of(campaign.data, "send"):
        if element["channel"] not in declared:
            yield Hit(
                ("elements", element_id, "channel"),
                f"element {element_id!r} sends by {element['channel']}, "
                f"which is not among the campaign's channels ({', '.join(declared)}); add it or fix the element",
            )


def unknown_customer_type(document: Document, ctx: Context) -> Iterator[Hit]:
    """A campaign or template names a customer type the CRM does not know (a typo reaches nobody)."""
    known = ctx.repo.thresholds["customer_types"]
    data = document.data
    named = (
        [(("customer_type",), data["customer_type"])]
        if "customer_type" in data
        else [(("customer_types", index), value) for index, value in enumerate(data["customer_types"])]
    )
    for path, value in named:
        if value not in known:
            yield Hit(
                path,
                f"customer type {value!r} is unknown; use one of {', '.join(known)} "
                "(rules/thresholds.yaml customer_types)",
            )


CHECKS = (
    Check(
        "campaign.segmentation_job_missing",
        Severity.PROBLEM,
        "segmentation",
        ("campaign",),
        "Name the job that builds the campaign's target group in segmentation_job.",
        segmentation_job_missing,
    ),
    Check(
        "schedule.invalid",
        Severity.PROBLEM,
        "campaign",
        ("campaign",),
        "Use real dates, with end_at after start_at.",
        schedule_invalid,
    ),
    Check(
        "schedule.start_in_past",
        Severity.PROBLEM,
        "campaign",
        ("campaign",),
        "Move start_at into the future, or set the status to running if it already runs.",
        start_in_past,
    ),
    Check(
        "bonus.above_cap",
        Severity.PROBLEM,
        "bonus",
        ("campaign",),
        "Lower the amount to the cap in rules/thresholds.yaml (or raise the cap after review).",
        bonus_above_cap,
    ),
    Check(
        "limits.inconsistent",
        Severity.PROBLEM,
        "campaign",
        ("campaign",),
        "Make every minimum at most its maximum.",
        limits_inconsistent,
    ),
    Check(
        "campaign.channel_undeclared",
        Severity.PROBLEM,
        "campaign",
        ("campaign",),
        "Add the channel to the campaign's channels or change the element.",
        channel_undeclared,
    ),
    Check(
        "campaign.unknown_customer_type",
        Severity.PROBLEM,
        "campaign",
        ("campaign", "template"),
        "Use a customer type listed in rules/thresholds.yaml.",
        unknown_customer_type,
    ),
)
