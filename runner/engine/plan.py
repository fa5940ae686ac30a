"""Which checks an evaluation runs: the launch gate of a campaign, or a whole monitoring run."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from functools import partial

from runner.builtin.declarations import GATE_CHECKS, MONITOR_CHECKS
from runner.configured import configured_checks
from runner.engine.campaign import Campaign
from runner.engine.check import About
from runner.engine.evaluation import Evaluation
from runner.engine.result import Result
from runner.errors import UsageError
from runner.repository import Repository
from runner.schedule_fields import broken_entries, skipped_entries


@dataclass(frozen=True)
class Task:
    """One check to evaluate; `about` and `subject` describe it when its source fails."""

    check: str
    about: About
    subject: str
    evaluate: Callable[[Evaluation], Iterable[Result]]
    campaign: str | None = None  # a launch-gate task looks at this campaign only


def find_campaign(repo: Repository, campaign_id: str) -> Campaign:
    places = repo.definitions("campaign").get(campaign_id)
    if not places:
        known = ", ".join(sorted(repo.definitions("campaign"))) or "none"
        raise UsageError(f"no campaign {campaign_id!r} in campaigns/; known: {known}")
    document = repo.find("campaign", campaign_id)
    if document is None:
        raise UsageError(
            f"{places[0][0]}: campaign {campaign_id!r} is not valid; run `campaign-guard validate {places[0][0]}`"
        )
    broken = skipped_entries([document])
    if broken:
        raise UsageError(broken[0])
    return Campaign(document)


def gate_tasks(campaign: Campaign) -> list[Task]:
    tasks = []
    for check in GATE_CHECKS:
        about = check.about(campaign=campaign.id, owner=campaign.data.get("owner"), location=campaign.location())
        evaluate = partial(_on_campaign, check.function, campaign=campaign)
        tasks.append(Task(check.id, about, campaign.id, evaluate, campaign=campaign.id))
    return tasks


def _on_campaign(function: Callable[..., Iterable[Result]], ev: Evaluation, *, campaign: Campaign) -> Iterable[Result]:
    return function(ev, campaign)


def monitor_tasks(repo: Repository) -> list[Task]:
    tasks = []
    for check in MONITOR_CHECKS:
        tasks.append(Task(check.id, check.about(), check.id, check.function))
    documents = (d for kind in ("functional_checks", "data_checks") for d in repo.documents(kind))
    for configured in configured_checks(documents):
        tasks.append(Task(configured.id, configured.about, configured.subject, configured.evaluate))
    return tasks


def due_campaigns(repo: Repository, now: datetime) -> list[Campaign]:
    usable = (d for d in repo.documents("campaign") if d.schema_valid and not broken_entries("campaign", d.data))
    campaigns = (Campaign(d) for d in usable)  # the others are reported by skipped_entries
    return [campaign for campaign in campaigns if campaign.due(now)]


def run_tasks(repo: Repository, now: datetime, patterns: Sequence[str] = ()) -> list[Task]:
    """Monitoring and the launch gates of campaigns due today; patterns (globs) select checks."""
    tasks = monitor_tasks(repo)
    for campaign in due_campaigns(repo, now):
        tasks.extend(gate_tasks(campaign))
    if not patterns:
        return tasks
    known = {task.check for task in tasks} | {check.id for check in GATE_CHECKS}
    for pattern in patterns:
        if not any(fnmatchcase(check, pattern) for check in known):
            raise UsageError(f"--check {pattern!r} matches no check; known: {', '.join(sorted(known))}")
    return [task for task in tasks if any(fnmatchcase(task.check, pattern) for pattern in patterns)]
