"""The schema files themselves must be valid JSON Schema before they may judge anything.

Checking nine schemas against the meta-schema costs more than validating a commit's
files, so a schema that passed once is remembered by the hash of its text in
.campaign-guard/cache/ (ignored by git). Any edit changes the hash and is checked again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from runner.findings import Finding, Severity
from runner.kinds import SCHEMA_DIRECTORY
from runner.positions import Locator, path_text
from runner.repository import Repository

CACHE = Path(".campaign-guard/cache/valid-schemas.txt")


def schema_findings(repo: Repository) -> list[Finding]:
    cache = repo.root / CACHE
    known = set(cache.read_text(encoding="utf-8").split()) if cache.is_file() else set()
    findings: list[Finding] = []
    valid: set[str] = set()
    for name, text in sorted(repo.schemas.texts.items()):
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest in known:
            valid.add(digest)
            continue
        issues = repo.schemas.meta_issues(name)
        if not issues:
            valid.add(digest)
        locator = Locator(text)
        for issue in issues:
            line, column = locator.position(issue.path)
            message = f"{path_text(issue.path) or 'schema'}: {issue.message}"
            findings.append(
                Finding(f"{SCHEMA_DIRECTORY}/{name}", line, column, "schema.invalid_schema", Severity.ERROR, message)
            )
    if valid != known:
        _remember(cache, valid)
    return findings


def _remember(cache: Path, digests: set[str]) -> None:
    """Best effort: a read-only checkout just checks the schemas every time."""
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_suffix(".tmp")
        temporary.write_text("\n".join(sorted(digests)) + "\n", encoding="utf-8")
        temporary.replace(cache)
    except OSError:
        pass
