"""load -> schema -> static checks -> findings, for some files against the whole repository."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from runner.document import Document
from runner.errors import ExitCode, UsageError
from runner.findings import Finding, Severity
from runner.kinds import KINDS, kind_of
from runner.repository import Repository
from runner.static import checks_for
from runner.static.check import Context

SCHEMA_DIRECTORY = "schemas"


def select(repo: Repository, paths: Iterable[str]) -> tuple[list[str], list[Finding]]:
    """Files to validate for the paths named on the command line.

    No paths: every configuration file. A schema among them: everything again, since
    any file may now pass or fail differently. Files that are not configuration are
    reported once, as a warning, and skipped.
    """
    named = list(paths)
    if not named:
        return list(repo.files), []
    targets: list[str] = []
    skipped: list[Finding] = []
    for raw in named:
        path = (Path.cwd() / raw).resolve()
        if not path.exists():
            raise UsageError(f"{raw}: no such file or directory")
        try:
            rel = path.relative_to(repo.root.resolve()).as_posix()
        except ValueError:
            raise UsageError(f"{raw}: outside the repository {repo.root}") from None
        if path.is_dir():
            targets.extend(f for f in repo.files if rel in (".", "") or f.startswith(rel + "/"))
        elif rel.startswith(SCHEMA_DIRECTORY + "/"):
            return list(repo.files), []
        elif kind_of(rel) is not None:
            targets.append(rel)
        else:
            expected = ", ".join(kind.where for kind in KINDS)
            skipped.append(
                Finding(
                    rel,
                    1,
                    1,
                    "config.unknown_file",
                    Severity.WARNING,
                    f"not a campaign-guard configuration file, not checked; expected one of: {expected}",
                )
            )
    return sorted(set(targets)), skipped


def validate(repo: Repository, targets: Iterable[str], now: datetime) -> list[Finding]:
    context = Context(repo, now)
    findings: list[Finding] = []
    for rel in targets:
        findings.extend(_validate_one(repo.document(rel), repo, context))
    return sorted(findings)


def schema_findings(repo: Repository) -> list[Finding]:
    """The schema files themselves, against the JSON Schema meta-schema."""
    findings = []
    for name in sorted(repo.schemas.documents):
        for issue in repo.schemas.meta_issues(name):
            path = f"{SCHEMA_DIRECTORY}/{name}"
            findings.append(
                Finding(
                    path,
                    1,
                    1,
                    "schema.invalid_schema",
                    Severity.ERROR,
                    f"{'.'.join(map(str, issue.path)) or 'schema'}: {issue.message}",
                )
            )
    return findings


def _validate_one(document: Document, repo: Repository, context: Context) -> Iterator[Finding]:
    rel = document.rel
    if document.error is not None:
        error = document.error
        yield Finding(rel, error.line, error.column, error.check_id, Severity.ERROR, error.message)
        return
    if document.data is None:
        yield Finding(
            rel,
            1,
            1,
            "schema.violation",
            Severity.PROBLEM,
            f"the file is empty; a {document.kind.name.replace('_', ' ')} file holds a mapping "
            "(see docs/configuration.md)",
        )
        return
    if not document.schema_valid:
        for issue in repo.schemas.issues(document.kind.schema, document.data):
            line, column = document.position(issue.path, key=issue.key)
            yield Finding(rel, line, column, "schema.violation", Severity.PROBLEM, issue.message)
        return
    for check in checks_for(document.kind.name):
        for hit in check.run(document, context):
            line, column = document.position(hit.path, key=hit.key)
            yield Finding(rel, line, column, check.id, check.severity, hit.message)


def exit_code(findings: Iterable[Finding], *, strict: bool) -> ExitCode:
    severities = {finding.severity for finding in findings}
    if Severity.ERROR in severities:
        return ExitCode.CONFIG_ERROR
    if Severity.PROBLEM in severities:
        return ExitCode.PROBLEMS
    if Severity.WARNING in severities and strict:
        return ExitCode.WARNINGS
    return ExitCode.OK
