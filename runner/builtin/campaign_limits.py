"""The planned bounds of each running campaign (its `limits`) against what its launches did.

Every completed run of the last jobs window (24 hours by default) is measured: its messages,
smallest and largest accrual, bonus total. A run is every launch of a campaign at one moment (one
launch per element), so a campaign's limits bound the whole run; a run that sent nothing counts
as 0 messages. The five checks share two queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from runner.builtin.activity import running_campaigns
from runner.builtin.declarations import (
    BONUS_ABOVE_MAX,
    BONUS_BELOW_MIN,
    BONUS_TOTAL_ABOVE_MAX,
    MESSAGES_ABOVE_MAX,
    MESSAGES_BELOW_MIN,
)
from runner.builtin.incidents import window
from runner.engine.campaign import Campaign
from runner.engine.check import DataCheck
from runner.engine.evaluation import Evaluation
from runner.engine.levels import Levels
from runner.engine.result import Result, plain


def _per_run(
    ev: Evaluation, rows: sa.FromClause, measures: Callable[[Any], list[Any]], check: str
) -> list[dict[str, Any]]:
    """Completed live runs (not rows) within the window, so that a run is measured whole or not at all.

    A launch row replicated is one launch; a test launch is never held to production limits.
    """
    source = ev.source(None)
    launches = source.dataset("launches")
    campaigns = sorted(running_campaigns(ev))
    runs = (
        sa.select(launches.c.launch_id, launches.c.campaign_id, launches.c.launched_at)
        .distinct()
        .where(
            launches.c.campaign_id.in_(campaigns),
            launches.c.launched_at >= source.local(ev.now - window(ev, "jobs_window")),
            launches.c.status == "completed",  # a running launch is not finished; a refused one sent nothing
            launches.c.mode == "live",
        )
        .subquery("runs")
    )
    return source.rows(
        sa.select(runs.c.campaign_id, runs.c.launched_at, *measures(rows))
        .select_from(runs.outerjoin(rows, runs.c.launch_id == rows.c.launch_id))
        .group_by(runs.c.campaign_id, runs.c.launched_at),
        check,
    )


def _messages(ev: Evaluation, check: str) -> list[dict[str, Any]]:
    messages = ev.source(None).dataset("messages")
    count = sa.func.count(sa.distinct(messages.c.message_id))  # a message row replicated is one message
    return _per_run(ev, messages, lambda rows: [count.label("messages")], check)


def _bonuses(ev: Evaluation, check: str) -> list[dict[str, Any]]:
    accruals = ev.source(None).dataset("bonus_accruals")
    credited = (  # an accrual row replicated is credited once
        sa.select(accruals.c.accrual_id, accruals.c.launch_id, accruals.c.amount).distinct().subquery("credited")
    )
    return _per_run(
        ev,
        credited,
        lambda rows: [
            sa.func.min(rows.c.amount).label("smallest"),
            sa.func.max(rows.c.amount).label("largest"),
            sa.func.sum(rows.c.amount).label("total"),
        ],
        check,
    )


@dataclass(frozen=True)
class Limit:
    """One planned bound: the campaign field, the per-launch figure it bounds, and in which direction."""

    field: str
    figures: Callable[[Evaluation, str], list[dict[str, Any]]]
    column: str
    levels: Callable[[float], Levels]
    what: str


LIMITS = {
    MESSAGES_BELOW_MIN.id: Limit("min_messages", _messages, "messages", Levels.below, "messages"),
    MESSAGES_ABOVE_MAX.id: Limit("max_messages", _messages, "messages", Levels.above, "messages"),
    BONUS_BELOW_MIN.id: Limit("min_bonus", _bonuses, "smallest", Levels.below, "smallest accrual"),
    BONUS_ABOVE_MAX.id: Limit("max_bonus", _bonuses, "largest", Levels.above, "largest accrual"),
    BONUS_TOTAL_ABOVE_MAX.id: Limit("max_bonus_total", _bonuses, "total", Levels.above, "bonus total"),
}


def _judge(ev: Evaluation, check: DataCheck) -> Iterator[Result]:
    """One result per running campaign with the limit set and a measured run in the window: its worst run.

    A run without bonus accruals has no accrual to bound."""
    limit = LIMITS[check.id]
    answer = limit.figures(ev, check.id)
    for campaign_id, campaign in sorted(running_campaigns(ev).items()):
        bound = campaign.data.get("limits", {}).get(limit.field)
        runs = [row for row in answer if row["campaign_id"] == campaign_id and row[limit.column] is not None]
        if bound is None or not runs:
            continue
        campaign_levels = limit.levels(bound)
        worst = max(runs, key=lambda row: _badness(campaign_levels, float(plain(row[limit.column]))))
        observed = plain(worst[limit.column])
        started = str(plain(worst["launched_at"]))[:16].replace("T", " ")
        yield _about(check, campaign, limit.field).result(
            campaign_id,
            campaign_levels.verdict(observed),
            observed=observed,
            expected=campaign_levels.expected,
            cause=f"the run launched {started}: {limit.what} {observed}, the campaign's limit {limit.field} is {bound}",
        )


def _badness(levels: Levels, value: float) -> float:
    assert levels.fail is not None
    return value - levels.fail.value if levels.fail.op in (">", ">=") else levels.fail.value - value


def _about(check: DataCheck, campaign: Campaign, limit: str) -> Any:
    return check.about(
        campaign=campaign.id, owner=campaign.data.get("owner"), location=campaign.location(("limits", limit))
    )


def messages_below_min(ev: Evaluation) -> Iterator[Result]:
    return _judge(ev, MESSAGES_BELOW_MIN)


def messages_above_max(ev: Evaluation) -> Iterator[Result]:
    return _judge(ev, MESSAGES_ABOVE_MAX)


def bonus_below_min(ev: Evaluation) -> Iterator[Result]:
    return _judge(ev, BONUS_BELOW_MIN)


def bonus_above_max(ev: Evaluation) -> Iterator[Result]:
    return _judge(ev, BONUS_ABOVE_MAX)


def bonus_total_above_max(ev: Evaluation) -> Iterator[Result]:
    return _judge(ev, BONUS_TOTAL_ABOVE_MAX)
