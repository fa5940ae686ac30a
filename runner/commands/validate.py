"""campaign-guard validate: the pre-commit and CI gate over configuration files."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from runner.errors import ExitCode
from runner.formats import render
from runner.meta_schema import schema_findings
from runner.repository import Repository
from runner.validation import exit_code, select, validate


def run(root: Path, paths: Sequence[str], *, output_format: str, strict: bool, now: datetime, jobs: int) -> ExitCode:
    repo = Repository(root)
    targets, skipped = select(repo, paths)
    # a broken schema cannot judge any file: report it alone
    findings = schema_findings(repo) or sorted(skipped + validate(repo, targets, now, jobs=jobs))
    sys.stdout.write(render(output_format, findings, repo.root))
    return exit_code(findings, strict=strict)
