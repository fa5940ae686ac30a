"""Checks that ids are unique and that every reference between files resolves."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from runner.document import Document
from runner.findings import Severity
from runner.positions import JsonPath
from runner.static.check import Check, Context, Hit

_LABELS = {
    "functional_checks": "check",
    "data_checks": "check",
    "subscriptions": "subscription",
    "error_codes": "error code",
}
CHECK_KINDS = ("functional_checks", "data_checks")  # one id space: a problem names its check by id


def _definitions(ctx: Context, kind: str) -> dict[str, list[tuple[str, JsonPath]]]:
    if kind not in CHECK_KINDS:
        return ctx.repo.definitions(kind)
    merged: dict[str, list[tuple[str, JsonPath]]] = {}
    for name in CHECK_KINDS:
        for found_id, places in ctx.repo.definitions(name).items():
            merged.setdefault(found_id, []).extend(places)
    return merged


def duplicate_id(document: Document, ctx: Context) -> Iterator[Hit]:
    """Two definitions share one id (a campaign, template, check, subscription or error code).

    References to that id would be ambiguous."""
    definitions = _definitions(ctx, document.kind.name)
    for found_id, path in document.kind.ids(document.data):
        others = [(rel, other) for rel, other in definitions.get(found_id, []) if (rel, other) != (document.rel, path)]
        if others:
            rel, other = others[0]
            line, _ = ctx.repo.document(rel).position(other)
            yield Hit(
                path,
                f"{_LABELS.get(document.kind.name, document.kind.name)} id {found_id!r} is also defined at "
                f"{rel}:{line}; ids must be unique across the repository - rename one",
            )


def _source_names(ctx: Context) -> set[str] | None:
    sources = ctx.repo.single("sources")
    return set(sources["sources"]) if sources else None


def unknown_source(document: Document, ctx: Context) -> Iterator[Hit]:
    """A monitored table, a check or the default source is not defined in rules/sources.yaml."""
    if document.kind.name == "sources":
        known: set[str] | None = set(document.data["sources"])
        named: list[tuple[JsonPath, str]] = [(("default",), document.data["default"])]
    else:
        known = _source_names(ctx)
        section = "tables" if document.kind.name == "monitored_tables" else "checks"
        named = [((section, index, "source"), item.get("source")) for index, item in enumerate(document.data[section])]
    if known is None:
        return
    for path, name in named:
        if name is not None and name not in known:
            yield Hit(
                path,
                f"source {name!r} is not defined in rules/sources.yaml; "
                f"use one of {', '.join(sorted(known))} or add it there",
            )


def unknown_campaign(document: Document, ctx: Context) -> Iterator[Hit]:
    """A functional or data check names a campaign that does not exist."""
    campaigns = ctx.repo.definitions("campaign")
    for index, check in enumerate(document.data["checks"]):
        if "campaign" in check and check["campaign"] not in campaigns:
            yield Hit(
                ("checks", index, "campaign"),
                f"campaign {check['campaign']!r} does not exist; fix the id or remove the field",
            )


def unknown_subscription(document: Document, ctx: Context) -> Iterator[Hit]:
    """escalate_to names a subscription that does not exist (or is the subscription itself)."""
    names = {s["name"] for s in document.data["subscriptions"]}
    for index, subscription in enumerate(document.data["subscriptions"]):
        target = subscription.get("escalate_to")
        if target is not None and (target not in names or target == subscription["name"]):
            yield Hit(
                ("subscriptions", index, "escalate_to"),
                f"escalate_to {target!r} is not another "
                f"subscription; use one of {', '.join(sorted(names - {subscription['name']}))}",
            )


def no_match(document: Document, ctx: Context) -> Iterator[Hit]:
    """A subscription's or schedule's campaign or check pattern matches nothing: it silently selects nothing."""
    from runner.catalogue import known_check_ids

    section = document.kind.name  # subscriptions or schedules: both are lists under their own name
    universes: dict[str, Any] = {
        "campaigns": ctx.repo.definitions("campaign"),
        "exclude_campaigns": ctx.repo.definitions("campaign"),
        "checks": known_check_ids(ctx.repo),
        "exclude_checks": known_check_ids(ctx.repo),
    }
    for index, item in enumerate(document.data[section]):
        for field, universe in universes.items():
            for position, pattern in enumerate(item.get(field, [])):
                if not any(fnmatchcase(name, pattern) for name in universe):
                    kind = "campaign" if "campaign" in field else "check"
                    yield Hit(
                        (section, index, field, position),
                        f"{field} pattern {pattern!r} matches no {kind}; fix the pattern or remove it",
                    )


CHECKS = (
    Check(
        "id.duplicate",
        Severity.PROBLEM,
        "system",
        ("campaign", "template", "functional_checks", "data_checks", "subscriptions", "error_codes"),
        "Rename one of the two definitions.",
        duplicate_id,
    ),
    Check(
        "reference.unknown_source",
        Severity.PROBLEM,
        "integration",
        ("monitored_tables", "functional_checks", "data_checks", "sources"),
        "Use a source defined in rules/sources.yaml.",
        unknown_source,
    ),
    Check(
        "reference.unknown_campaign",
        Severity.PROBLEM,
        "campaign",
        ("functional_checks", "data_checks"),
        "Use the id of an existing campaign.",
        unknown_campaign,
    ),
    Check(
        "reference.unknown_subscription",
        Severity.PROBLEM,
        "system",
        ("subscriptions",),
        "Point escalate_to at another existing subscription.",
        unknown_subscription,
    ),
    Check(
        "reference.no_match",
        Severity.WARNING,
        "system",
        ("subscriptions", "schedules"),
        "Correct the pattern so it matches at least one campaign or check.",
        no_match,
    ),
)
