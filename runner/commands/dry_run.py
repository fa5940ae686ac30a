"""campaign-guard dry-run CAMPAIGN: today's launch figures and the launch gate, launching nothing.

The SAP "test contour": audience per element, messages per channel, bonus total and per client,
who the launch would skip and why, then the same launch-gate checks `check` runs. Nothing is
written unless --record keeps the figures as a test launch in the state store.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from runner.adapter import SourceError
from runner.display import Display
from runner.dryrun.figures import Figures, compute
from runner.dryrun.record import record as record_launch
from runner.dryrun.report import REPORTERS, DryRun, recorded
from runner.engine.evaluation import Evaluation
from runner.engine.execute import execute, exit_code
from runner.engine.plan import find_campaign, gate_tasks
from runner.errors import ExitCode
from runner.repository import Repository
from runner.store.connect import existing_store, open_store


def run(
    root: Path,
    campaign_id: str,
    *,
    output_format: str,
    strict: bool,
    record: bool,
    now: datetime,
    verbosity: str = "normal",
    tz: str | None = None,
) -> ExitCode:
    display = Display.of(tz)
    repo = Repository(root)
    campaign = find_campaign(repo, campaign_id)
    store = open_store(root) if record else existing_store(root)  # only --record writes (and may create it)
    try:
        ev = Evaluation.with_store(repo, now, store) if store is not None else Evaluation(repo, now)
        figures: Figures | None = None
        error: str | None = None
        try:
            try:
                figures = compute(ev, campaign)
            except SourceError as failure:
                error = str(failure)
            gate = execute(gate_tasks(campaign), ev)
        finally:
            ev.close()
        code = ExitCode.SOURCE_ERROR if figures is None else exit_code(gate, strict=strict)
        dry_run = DryRun(campaign, now, figures, error, gate, int(code))
        if store is not None and record and figures is not None:
            dry_run = replace(dry_run, test_launch=record_launch(store, campaign.id, now, recorded(dry_run)))
    finally:
        if store is not None:
            store.close()
    sys.stdout.write(REPORTERS[output_format](dry_run, verbosity, display))
    if record and figures is None:
        print("campaign-guard: not recorded: the figures could not be computed", file=sys.stderr)
    return code
