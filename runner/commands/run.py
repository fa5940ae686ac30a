"""campaign-guard run: monitoring and the launch gates of the campaigns due today."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from runner.engine.evaluation import Evaluation
from runner.engine.execute import execute, exit_code
from runner.engine.plan import run_tasks
from runner.errors import ExitCode
from runner.reporters.results import RESULT_REPORTERS
from runner.repository import Repository


def run(root: Path, checks: Sequence[str], *, output_format: str, strict: bool, now: datetime) -> ExitCode:
    repo = Repository(root)
    tasks = run_tasks(repo, now, checks)
    ev = Evaluation(repo, now)
    try:
        results = execute(tasks, ev)
    finally:
        ev.close()
    sys.stdout.write(RESULT_REPORTERS[output_format](results))
    return exit_code(results, strict=strict)
