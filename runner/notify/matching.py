"""Does a problem reach a subscription? Parameters 11-22: each filter, and the first one that says no."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any

from runner.notify.subscriptions import Subscription
from runner.repository import Repository

_MATCHER = re.compile(r"^(?P<key>[a-z][a-z0-9_]*)(?P<op>!=|=~|!~|=)(?P<value>.*)$")


@dataclass(frozen=True)
class CampaignFacts:
    """What subscriptions may ask of a problem's campaign."""

    channels: tuple[str, ...] = ()
    customer_type: str | None = None
    labels: Mapping[str, str] | None = None


def campaign_facts(repo: Repository) -> dict[str, CampaignFacts]:
    facts = {}
    for document in repo.documents("campaign"):
        if document.schema_valid:
            data = document.data
            facts[data["id"]] = CampaignFacts(
                tuple(data.get("channels", ())), data.get("customer_type"), dict(data.get("labels", {}))
            )
    return facts


def _any(value: str | None, patterns: tuple[str, ...]) -> bool:
    return value is not None and any(fnmatchcase(value, pattern) for pattern in patterns)


def label_holds(matcher: str, labels: Mapping[str, str]) -> bool:
    """key=value, key!=value, key=~regex, key!~regex (a regex matches the whole value, as Alertmanager)."""
    parsed = _MATCHER.match(matcher)
    if parsed is None:
        return False
    key, op, expected = parsed.group("key", "op", "value")
    value = labels.get(key, "")
    if op == "=":
        return value == expected
    if op == "!=":
        return value != expected
    full = re.fullmatch(expected, value) is not None
    return full if op == "=~" else not full


def refusal(sub: Subscription, problem: Mapping[str, Any], facts: Mapping[str, CampaignFacts]) -> str | None:
    """Why the problem never reaches the subscription (the first filter that says no), or None.

    `problem` has the stored problem's fields. min_occurrences and min_duration are not asked
    here: they say "not yet" (see `waiting`), not "no".
    """
    campaign = problem.get("campaign")
    about = facts.get(campaign) if campaign else None
    if not sub.enabled:
        return "the subscription is disabled (enabled: false)"
    if sub.severities and problem["severity"] not in sub.severities:
        return f"severity {problem['severity']} is not in severities {list(sub.severities)}"
    if sub.localizations and problem["localization"] not in sub.localizations:
        return f"localization {problem['localization']} is not in localizations {list(sub.localizations)}"
    if sub.campaigns and not _any(campaign, sub.campaigns):
        return f"campaign {campaign} matches none of campaigns {list(sub.campaigns)}"
    if sub.exclude_campaigns and _any(campaign, sub.exclude_campaigns):
        return f"campaign {campaign} matches exclude_campaigns {list(sub.exclude_campaigns)}"
    if sub.checks and not _any(problem["check"], sub.checks):
        return f"check {problem['check']} matches none of checks {list(sub.checks)}"
    if sub.exclude_checks and _any(problem["check"], sub.exclude_checks):
        return f"check {problem['check']} matches exclude_checks {list(sub.exclude_checks)}"
    if sub.campaign_channels and not (about and set(about.channels) & set(sub.campaign_channels)):
        channels = list(about.channels) if about else "no campaign"
        return f"campaign channels {channels} share none of campaign_channels {list(sub.campaign_channels)}"
    if sub.customer_types and not (about and about.customer_type in sub.customer_types):
        kind = about.customer_type if about else "no campaign"
        return f"customer type {kind} is not in customer_types {list(sub.customer_types)}"
    if sub.owners and problem.get("owner") not in sub.owners:
        return f"owner {problem.get('owner')} is not in owners {list(sub.owners)}"
    labels = dict(about.labels or {}) if about else {}
    for matcher in sub.labels:
        if not label_holds(matcher, labels):
            return f"label matcher {matcher!r} does not hold for the campaign's labels {labels}"
    return None


def waiting(sub: Subscription, problem: Mapping[str, Any], now: datetime) -> str | None:
    """min_occurrences and min_duration: not yet (the problem may still get there), or None."""
    if problem["occurrences"] < sub.min_occurrences:
        return f"occurred {problem['occurrences']} times, min_occurrences is {sub.min_occurrences}"
    if sub.min_duration is not None and now - problem["first_seen"] < sub.min_duration:
        return f"open since {problem['first_seen']:%Y-%m-%d %H:%M %Z}, min_duration is {sub.min_duration}"
    return None
