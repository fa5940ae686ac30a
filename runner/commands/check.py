"""campaign-guard check CAMPAIGN: the launch gate of one campaign (the SAP "Check" button)."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from runner.display import Display
from runner.engine.evaluation import Evaluation
from runner.engine.execute import execute, exit_code
from runner.engine.plan import find_campaign, gate_tasks
from runner.errors import ExitCode
from runner.formats.results import RESULT_REPORTERS
from runner.repository import Repository
from runner.store.connect import existing_store


def run(
    root: Path,
    campaign_id: str,
    *,
    output_format: str,
    strict: bool,
    now: datetime,
    verbosity: str = "normal",
    tz: str | None = None,
) -> ExitCode:
    display = Display.of(tz)
    repo = Repository(root)
    campaign = find_campaign(repo, campaign_id)
    store = existing_store(root)  # the big red button and the history; reading creates no store
    ev = Evaluation.with_store(repo, now, store) if store is not None else Evaluation(repo, now)
    try:
        results = execute(gate_tasks(campaign), ev)
    finally:
        ev.close()
        if store is not None:
            store.close()
    if output_format == "text":
        sys.stdout.write(f"Launch gate of {campaign.id} ({campaign.document.rel}) as of {display.time(now)}\n")
    sys.stdout.write(RESULT_REPORTERS[output_format](results, verbosity, display))
    return exit_code(results, strict=strict)
