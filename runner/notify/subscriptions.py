"""rules/subscriptions.yaml as the planner reads it: the 35 parameters with their defaults."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from runner.durations import parse_duration
from runner.repository import Repository
from runner.schedule_fields import broken_entries

DEFAULT_EVENTS = ("opened", "reopened", "escalated")


@dataclass(frozen=True)
class Subscription:
    name: str  # 1
    description: str  # 2
    owner: str | None  # 3
    enabled: bool  # 4
    channel: str  # 5
    recipients: tuple[str, ...]  # 6
    format: str  # 7
    language: str  # 8
    template: str | None  # 9
    zone: ZoneInfo  # 10 timezone
    severities: tuple[str, ...]  # 11
    localizations: tuple[str, ...]  # 12
    campaigns: tuple[str, ...]  # 13
    exclude_campaigns: tuple[str, ...]  # 14
    checks: tuple[str, ...]  # 15
    exclude_checks: tuple[str, ...]  # 16
    campaign_channels: tuple[str, ...]  # 17
    customer_types: tuple[str, ...]  # 18
    owners: tuple[str, ...]  # 19
    labels: tuple[str, ...]  # 20
    min_occurrences: int  # 21
    min_duration: timedelta | None  # 22
    events: tuple[str, ...]  # 23
    mode: str  # 24
    digest_schedule: str | None  # 25
    quiet_hours: str | None  # 26
    working_days: tuple[str, ...]  # 27
    repeat_interval: timedelta | None  # 28
    group_by: tuple[str, ...]  # 29
    group_wait: timedelta  # 30
    max_items: int  # 31
    rate_limit: int | None  # 32
    send_empty: bool  # 33
    escalate_after: timedelta | None  # 34
    escalate_to: str | None  # 35
    location: str = ""  # file:line of its definition


def subscription(spec: Mapping[str, Any], location: str = "") -> Subscription:
    def listed(key: str) -> tuple[str, ...]:
        return tuple(str(value) for value in spec.get(key, ()))

    def duration(key: str) -> timedelta | None:
        return parse_duration(spec[key]) if key in spec else None

    return Subscription(
        name=spec["name"],
        description=spec.get("description", ""),
        owner=spec.get("owner"),
        enabled=spec.get("enabled", True),
        channel=spec["channel"],
        recipients=listed("recipients"),
        format=spec.get("format", "text"),
        language=spec.get("language", "en"),
        template=spec.get("template"),
        zone=ZoneInfo(spec.get("timezone", "UTC")),
        severities=listed("severities"),
        localizations=listed("localizations"),
        campaigns=listed("campaigns"),
        exclude_campaigns=listed("exclude_campaigns"),
        checks=listed("checks"),
        exclude_checks=listed("exclude_checks"),
        campaign_channels=listed("campaign_channels"),
        customer_types=listed("customer_types"),
        owners=listed("owners"),
        labels=listed("labels"),
        min_occurrences=spec.get("min_occurrences", 1),
        min_duration=duration("min_duration"),
        events=tuple(spec.get("events", DEFAULT_EVENTS)),
        mode=spec.get("mode", "immediate"),
        digest_schedule=spec.get("digest_schedule"),
        quiet_hours=spec.get("quiet_hours"),
        working_days=listed("working_days"),
        repeat_interval=duration("repeat_interval"),
        group_by=listed("group_by"),
        group_wait=duration("group_wait") or timedelta(0),
        max_items=spec.get("max_items", 20),
        rate_limit=spec.get("rate_limit"),
        send_empty=spec.get("send_empty", False),
        escalate_after=duration("escalate_after"),
        escalate_to=spec.get("escalate_to"),
        location=location,
    )


def load_subscriptions(repo: Repository) -> list[Subscription]:
    """Every usable subscription of a valid rules/subscriptions.yaml, enabled or not, in file order.

    One whose time zone, digest_schedule or quiet_hours cannot be used is left out (skipped_entries reports it)."""
    found = []
    for document in repo.documents("subscriptions"):
        if not document.schema_valid:
            continue
        broken = broken_entries("subscriptions", document.data)
        for index, spec in enumerate(document.data["subscriptions"]):
            if ("subscriptions", index) in broken:
                continue
            line, _ = document.position(("subscriptions", index))
            found.append(subscription(spec, f"{document.rel}:{line}"))
    return found
