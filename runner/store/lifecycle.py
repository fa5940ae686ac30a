"""How one check result changes its problem (SPEC section 4), as a pure function of both.

open on fail - update on every further fail - resolve on pass - reopen on a later fail (a
regression) - escalate a warning that keeps failing. Acknowledged and muted problems keep
counting occurrences; a mute that has run out ends at the next failure. A result evaluated no
later than the problem's last evaluation changes nothing: late or replayed runs never reopen
what a newer evaluation resolved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from runner.engine.result import Result, Status, plain
from runner.findings import Severity

FAILING = (Status.WARN, Status.FAIL)
UNRESOLVED = ("open", "acknowledged", "muted")


def fingerprint(check: str, subject: str) -> str:
    """Stable identity of a problem: the check and what it was about."""
    return hashlib.sha1(f"{check}\x1f{subject}".encode()).hexdigest()[:16]


@dataclass
class Change:
    """Columns to write (all of them for a new problem) and the events the change makes."""

    values: dict[str, Any]
    events: list[tuple[str, str | None]] = field(default_factory=list)  # (kind, note)


def on_result(problem: Mapping[str, Any] | None, result: Result, at: datetime, escalate_after: int) -> Change | None:
    """The change `result`, evaluated at `at` (naive UTC), makes to `problem`; None: no change."""
    if result.status is Status.ERROR:
        return None  # the check could not look: it says nothing about the problem
    if problem is not None and at <= problem["last_evaluated_at"]:
        return None  # stale: a newer evaluation already spoke
    if result.status is Status.PASS:
        return _on_pass(problem, at)
    if problem is None:
        return _opened(result, at)
    return _on_failure(problem, result, at, escalate_after)


def _on_pass(problem: Mapping[str, Any] | None, at: datetime) -> Change | None:
    if problem is None:
        return None
    if problem["status"] == "resolved":
        return Change({"last_evaluated_at": at})
    values = {"status": "resolved", "resolved_at": at, "last_evaluated_at": at, "streak": 0}
    return Change(values, [("resolved", None)])


def _details(result: Result) -> dict[str, Any]:
    return {
        "title": result.title,
        "cause": result.cause,
        "hint": result.hint,
        "localization": result.localization,
        "campaign": result.campaign,
        "owner": result.owner,
        "location": result.location,
        "source": result.source,
        "observed": json.dumps(plain(result.observed), ensure_ascii=False),
        "expected": result.expected,
        "samples": json.dumps([{k: plain(v) for k, v in row.items()} for row in result.samples], ensure_ascii=False),
    }


def _opened(result: Result, at: datetime) -> Change:
    values = {
        "fingerprint": fingerprint(result.check, result.subject),
        "check_id": result.check,
        "subject": result.subject,
        "severity": result.severity.value,
        "status": "open",
        "first_seen": at,
        "last_seen": at,
        "last_evaluated_at": at,
        "resolved_at": None,
        "occurrences": 1,
        "regressions": 0,
        "streak": 1,
        "escalated": False,
        "acknowledged_by": None,
        "muted_until": None,
        **_details(result),
    }
    return Change(values, [("opened", None)])


def _on_failure(problem: Mapping[str, Any], result: Result, at: datetime, escalate_after: int) -> Change:
    values: dict[str, Any] = {
        **_details(result),
        "last_seen": at,
        "last_evaluated_at": at,
        "occurrences": problem["occurrences"] + 1,
    }
    events: list[tuple[str, str | None]] = []
    if problem["status"] == "resolved":
        values.update(
            status="open", resolved_at=None, streak=1, escalated=False, acknowledged_by=None, muted_until=None
        )
        values["regressions"] = problem["regressions"] + 1
        events.append(("reopened", None))
        escalated = False
        previous = result.severity.value
    else:
        values["streak"] = problem["streak"] + 1
        escalated = bool(problem["escalated"])
        previous = problem["severity"]
        if problem["status"] == "muted" and problem["muted_until"] is not None and problem["muted_until"] <= at:
            values.update(status="open", muted_until=None)
            events.append(("unmuted", "the mute ran out"))
    streak = values["streak"]
    by_streak = result.severity is Severity.WARNING and bool(escalate_after) and streak >= escalate_after
    severity = (
        Severity.PROBLEM.value
        if result.severity is Severity.PROBLEM or escalated or by_streak
        else Severity.WARNING.value
    )
    if severity == Severity.PROBLEM.value and previous == Severity.WARNING.value:
        why = f"a warning {streak} runs in a row" if by_streak and not escalated else "the fail level was crossed"
        events.append(("escalated", why))
    values.update(severity=severity, escalated=escalated or by_streak)
    return Change(values, events)
