"""A dry run for people (tables a marketer reads) and for programs (JSON, see docs/dry-run.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from runner.display import Display
from runner.dryrun.exclusions import LABELS, REASONS, Tally
from runner.dryrun.figures import Distribution, ElementFigures, Figures
from runner.engine.campaign import Campaign
from runner.engine.result import Result, plain
from runner.formats.results import text as results_text


@dataclass(frozen=True)
class DryRun:
    """What one dry run found: the figures (None when the source failed) and the gate's verdicts."""

    campaign: Campaign
    now: datetime
    figures: Figures | None
    error: str | None
    gate: Sequence[Result]
    exit_code: int
    test_launch: str | None = None


# -- JSON ------------------------------------------------------------------------------------


def figures_json(figures: Figures) -> dict[str, Any]:
    """The figures as JSON holds them: what --format json shows and --record stores."""
    return {
        "source": figures.source,
        "customer_type": figures.customer_type,
        "dedup_window": figures.dedup_window,
        "elements": [_element_json(element) for element in figures.elements],
        "channels": figures.channels(),
        "bonus": {
            "total": figures.bonus_total,
            "elements": [
                {"element": e.id, "amount": e.amount, "customers": e.tally.final, "total": e.bonus_total}
                for e in figures.elements
                if e.type == "bonus"
            ],
            **_distribution_json(figures.planned),
            "credited_today": {"total": plain(figures.credited.total), **_distribution_json(figures.credited)},
        },
        "exclusions": figures.overall.to_json(),
        "notes": list(figures.notes),
    }


def _element_json(element: ElementFigures) -> dict[str, Any]:
    return {
        "element": element.id,
        "type": element.type,
        "channel": element.channel,
        "template": element.template,
        "amount": element.amount,
        "max_clients": element.max_clients,
        **element.tally.to_json(),
        "bonus_total": element.bonus_total if element.type == "bonus" else None,
        "required_attributes": list(element.required_attributes),
        "messages_today": element.messages_today,
        "empty_messages": element.empty_messages,
        "empty_customers": element.empty_customers,
    }


def _distribution_json(distribution: Distribution) -> dict[str, Any]:
    return {
        "customers": distribution.customers,
        "per_client": [{"amount": plain(amount), "customers": n} for amount, n in distribution.buckets],
        "other_customers": distribution.other_customers,
    }


def document(run: DryRun) -> dict[str, Any]:
    figures = run.figures
    return {
        "campaign": run.campaign.id,
        "file": run.campaign.document.rel,
        "evaluated_at": run.now.isoformat(),
        "day": run.campaign.today(run.now).isoformat(),
        "timezone": str(run.campaign.zone),
        "figures": figures_json(figures) if figures is not None else None,
        "error": run.error,
        "gate": [result.to_json() for result in run.gate],
        "exit_code": run.exit_code,
        "test_launch": run.test_launch,
    }


def recorded(run: DryRun) -> dict[str, Any]:
    """What a test launch keeps: the figures, the day, and each gate verdict in short."""
    assert run.figures is not None
    return {
        "file": run.campaign.document.rel,
        "day": run.campaign.today(run.now).isoformat(),
        "timezone": str(run.campaign.zone),
        **figures_json(run.figures),
        "gate": [
            {
                "check": r.check,
                "subject": r.subject,
                "severity": r.severity.value,
                "status": r.status.value,
                "observed": plain(r.observed),
            }
            for r in run.gate
        ],
    }


def json_report(run: DryRun, verbosity: str = "normal", display: Display | None = None) -> str:
    return json.dumps(document(run), ensure_ascii=False, indent=2) + "\n"


# -- text ------------------------------------------------------------------------------------


def text_report(run: DryRun, verbosity: str = "normal", display: Display | None = None) -> str:
    """The figures, then the launch gate as `check` prints it (failures and a summary; -v every verdict)."""
    campaign, figures = run.campaign, run.figures
    display = display or Display()
    lines = [
        f"Dry run of {campaign.id} ({campaign.document.rel}) for {campaign.today(run.now).isoformat()}",
        f"as of {display.time(run.now)} (campaign zone {campaign.zone}); nothing is launched"
        + ("" if run.test_launch else " and nothing is written"),
        "",
    ]
    if figures is None:
        lines += [f"Figures: could not be computed: {run.error}", ""]
    else:
        lines += _elements(figures, display)
        lines += _channels(figures, display)
        lines += _bonus(figures)
        lines += _exclusions(figures, display)
        if figures.notes:
            lines += ["Notes", *(f"  - {note}" for note in figures.notes), ""]
    lines.append("Launch gate")
    text = "\n".join(lines) + "\n" + results_text(run.gate, verbosity, display)
    if run.test_launch:
        text += f"Recorded as test launch {run.test_launch}\n"
    return text


def _n(value: Decimal | int | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int], free: Sequence[int], display: Display
) -> list[str]:
    """A table two spaces in, its ``free`` (text) columns cut to fit the terminal."""
    return display.table(headers, rows, free=free, right=sorted(right), indent=2)


def _elements(figures: Figures, display: Display) -> list[str]:
    if not figures.elements:
        return ["Elements: no send or bonus elements", ""]
    rows = [
        [
            e.id,
            e.type,
            e.channel or "-",
            _n(e.max_clients),
            _n(e.tally.audience),
            _n(e.tally.excluded),
            _n(e.tally.final),
            _n(e.messages_today),
        ]
        for e in figures.elements
    ]
    headers = ["ELEMENT", "TYPE", "CHANNEL", "MAX CLIENTS", "AUDIENCE", "EXCLUDED", "FINAL", "MESSAGES TODAY"]
    return ["Elements (today's target groups)", *_table(headers, rows, {3, 4, 5, 6, 7}, (0,), display), ""]


def _channels(figures: Figures, display: Display) -> list[str]:
    channels = figures.channels()
    if not channels:
        return ["Messages per channel: no send elements", ""]
    rows = [
        [name, _n(c["messages"]), _n(c["audience"]), _n(c["excluded"]), ", ".join(c["elements"])]
        for name, c in channels.items()
    ]
    return [
        "Messages per channel",
        *_table(["CHANNEL", "MESSAGES", "AUDIENCE", "EXCLUDED", "ELEMENTS"], rows, {1, 2, 3}, (4,), display),
        "",
    ]


def _bonus(figures: Figures) -> list[str]:
    bonuses = [e for e in figures.elements if e.type == "bonus"]
    lines = ["Bonus"]
    if not bonuses:
        lines.append("  no bonus elements")
    for e in bonuses:
        lines.append(f"  {e.id}: {_n(e.amount)} points x {_n(e.tally.final)} customers = {_n(e.bonus_total)}")
    if bonuses:
        lines.append(f"  total: {_n(figures.bonus_total)} points")
        lines.append(f"  per client: {_buckets(figures.planned)}")
    credited = figures.credited
    if credited.customers:
        lines.append(
            f"  already credited today (bonus_accruals): {_n(credited.total)} points to "
            f"{_n(credited.customers)} customers; per client: {_buckets(credited)}"
        )
    return [*lines, ""]


def _buckets(distribution: Distribution) -> str:
    if not distribution.customers:
        return "nobody"
    parts = []
    for index, (amount, n) in enumerate(distribution.buckets):
        who = f"{_n(n)} customer{'' if n == 1 else 's'}" if index == 0 else _n(n)
        parts.append(f"{who} {'gets' if n == 1 else 'get'} {_n(amount)}")
    if distribution.other_customers:
        parts.append(f"{_n(distribution.other_customers)} get other amounts")
    return "; ".join(parts)


def _exclusions(figures: Figures, display: Display) -> list[str]:
    overall = figures.overall
    explain = {
        "type_mismatch": f"customer_type is not {figures.customer_type!r}",
        "dedup": f"reached by this campaign within {figures.dedup_window}"
        if figures.dedup_window
        else "no dedup_window: not judged",
        "empty_attributes": "a message prepared today has a required attribute empty or 0",
    }
    rows = []
    for reason in REASONS:
        per_element = ", ".join(
            f"{e.id} {_n(e.tally.reasons[reason])}" for e in figures.elements if e.tally.reasons[reason]
        )
        rows.append([LABELS[reason], _n(overall.reasons[reason]), explain[reason], per_element])
    lines = [
        "Exclusions by reason (customers of today's target groups; each customer once)",
        *_table(["REASON", "CUSTOMERS", "WHY", "ELEMENTS"], rows, {1}, (2, 3), display),
        f"  overlapping reasons: {_overlaps(overall)}",
        f"  excluded: {_n(overall.excluded)} of {_n(overall.audience)} customers; {_n(overall.final)} remain",
        "",
    ]
    return lines


def _overlaps(tally: Tally) -> str:
    if not tally.overlaps:
        return "none"
    return ", ".join(f"{' and '.join(LABELS[r] for r in key.split('+'))}: {_n(n)}" for key, n in tally.overlaps.items())


class Reporter(Protocol):
    def __call__(self, run: DryRun, verbosity: str = "normal", display: Display | None = None) -> str: ...


REPORTERS: Mapping[str, Reporter] = {"text": text_report, "json": json_report}
