"""system.notify_failed: one verdict per subscription that had messages in this notify pass.

A subscription fails when a message of it could not be rendered (its template) or was refused for
good (its channel or a recipient); it passes when its messages were rendered and sent. A message
still being retried says nothing yet. The verdicts are recorded as a run of their own, so a
failure opens a `system` problem (which subscriptions may notify of) and the next good pass
resolves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from runner.builtin.system import NOTIFY_FAILED
from runner.engine.result import Result, Status
from runner.notify.delivery import Delivered
from runner.notify.rendering import Outcome
from runner.store.connect import Store
from runner.store.record import record
from runner.store.runs import finish_run, start_run


def notify_health(outcome: Outcome, delivered: Delivered, due: Sequence[Any]) -> list[Result]:
    """A failed verdict for each subscription with a failed message, passed for each whose messages went out."""
    of = {row.id: row.subscription for row in due} | outcome.rendered
    failed: dict[str, str] = {}
    for name, error in (outcome.failed[message_id] for message_id in sorted(outcome.failed)):
        failed.setdefault(name, f"a message could not be rendered: {error}")  # the error names the subscription
    for message_id, error in sorted(delivered.failed.items()):
        if message_id in of and message_id not in outcome.failed:
            name = of[message_id]
            failed.setdefault(name, f"subscription {name!r}: message #{message_id} was refused for good: {error}")
    fine = {of[message_id] for message_id in delivered.sent if message_id in of} - set(failed)
    verdicts = [
        NOTIFY_FAILED.result(
            name,
            Status.FAIL,
            observed="failed",
            expected="its messages rendered and delivered",
            cause=cause,
        )
        for name, cause in sorted(failed.items())
    ]
    verdicts += [NOTIFY_FAILED.result(name, Status.PASS, observed="delivered") for name in sorted(fine)]
    return verdicts


def record_health(store: Store, now: datetime, outcome: Outcome, delivered: Delivered, due: Sequence[Any]) -> None:
    verdicts = notify_health(outcome, delivered, due)
    if not verdicts:
        return
    run_id = start_run(store, "notify", "", now)
    record(store, run_id, verdicts, now)
    finish_run(store, run_id, results=len(verdicts), errors=0)
