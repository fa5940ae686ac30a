"""campaign-guard review: what a change to the configuration does and what became riskier, before it is merged."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from runner.errors import ExitCode
from runner.review.build import build_review
from runner.review.render import RENDERERS
from runner.validation import exit_code


def run(
    root: Path, base: str, head: str | None, *, output_format: str, strict: bool, now: datetime, jobs: int
) -> ExitCode:
    review = build_review(root, base, head, now, jobs=jobs)
    code = exit_code([*review.findings, *(risk.as_finding() for risk in review.risks)], strict=strict)
    sys.stdout.write(RENDERERS[output_format](review, int(code)))
    return code
