"""campaign-guard route: which subscriptions a problem reaches, when and why (like amtool config routes test)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from runner.commands.problems import holding
from runner.errors import ExitCode
from runner.notify.matching import CampaignFacts, campaign_facts, refusal, waiting
from runner.notify.subscriptions import Subscription, load_subscriptions
from runner.notify.timing import held_until, next_digest
from runner.repository import Repository
from runner.schedule_fields import skipped_entries
from runner.store.problems import find_problem


def described(args: Any, now: datetime) -> dict[str, Any]:
    """A problem that does not exist yet, from --check, --severity, --localization, ..."""
    return {
        "check": args.check,
        "subject": args.subject or args.campaign or args.check,
        "severity": args.severity,
        "localization": args.localization,
        "campaign": args.campaign,
        "owner": args.owner,
        "occurrences": args.occurrences,
        "first_seen": now,
        "status": "open",
    }


def stored(root: Path, fingerprint: str) -> dict[str, Any]:
    store = holding(root, fingerprint)
    try:
        problem = find_problem(store, fingerprint)
    finally:
        store.close()
    return {**problem, "first_seen": datetime.fromisoformat(problem["first_seen"])}


def routes(
    subscriptions: list[Subscription], problem: dict[str, Any], facts: dict[str, CampaignFacts], now: datetime
) -> list[dict[str, Any]]:
    answers = []
    by_name = {sub.name: sub for sub in subscriptions}
    for sub in subscriptions:
        reason = refusal(sub, problem, facts)
        if reason is not None:
            answers.append({**_about(sub), "reaches": False, "why": reason})
            continue
        reason = waiting(sub, problem, now)
        answers.append(
            {
                **_about(sub),
                "reaches": reason is None,
                "why": reason or "every filter holds",
                "channel": sub.channel,
                "recipients": list(sub.recipients),
                "events": list(sub.events),
                "when": _when(sub, now, by_name),
            }
        )
    return answers


def _about(sub: Subscription) -> dict[str, Any]:
    """Which subscription an answer is about: its name, what it is for, who owns it, where it is defined."""
    return {
        "subscription": sub.name,
        "description": sub.description,
        "owner": sub.owner,
        "location": sub.location,
    }


def _when(sub: Subscription, now: datetime, by_name: dict[str, Subscription]) -> list[str]:
    lines = []
    if sub.mode == "digest":
        assert sub.digest_schedule is not None
        lines.append(f"in the next digest at {next_digest(sub, now):%Y-%m-%d %H:%M %Z} ({sub.digest_schedule})")
    else:
        held = held_until(sub, now, immediate=True)
        start = f"held until {held:%Y-%m-%d %H:%M %Z} (quiet hours / working days)" if held else "now"
        wait = f", after group_wait {sub.group_wait} grouped by {', '.join(sub.group_by)}" if sub.group_wait else ""
        lines.append(f"immediately: {start}{wait}")
    if sub.rate_limit:
        lines.append(f"at most {sub.rate_limit} messages an hour, the rest merged into the next")
    if sub.repeat_interval and "reminder" in sub.events:
        lines.append(f"reminded every {sub.repeat_interval} while open and unacknowledged")
    if sub.escalate_after and sub.escalate_to:
        target = by_name.get(sub.escalate_to)
        via = f" ({target.channel})" if target else " (unknown subscription)"
        lines.append(f"escalated to {sub.escalate_to}{via} if unacknowledged {sub.escalate_after} after it opened")
    return lines


def run(root: Path, args: Any, now: datetime) -> ExitCode:
    repo = Repository(root)
    problem = stored(root, args.fingerprint) if args.fingerprint else described(args, now)
    answers = routes(load_subscriptions(repo), problem, campaign_facts(repo), now)
    for line in skipped_entries(repo.documents("subscriptions")):  # notify skips them too: they reach nobody
        print(f"campaign-guard: {line}", file=sys.stderr)
    if args.output_format == "json":
        sys.stdout.write(json.dumps(answers, ensure_ascii=False, indent=2) + "\n")
        return ExitCode.OK
    reached = [a for a in answers if a["reaches"]]
    lines = [f"{problem['check']} {problem['subject']} ({problem['severity']}, {problem['localization']}): "
             f"reaches {len(reached)} of {len(answers)} subscriptions"]  # fmt: skip
    for answer in answers:
        mark = "YES" if answer["reaches"] else ("LATER" if "channel" in answer else "no")
        owner = f", owner {answer['owner']}" if answer["owner"] else ""
        lines.append(f"{mark:<6}{answer['subscription']}  ({answer['location']}{owner})")
        if answer["description"]:
            lines.append(f"      {answer['description']}")
        if "channel" in answer:
            lines.append(
                f"      via {answer['channel']} to {', '.join(answer['recipients'])} on {', '.join(answer['events'])}"
            )
            lines += [f"      {when}" for when in answer["when"]]
        if not answer["reaches"]:
            lines.append(f"      {answer['why']}")
    sys.stdout.write("\n".join(lines) + "\n")
    return ExitCode.OK
