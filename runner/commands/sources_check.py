"""campaign-guard sources check [SOURCE]: is the mapping of rules/sources.yaml sound against the source?"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

from runner.errors import ExitCode, UsageError
from runner.index_advice import SQLITE_NO_ADVICE
from runner.mapping_report import ADVICE, ERROR, WARNING, SourceReport, check_sources, plural
from runner.repository import Repository
from runner.sources import SOURCES_FILE, load_sources


def run(root: Path, source: str | None, *, output_format: str, now: datetime) -> ExitCode:
    repo = Repository(root)
    sources = load_sources(repo)
    if source is not None and source not in sources.by_name:
        known = ", ".join(sources.by_name)
        raise UsageError(f"{SOURCES_FILE}: no source named {source!r}; known: {known}")
    names = [source] if source is not None else list(sources.by_name)
    progress = _progress if sys.stderr.isatty() else None
    reports = check_sources(repo, sources, names, now, progress)
    for report in reports:
        if report.failure is not None:
            print(f"campaign-guard: {report.failure}", file=sys.stderr)
    if output_format == "json":
        findings = [finding.as_json() for report in reports for finding in report.findings]
        sys.stdout.write(json.dumps(findings, indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(text(reports))
    return exit_code(reports)


def text(reports: list[SourceReport]) -> str:
    lines = []
    said_sqlite = False
    for report in reports:
        if report.failure is not None:
            continue
        for finding in report.findings:
            lines.append(
                f"{finding.location}: {finding.severity:<7} {finding.source}.{finding.dataset}: {finding.message}"
            )
        if report.dialect == "sqlite" and not said_sqlite:
            lines.append(SQLITE_NO_ADVICE)
            said_sqlite = True
        checked = f"{plural(report.datasets, 'dataset')}, {plural(report.tables, 'table')} checked"
        found = f"{plural(report.count(ERROR), 'error')}, {plural(report.count(WARNING), 'warning')}"
        lines.append(f"{report.source}: {checked}: {found}, {report.count(ADVICE)} advice")
    return "".join(f"{line}\n" for line in lines)


def exit_code(reports: list[SourceReport]) -> ExitCode:
    """3 a source that cannot work as configured, 4 one not reached, 1 errors or warnings, else 0."""
    failures = [report for report in reports if report.failure is not None]
    if any(not report.unreachable for report in failures):
        return ExitCode.CONFIG_ERROR
    if failures:
        return ExitCode.SOURCE_ERROR
    if any(report.count(ERROR) or report.count(WARNING) for report in reports):
        return ExitCode.PROBLEMS
    return ExitCode.OK


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
