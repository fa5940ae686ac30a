"""Risk flags: what a change makes riskier, one function per flag, each saying why in plain words."""

from __future__ import annotations

from runner.review.model import Compared, Risk
from runner.review.risks.campaigns import (
    bonus_raised,
    channel_switched,
    dedup_removed,
    dedup_shortened,
    element_unreleased,
    max_clients_raised,
    schedule_in_past,
    schedule_more_frequent,
)
from runner.review.risks.flags import BY_ID, FLAGS, Flag, RiskFunction
from runner.review.risks.rules import subscription_unreached, threshold_loosened
from runner.review.risks.templates import template_placeholders_changed, template_reopened

__all__ = ["BY_ID", "FLAGS", "RISKS", "Flag", "find_risks"]

RISKS: tuple[RiskFunction, ...] = (
    bonus_raised,
    schedule_in_past,
    dedup_removed,
    subscription_unreached,
    max_clients_raised,
    channel_switched,
    schedule_more_frequent,
    element_unreleased,
    template_reopened,
    template_placeholders_changed,
    dedup_shortened,
    threshold_loosened,
)


def find_risks(c: Compared) -> list[Risk]:
    return sorted({risk for function in RISKS for risk in function(c)})
