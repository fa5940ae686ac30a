"""load -> schema -> static checks -> findings, for some files against the whole repository."""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from runner.document import Document
from runner.errors import ExitCode, UsageError
from runner.findings import Finding, Severity
from runner.kinds import CONFIG_DIRECTORIES, KINDS, SCHEMA_DIRECTORY, kind_of
from runner.masking import mask, secret_values
from runner.repository import Repository
from runner.static import checks_for
from runner.static.check import Check, Context


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
    with contextlib.suppress(Exception):  # a broken index is reported by each check that uses it
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
        try:
            findings.extend(_validate_one(repo.document(rel), repo, context))
        except UsageError:  # the repository itself is unusable (a schema is missing): one line, exit 3
            raise
        except Exception as exc:  # one file's breakage never loses the other files' findings
            findings.append(check_failed(rel, None, exc))
    return sorted(findings)


def _validate_one(document: Document, repo: Repository, context: Context) -> list[Finding]:
    rel = document.rel
    if document.error is not None:
        error = document.error
        return [Finding(rel, error.line, error.column, error.check_id, Severity.ERROR, error.message)]
    if document.data is None:
        message = (
            f"the file is empty; a {document.kind.name.replace('_', ' ')} file holds a mapping "
            "(see `campaign-guard docs configuration`)"
        )
        return [Finding(rel, 1, 1, "schema.violation", Severity.PROBLEM, message)]
    findings: list[Finding] = []
    if not document.schema_valid:
        hidden = list(secret_values(document.data))  # a message that echoes a value never shows a password
        for issue in repo.schemas.issues(document.kind.schema, document.data, document.locator.written):
            line, column = document.position(issue.path, key=issue.key)
            message = mask(issue.message, hidden)
            findings.append(Finding(rel, line, column, "schema.violation", Severity.PROBLEM, message))
    for check in checks_for(document.kind.name):
        if document.schema_valid or check.any_shape:
            findings.extend(_run_check(check, document, context))
    return findings


def _run_check(check: Check, document: Document, context: Context) -> list[Finding]:
    """The check's findings; a check that breaks is one internal.check_failed, the other checks still run."""
    try:
        findings = []
        for hit in check.run(document, context):
            line, column = document.position(hit.path, key=hit.key, text_line=hit.text_line)
            findings.append(Finding(document.rel, line, column, check.id, check.severity, hit.message))
        return findings
    except UsageError:
        raise
    except Exception as exc:
        return [check_failed(document.rel, check.id, exc)]


def check_failed(rel: str, check_id: str | None, exc: Exception) -> Finding:
    """A check (None: validation itself) that raised: an error at the file (exit 3), not fully checked."""
    text = str(exc).strip().splitlines()
    reason = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    broke = f"check {check_id} broke" if check_id else "validation broke"
    message = (
        f"{broke} on this file ({reason}), so the file is not fully checked; "
        "this is a campaign-guard bug - please report it"
    )
    return Finding(rel, 1, 1, "internal.check_failed", Severity.ERROR, message)


def exit_code(findings: Iterable[Finding], *, strict: bool) -> ExitCode:
    severities = {finding.severity for finding in findings}
    if Severity.ERROR in severities:
        return ExitCode.CONFIG_ERROR
    if Severity.PROBLEM in severities:
        return ExitCode.PROBLEMS
    if Severity.WARNING in severities and strict:
        return ExitCode.WARNINGS
    return ExitCode.OK
