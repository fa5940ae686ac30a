"""Static checks: everything validate can find without data. The list is explicit on purpose."""

from __future__ import annotations

from runner.static import (
    campaign,
    graph,
    mapping,
    queries,
    references,
    schedule_check,
    security,
    template_refs,
    texts,
)
from runner.static.check import Check

CHECKS: tuple[Check, ...] = (
    *graph.CHECKS,
    *template_refs.CHECKS,
    *texts.CHECKS,
    *campaign.CHECKS,
    *schedule_check.CHECKS,
    *references.CHECKS,
    *mapping.CHECKS,
    *security.CHECKS,
    *queries.CHECKS,
)


def checks_for(kind_name: str) -> list[Check]:
    return [check for check in CHECKS if kind_name in check.kinds]
