"""campaign-guard test: the rule unit tests of rules/tests/*.yaml (like `promtool test rules`)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from runner.errors import ExitCode
from runner.repository import Repository
from runner.ruletests.compare import Outcome, Verdict
from runner.ruletests.evaluate import evaluate
from runner.ruletests.load import load_tests
from runner.ruletests.report import json_report, summary, text_line


def run(root: Path, patterns: Sequence[str], *, output_format: str) -> ExitCode:
    repo = Repository(root)
    tests, errors = load_tests(repo, patterns)
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        mistakes = f"{len(errors)} mistake{'s' if len(errors) != 1 else ''}"
        print(f"campaign-guard: {mistakes} in the rule tests; no test was run", file=sys.stderr)
        return ExitCode.CONFIG_ERROR
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="campaign-guard-test-") as directory:
        for test in tests:
            outcomes.append(evaluate(repo, test, Path(directory)))
            if output_format == "text":
                sys.stdout.write(text_line(outcomes[-1]))
                sys.stdout.flush()
    sys.stdout.write(summary(outcomes) if output_format == "text" else json_report(outcomes))
    passed = all(outcome.verdict is Verdict.PASS for outcome in outcomes)
    return ExitCode.OK if passed else ExitCode.PROBLEMS
