"""load -> schema -> static checks -> findings, for some files against the whole repository."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from runner.document import Document
from runner.errors import ExitCode, UsageError
from runner.findings import Finding, Severity
from runner.kinds import CONFIG_DIRECTORIES, KINDS, SCHEMA_DIRECTORY, kind_of
from runner.repository import Repository
from runner.static import checks_for
from runner.static.check import Context


def select(repo: Repository, paths: Iterable[str]) -> tuple[list[str], list[Finding]]:
    """Files to validate for the paths named on the command line.

    No paths: every configuration file. A schema among them: everything again, since
    any file may now pass or fail differently. YAML files that are not configuration
    (a misspelt rules/threshold.yaml would otherwise silently mean defaults) are
    reported once, as a warning, and skipped.
    """
    named = list(paths)
    if not named:
        return _everything(repo)
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
            return _everything(repo)
        elif kind_of(rel) is not None:
            targets.append(rel)
        else:
            skipped.append(_unknown_file(rel))
    return sorted(set(targets)), skipped


def _everything(repo: Repository) -> tuple[list[str], list[Finding]]:
    return list(repo.files), [_unknown_file(rel) for rel in _stray_files(repo)]


def _stray_files(repo: Repository) -> list[str]:
    found: set[str] = set()
    for directory in CONFIG_DIRECTORIES:
        for pattern in ("*.yaml", "*.yml"):
            found.update(p.relative_to(repo.root).as_posix() for p in (repo.root / directory).rglob(pattern))
    return sorted(found - set(repo.files))


def _unknown_file(rel: str) -> Finding:
    expected = ", ".join(kind.where for kind in KINDS)
    message = f"not a campaign-guard configuration file, not checked; expected one of: {expected}"
    return Finding(rel, 1, 1, "config.unknown_file", Severity.WARNING, message)


PARALLEL_MINIMUM = 200  # below this many files, starting workers costs more than it saves
_shared: tuple[Repository, datetime] | None = None  # what forked workers inherit


def validate(repo: Repository, targets: Iterable[str], now: datetime, *, jobs: int = 1) -> list[Finding]:
    """Findings of the target files; large runs are split over forked worker processes."""
    targets = list(targets)
    if jobs < 2 or len(targets) < PARALLEL_MINIMUM or "fork" not in multiprocessing.get_all_start_methods():
        return _validate_many(repo, targets, now)
    global _shared
    repo.definitions("campaign")  # build the shared index once, before the workers inherit it
    _shared = (repo, now)
    try:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            parts = pool.map(_validate_in_worker, [targets[start::jobs] for start in range(jobs)])
    finally:
        _shared = None
    return sorted(finding for part in parts for finding in part)


def _validate_in_worker(targets: list[str]) -> list[Finding]:
    assert _shared is not None
    return _validate_many(_shared[0], targets, _shared[1])


def _validate_many(repo: Repository, targets: list[str], now: datetime) -> list[Finding]:
    context = Context(repo, now)
    findings: list[Finding] = []
    for rel in targets:
        findings.extend(_validate_one(repo.document(rel), repo, context))
    return sorted(findings)


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
            "(see `campaign-guard docs configuration`)",
        )
        return
    if not document.schema_valid:
        for issue in repo.schemas.issues(document.kind.schema, document.data, document.locator.written):
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
