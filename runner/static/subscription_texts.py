"""A subscription's own template, rendered with a sample problem as notify would render it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from runner.document import Document
from runner.notify.message import Item, Message
from runner.notify.render import TemplateFailed, render_for
from runner.notify.subscriptions import subscription
from runner.schedule_fields import broken_entries
from runner.static.check import Context, Hit

SAMPLE_AT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
SAMPLE = Item(
    event="opened",
    at=SAMPLE_AT,
    fingerprint="0123456789abcdef",
    check="monitor.queue_size",
    subject="email_send",
    severity="problem",
    localization="queue",
    status="open",
    title="Queue above its limit",
    cause="queue email_send holds 12000 entries, above its limit of 5000",
    hint="Find what stopped the consumer of the queue.",
    campaign="welcome_chain",
    owner="crm-dev",
    link="campaigns/welcome_chain.yaml:1",
    first_seen=SAMPLE_AT - timedelta(hours=1),
    last_seen=SAMPLE_AT,
    occurrences=3,
    regressions=0,
    observed=12000,
    expected="at most 5000",
    url="https://guard.example.com/problems/0123456789abcdef",
)


def sample_message(name: str, mode: str) -> Message:
    """What a subscription in this mode sends: a digest of an hour, or one problem opened."""
    if mode == "digest":
        return Message(name, "digest", (SAMPLE,), since=SAMPLE_AT - timedelta(hours=1), until=SAMPLE_AT)
    return Message(name, "immediate", (SAMPLE,))


def template_errors(document: Document, ctx: Context) -> Iterator[Hit]:
    """Each subscription's own template, rendered with a sample problem; a failure at its line."""
    broken = broken_entries("subscriptions", document.data)  # an unknown time zone is timezone.unknown's
    for index, spec in enumerate(document.data["subscriptions"]):
        if "template" not in spec or ("subscriptions", index) in broken:
            continue
        sub = subscription(spec)
        try:
            render_for(sub, sample_message(sub.name, sub.mode))
        except TemplateFailed as failed:
            message = (
                f"template {failed.refused}"
                if failed.refused
                else f"template fails to render with a sample problem: {failed.reason.rstrip('.')}; "
                "fix the template (`campaign-guard docs notifications` lists what it may use)"
            )
            yield Hit(("subscriptions", index, "template"), message, text_line=failed.line or 1)
