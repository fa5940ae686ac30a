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


def _runs(ev: Evaluation) -> sa.Subquery:
    """Completed live launches of running campaigns within the window, each launch id once.

    Runs, not rows, are measured, so that a run is judged whole or not at all; a test launch is
    never held to production limits.
    """
    source = ev.source(None)
    launches = source.dataset("launches")
    return (
        sa.select(launches.c.launch_id, launches.c.campaign_id, launches.c.launched_at)
        .distinct()
        .where(
            launches.c.campaign_id.in_(sorted(running_campaigns(ev))),
            launches.c.launched_at >= source.local(ev.now - window(ev, "jobs_window")),
            launches.c.status == "completed",  # a running launch is not finished; a refused one sent nothing
            launches.c.mode == "live",
        )
        .subquery("runs")
    )


def _messages(ev: Evaluation, check: str) -> list[dict[str, Any]]:
    source = ev.source(None)
    messages = source.dataset("messages")
    runs = _runs(ev)
    return source.rows(
        sa.select(
            runs.c.campaign_id,
            runs.c.launched_at,
            sa.func.count(sa.distinct(messages.c.message_id)).label("messages"),  # a replicated row once
        )
        .select_from(runs.outerjoin(messages, runs.c.launch_id == messages.c.launch_id))
        .group_by(runs.c.campaign_id, runs.c.launched_at),
        check,
    )


def _bonuses(ev: Evaluation, check: str) -> list[dict[str, Any]]:
    """Each accrual once (a replicated row is not a second accrual): grouped by run and accrual id first."""
    source = ev.source(None)
    accruals = source.dataset("bonus_accruals")
    runs = _runs(ev)
    credited = (
        sa.select(runs.c.campaign_id, runs.c.launched_at, accruals.c.accrual_id, accruals.c.amount)
        .select_from(runs.outerjoin(accruals, runs.c.launch_id == accruals.c.launch_id))
        .group_by(runs.c.campaign_id, runs.c.launched_at, accruals.c.accrual_id, accruals.c.amount)
        .subquery("credited")
    )
    return source.rows(
        sa.select(
            credited.c.campaign_id,
            credited.c.launched_at,
            sa.func.min(credited.c.amount).label("smallest"),
            sa.func.max(credited.c.amount).label("largest"),
            sa.func.sum(credited.c.amount).label("total"),
        ).group_by(credited.c.campaign_id, credited.c.launched_at),
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
