"""Build a review: read both revisions, compare them, raise the risk flags, validate what changed."""

from __future__ import annotations

import errno
import os
from collections.abc import Set
from datetime import datetime
from pathlib import Path

from runner.files import FileSource, FileSystem
from runner.findings import Finding
from runner.kinds import CONFIG_DIRECTORIES, SCHEMA_DIRECTORY, kind_of
from runner.meta_schema import schema_findings
from runner.repository import Repository
from runner.review.diff import carry_over, compare, entities, unparsed
from runner.review.git import GitTree, ensure_work_tree, fork_point, working_files
from runner.review.model import Compared, Review, Snapshot
from runner.review.risks import find_risks
from runner.validation import _unknown_file, validate

WORKING_TREE = "working tree"


def build_review(root: Path, base_ref: str, head_ref: str | None, now: datetime, *, jobs: int = 1) -> Review:
    """base_ref and head_ref are read from git objects; head_ref None is the working tree as it is."""
    ensure_work_tree(root)
    base_tree = GitTree(root, base_ref, fork_point(root, base_ref, head_ref))
    base = _snapshot(base_ref, base_tree.reviewed_files(), root, base_tree)
    if head_ref is None:
        head = _snapshot(WORKING_TREE, working_files(root), root, FileSystem(root))
    else:
        head_tree = GitTree(root, head_ref)
        head = _snapshot(head_ref, head_tree.reviewed_files(), root, head_tree)
    changed = tuple(sorted(rel for rel in {*base.files, *head.files} if base.files.get(rel) != head.files.get(rel)))
    base.entities, head.entities = entities(base.repo, changed), entities(head.repo, changed)
    broken = tuple(unparsed(base.repo, head.repo, changed))
    carry_over(base.entities, head.entities, {u.file for u in broken})
    changes = tuple(compare(base.entities, head.entities))
    risks = tuple(find_risks(Compared(base, head, changes, now)))
    findings = tuple(static_findings(base, head, changed, now, jobs=jobs, unreadable={u.file for u in broken}))
    return Review(base, head, changed, changes, risks, findings, broken)


def _snapshot(label: str, files: dict[str, bytes], root: Path, source: FileSource) -> Snapshot:
    """A side without campaigns/ or rules/ (the commit before campaign-guard came) holds no configuration."""
    repo = Repository(root, source) if any(source.is_dir(name) for name in CONFIG_DIRECTORIES) else None
    return Snapshot(label, files, repo)


def static_findings(
    base: Snapshot,
    head: Snapshot,
    changed: tuple[str, ...],
    now: datetime,
    *,
    jobs: int,
    unreadable: Set[str] = frozenset(),
) -> list[Finding]:
    """validate's findings on the changed files of the head, and the ones the change caused elsewhere.

    A finding on a file the change did not touch is kept when the base revision did not have it
    (same file, check and message): a removed template breaks a campaign nobody edited. A broken
    schema cannot judge anything and is reported alone, as validate does. The files elsewhere are
    judged with the unreadable files as the base had them: a campaign file with a duplicate key has
    its own finding, and a check naming its campaign is not told the campaign does not exist.
    """
    repo = head.repo
    if repo is None:
        return []
    if any(rel.startswith(SCHEMA_DIRECTORY + "/") for rel in changed):
        broken = schema_findings(repo)
        if broken:
            return broken
    touched = set(changed)
    found = validate(repo, repo.files, now, jobs=jobs)
    kept = [finding for finding in found if finding.path in touched]
    elsewhere = [finding for finding in found if finding.path not in touched]
    if unreadable and elsewhere:
        stand_in = Repository(repo.root, _AsBefore(repo.source, base.repo.source if base.repo else None, unreadable))
        untouched = [rel for rel in stand_in.files if rel not in touched]
        elsewhere = validate(stand_in, untouched, now, jobs=jobs)
    if elsewhere and base.repo is not None:
        paths = sorted({finding.path for finding in elsewhere} & set(base.repo.files))
        known = {(f.path, f.check_id, f.message) for f in validate(base.repo, paths, now, jobs=jobs)}
        kept += [f for f in elsewhere if (f.path, f.check_id, f.message) not in known]
    strays = [
        _unknown_file(rel)
        for rel in changed
        if rel in head.files
        and rel.split("/", 1)[0] in CONFIG_DIRECTORIES
        and rel.endswith((".yaml", ".yml"))
        and kind_of(rel) is None
    ]
    return sorted(kept + strays)


class _AsBefore:
    """The head's files, with some as the base had them (absent where the base had none)."""

    def __init__(self, head: FileSource, base: FileSource | None, files: Set[str]) -> None:
        self.head, self.base, self.files = head, base, files

    def _in_base(self, rel: str) -> bool:
        if self.base is None:
            return False
        try:
            self.base.read(rel)
        except OSError:
            return False
        return True

    def read(self, rel: str) -> bytes:
        if rel not in self.files:
            return self.head.read(rel)
        if self.base is None:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), rel)
        return self.base.read(rel)

    def list(self, directory: str, pattern: str) -> list[str]:
        return [rel for rel in self.head.list(directory, pattern) if rel not in self.files or self._in_base(rel)]

    def is_dir(self, directory: str) -> bool:
        return self.head.is_dir(directory)
