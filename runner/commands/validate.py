"""campaign-guard validate: the pre-commit and CI gate over configuration files."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from runner.errors import ExitCode
from runner.reporters import REPORTERS
from runner.repository import Repository
from runner.validation import SCHEMA_DIRECTORY, exit_code, schema_findings, select, validate


def run(root: Path, paths: Sequence[str], *, output_format: str, strict: bool, now: datetime) -> ExitCode:
    repo = Repository(root)
    targets, findings = select(repo, paths)
    if not paths or any(Path(p).resolve().is_relative_to((root / SCHEMA_DIRECTORY).resolve()) for p in paths):
        findings += schema_findings(repo)
    findings += validate(repo, targets, now)
    findings.sort()
    sys.stdout.write(REPORTERS[output_format](findings))
    return exit_code(findings, strict=strict)
