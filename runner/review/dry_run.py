"""`review --dry-run`: the dry-run figures of every added or changed campaign, when its source answers.

A source that cannot be reached (a fork's pull request gets no secrets) is said in the review and
changes nothing else: the review's verdict and exit code come from its risks and findings only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from runner.adapter import SourceError
from runner.dryrun.figures import compute
from runner.dryrun.report import figures_json
from runner.engine.campaign import Campaign
from runner.engine.evaluation import Evaluation
from runner.errors import UsageError
from runner.review.model import Review


@dataclass(frozen=True)
class CampaignDryRun:
    campaign: str
    file: str
    day: str
    figures: dict[str, Any] | None  # figures_json of runner.dryrun.report
    error: str | None = None


def dry_runs(review: Review, now: datetime) -> list[CampaignDryRun]:
    repo = review.head.repo
    if repo is None:
        return []
    ev = Evaluation(repo, now)
    try:
        return list(_each(review, ev))
    finally:
        ev.close()


def _each(review: Review, ev: Evaluation) -> Iterator[CampaignDryRun]:
    for change in review.changes:
        if change.kind != "campaign" or change.after is None or not change.after.document.schema_valid:
            continue
        campaign = Campaign(change.after.document)
        day = campaign.today(ev.now).isoformat()
        try:
            yield CampaignDryRun(campaign.id, change.file, day, figures_json(compute(ev, campaign)))
        except (SourceError, UsageError) as error:
            yield CampaignDryRun(campaign.id, change.file, day, None, f"no dry run: {error}")


def markdown(runs: list[CampaignDryRun]) -> list[str]:
    """A folded section per campaign: elements, messages per channel, bonus total."""
    if not runs:
        return []
    lines = ["### Dry run", ""]
    for run in runs:
        if run.figures is None:
            lines += [f"- `{run.campaign}`: {run.error}", ""]
            continue
        figures = run.figures
        lines += [
            f"<details><summary>dry run of <b>{run.campaign}</b> for {run.day}: "
            f"{_n(figures['bonus']['total'])} bonus points, "
            f"{_n(sum(c['messages'] for c in figures['channels'].values()))} messages</summary>",
            "",
            "| element | type | channel | audience | excluded | final |",
            "|---|---|---|---:|---:|---:|",
            *(
                f"| {e['element']} | {e['type']} | {e['channel'] or '-'} | {_n(e['audience'])} | {_n(e['excluded'])} "
                f"| {_n(e['final'])} |"
                for e in figures["elements"]
            ),
            "",
            "Messages per channel: "
            + (", ".join(f"{name} {_n(c['messages'])}" for name, c in figures["channels"].items()) or "none"),
            "",
            "</details>",
            "",
        ]
    return lines


def _n(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}"
