"""campaign-guard notify: plan due messages (immediate, digests, reminders, escalations) and deliver the outbox."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from runner.deadlines import NOTIFY_DEADLINE, seconds_text
from runner.display import Display, count
from runner.errors import ExitCode, UsageError
from runner.notify.channels import send
from runner.notify.delivery import Delivered, deliver
from runner.notify.health import record_health
from runner.notify.matching import campaign_facts
from runner.notify.planner import HELD, Planned, plan
from runner.notify.rendering import failures, render_outbox, render_rows, rendered_row, requeue_failed, unrendered
from runner.notify.subscriptions import load_subscriptions
from runner.repository import Repository
from runner.schedule_fields import skipped_entries
from runner.store.clock import to_store
from runner.store.connect import Store, existing_store, open_store, store_label
from runner.store.tables import outbox

BASE_URL_VARIABLE = "CAMPAIGN_GUARD_BASE_URL"  # the problems page, for links in messages


def notify(
    store: Store,
    repo: Repository,
    now: datetime,
    *,
    dry_run: bool = False,
    retry_failed: bool = False,
    deadline: float = NOTIFY_DEADLINE,
) -> tuple[Planned, Delivered, list[Any]]:
    """Plan, render, then deliver (or, dry, say what would be sent); the store is left as it was when dry.

    Planning holds the store's write lock; rendering holds none (runner/notify/rendering.py). A
    subscription whose template fails has its messages failed, and system.notify_failed says so;
    the other subscriptions' messages are sent. retry_failed queues again the messages that failed
    for good (a refusal, a missing variable, a broken template), once whatever refused them is fixed.
    Delivery stops at `deadline` seconds; what it did not reach stays pending for the next run.
    """
    subscriptions = load_subscriptions(repo)
    facts = campaign_facts(repo)
    base_url = os.environ.get(BASE_URL_VARIABLE) or None
    context = store.rehearse() if dry_run else store.write()
    with context as connection:
        if retry_failed:
            requeue_failed(connection, now)
        planned = plan(connection, subscriptions, facts, now, base_url)
        if dry_run:  # rendered below in memory, once the rehearsal is rolled back
            waiting, due = unrendered(connection), _due(connection, now, ())
    if dry_run:
        done, outcome = render_rows(waiting, subscriptions)
        shown = [*due, *(rendered_row(row, done.get(row.id)) for row in waiting)]
        return planned, Delivered(failed=failures(outcome)), sorted(shown, key=lambda row: row.id)
    outcome = render_outbox(store, subscriptions, now)  # no lock held while templates render
    with store.read() as connection:
        due = _due(connection, now, outcome.failed)
    delivered = deliver(store, now, send, deadline=deadline)
    delivered.failed.update(failures(outcome))
    record_health(store, now, outcome, delivered, due)
    return planned, delivered, due


def _due(connection: sa.Connection, now: datetime, failed: Iterable[int]) -> list[Any]:
    """The messages due now, and those whose template just failed (shown with their error)."""
    query = sa.select(outbox).where(
        sa.or_(
            sa.and_(outbox.c.status == "pending", outbox.c.next_attempt_at <= to_store(now)),
            outbox.c.id.in_(list(failed)),
        )
    )
    return list(connection.execute(query.order_by(outbox.c.id)).all())


def run(
    root: Path,
    *,
    now: datetime,
    dry_run: bool,
    retry_failed: bool,
    output_format: str,
    tz: str | None = None,
    deadline: float = NOTIFY_DEADLINE,
) -> ExitCode:
    display = Display.of(tz)
    repo = Repository(root)
    invalid = repo.invalid("subscriptions")
    if invalid:
        rel = invalid[0]
        raise UsageError(f"{rel} is invalid: nobody would be notified; run `campaign-guard validate {rel}`")
    store = existing_store(root) if dry_run else open_store(root)  # a dry run creates no store
    if store is None:
        print(f"nothing would be sent: no state store yet at {store_label(root)}, so no problem to notify of")
        return ExitCode.OK
    try:
        planned, delivered, due = notify(
            store, repo, now, dry_run=dry_run, retry_failed=retry_failed, deadline=deadline
        )
    finally:
        store.close()
    entries = skipped_entries(repo.documents("subscriptions"))
    for line in entries:
        print(f"campaign-guard: {line}", file=sys.stderr)
    if output_format == "json":
        sys.stdout.write(json.dumps(_report(planned, delivered, due, dry_run), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(_text(planned, delivered, due, dry_run, display, deadline))
    if entries:
        return ExitCode.CONFIG_ERROR  # a subscription silently missing is worse than a failed delivery
    undelivered = delivered.retrying or delivered.failed or delivered.deferred or delivered.left
    return ExitCode.SOURCE_ERROR if undelivered else ExitCode.OK


def _report(planned: Planned, delivered: Delivered, due: list[Any], dry_run: bool) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "matched": planned.matched,
        "held": planned.held,
        "left_for_next_run": len(delivered.deferred) + delivered.left,
        "messages": [
            {
                "id": row.id,
                "subscription": row.subscription,
                "kind": row.kind,
                "channel": row.channel,
                "recipients": json.loads(row.recipients),
                "subject": row.subject,
                "items": row.items,
                "more": row.more,
                "attempts": row.attempts,
                "status": _status(row.id, delivered, dry_run),
            }
            for row in due
        ],
    }


def _status(message_id: int, delivered: Delivered, dry_run: bool) -> str:
    if message_id in delivered.failed:  # a dry run too: the subscription's template fails
        return f"failed: {delivered.failed[message_id]}"
    if dry_run:
        return "would send"
    if message_id in delivered.sent:
        return "sent"
    if message_id in delivered.retrying:
        return f"will retry: {delivered.retrying[message_id]}"
    if message_id in delivered.deferred:
        endpoint = delivered.deferred[message_id]
        return f"left for the next run: {endpoint} failed {delivered.breaker.threshold} times in a row"
    return "pending"


def _text(
    planned: Planned, delivered: Delivered, due: list[Any], dry_run: bool, display: Display, deadline: float
) -> str:
    lines = []
    for name, matched in sorted(planned.matched.items()):
        lines.append(f"{name}: {count(matched)} new notification(s)")
    for name, why in sorted(planned.held.items()):
        until = planned.held_until.get(name)
        lines.append(f"{name}: held ({f'{HELD} {display.time(until)}' if until else why})")
    for row in due:
        more = f" (+{count(row.more)} summarised)" if row.more else ""
        lines.append(
            f"#{row.id} {row.subscription} {row.kind} via {row.channel}: {row.subject}{more} - "
            f"{_status(row.id, delivered, dry_run)}"
        )
    lines.extend(delivered.breaker.lines())
    if delivered.left:
        left = count(delivered.left)
        lines.append(f"the deadline of {seconds_text(deadline)} s passed: {left} message(s) left for the next run")
    verb = "would be sent" if dry_run else "sent"
    sent = len(due) - len(delivered.failed) if dry_run else len(delivered.sent)
    later = len(delivered.deferred) + delivered.left
    lines.append(
        f"{count(sent)} message(s) {verb}, {count(len(delivered.retrying))} to retry, "
        f"{count(len(delivered.failed))} failed"
        + (f", {count(later)} left for the next run" if later else "")
        + (" (dry run: nothing was stored or sent)" if dry_run else "")
    )
    return "\n".join(lines) + "\n"
