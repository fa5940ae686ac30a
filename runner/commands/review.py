"""campaign-guard review: what a change to the configuration does and what became riskier, before it is merged."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from runner.errors import ExitCode
from runner.masking import mask
from runner.review.build import build_review
from runner.review.render import RENDERERS
from runner.validation import exit_code

if TYPE_CHECKING:
    from runner.review.dry_run import CampaignDryRun


def run(
    root: Path,
    base: str,
    head: str | None,
    *,
    output_format: str,
    strict: bool,
    now: datetime,
    jobs: int,
    dry_run: bool = False,
) -> ExitCode:
    review = build_review(root, base, head, now, jobs=jobs)
    code = exit_code([*review.findings, *(risk.as_finding() for risk in review.risks)], strict=strict)
    text = RENDERERS[output_format](review, int(code))
    if dry_run:
        from runner.review.dry_run import dry_runs  # SQLAlchemy and the sources only when asked

        text = _with_dry_runs(text, output_format, dry_runs(review, now))
    sys.stdout.write(mask(text))  # field values before and after are shown as written: never a secret
    return code


def _with_dry_runs(text: str, output_format: str, runs: list[CampaignDryRun]) -> str:
    """The figures join the review: a section before the footer, a "dry_run" list in JSON."""
    from runner.review.dry_run import markdown as dry_run_markdown

    if output_format == "json":
        document = json.loads(text)
        document["dry_run"] = [
            {"campaign": r.campaign, "file": r.file, "day": r.day, "figures": r.figures, "error": r.error} for r in runs
        ]
        return json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n"
    if output_format == "markdown":
        body, footer = text.rstrip("\n").rsplit("\n", 1)
        return "\n".join([body, *dry_run_markdown(runs), footer]) + "\n"
    return text  # annotations have no place for figures
