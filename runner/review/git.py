"""A git revision as a file source: blobs read with `git ls-tree` and `git cat-file --batch`.

Nothing is checked out: no second work tree, no temporary directory, the working tree is never
touched. Only campaigns/, rules/ and schemas/ are read, in one `cat-file` process.
"""

from __future__ import annotations

import errno
import os
import subprocess
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

from runner.errors import UsageError
from runner.kinds import CONFIG_DIRECTORIES, SCHEMA_DIRECTORY

REVIEWED = (*CONFIG_DIRECTORIES, SCHEMA_DIRECTORY)
SUFFIXES = (".yaml", ".yml", ".json")  # what a review compares; editor backups and notes are not configuration
_REGULAR = (b"100644", b"100755")  # symbolic links and submodules are not configuration
UNREADABLE = b"\0unreadable\0"  # no configuration file holds NUL bytes


class _GitFailed(Exception):
    pass


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("git is not installed; review reads the revisions it compares from git") from None
    except OSError as exc:
        raise UsageError(f"{root}: cannot run git: {exc.strerror}") from None
    if done.returncode != 0:
        raise _GitFailed(done.stderr.decode("utf-8", errors="replace").strip())
    return done.stdout


def ensure_work_tree(root: Path) -> None:
    """One clear line when root is not inside a git work tree."""
    if not root.is_dir():
        raise UsageError(f"{root}: no such directory")
    try:
        inside = _git(root, "rev-parse", "--is-inside-work-tree").strip() == b"true"
    except _GitFailed:
        inside = False
    if not inside:
        raise UsageError(f"{root}: not a git repository; review compares two git revisions of it")


def resolve(root: Path, ref: str) -> str:
    """The commit id a revision names; an unknown one is a usage error."""
    if not ref or ref.startswith("-"):
        raise UsageError(f"{ref!r} is not a git revision")
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except _GitFailed:
        raise UsageError(f"unknown git revision {ref!r} in {root}") from None


def fork_point(root: Path, base: str, head: str | None) -> str:
    """Where the head's history left the base (`git merge-base`), as `git diff base...head` compares.

    A base branch that moved on after the change branched off would otherwise show its newer commits
    as the change undoing them. Unrelated histories: the base itself.
    """
    base_commit = resolve(root, base)
    try:
        head_commit = resolve(root, head or "HEAD")
        return _git(root, "merge-base", base_commit, head_commit).decode().strip() or base_commit
    except (_GitFailed, UsageError):  # unrelated histories, or a repository without a commit yet
        return base_commit


class GitTree:
    """The reviewed files of one commit, as Repository reads them (runner.files.FileSource)."""

    def __init__(self, root: Path, ref: str, commit: str | None = None) -> None:
        self.root = root
        self.ref = ref
        self.commit = commit or resolve(root, ref)
        self.blobs = _read_blobs(root, self.commit)

    def read(self, rel: str) -> bytes:
        try:
            return self.blobs[rel]
        except KeyError:
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), rel) from None

    def list(self, directory: str, pattern: str) -> list[str]:
        parent = PurePosixPath(directory)
        paths = (PurePosixPath(rel) for rel in self.blobs)
        return sorted(path.as_posix() for path in paths if path.parent == parent and fnmatchcase(path.name, pattern))

    def is_dir(self, directory: str) -> bool:
        prefix = directory.rstrip("/") + "/"
        return any(rel.startswith(prefix) for rel in self.blobs)

    def reviewed_files(self) -> dict[str, bytes]:
        return {rel: blob for rel, blob in self.blobs.items() if rel.endswith(SUFFIXES)}


def _read_blobs(root: Path, commit: str) -> dict[str, bytes]:
    """Path (relative to root, which may be a subdirectory of the work tree) -> content."""
    try:
        listing = _git(root, "ls-tree", "-r", "-z", commit, "--", *REVIEWED)
    except _GitFailed as exc:
        raise UsageError(f"cannot list {commit[:12]} in {root}: {exc}") from None
    wanted: list[tuple[str, str]] = []
    for entry in filter(None, listing.split(b"\0")):
        meta, _, name = entry.partition(b"\t")
        mode, kind, object_id = meta.split(b" ")
        if kind == b"blob" and mode in _REGULAR:
            wanted.append((name.decode("utf-8", errors="surrogateescape"), object_id.decode()))
    if not wanted:
        return {}
    try:
        output = _git(root, "cat-file", "--batch", stdin="".join(f"{oid}\n" for _, oid in wanted).encode())
    except _GitFailed as exc:
        raise UsageError(f"cannot read {commit[:12]} in {root}: {exc}") from None
    blobs: dict[str, bytes] = {}
    offset = 0
    for rel, oid in wanted:
        header_end = output.index(b"\n", offset)
        header = output[offset:header_end].split(b" ")
        if len(header) != 3 or header[0].decode() != oid:
            raise UsageError(f"cannot read {rel} of {commit[:12]} in {root}: git answered {header!r}")
        size = int(header[2])
        blobs[rel] = output[header_end + 1 : header_end + 1 + size]
        offset = header_end + 1 + size + 1
    return blobs


def working_files(root: Path) -> dict[str, bytes]:
    """The reviewed files of the working tree, as they are on disk (untracked ones too)."""
    found: dict[str, bytes] = {}
    for directory in REVIEWED:
        for path in sorted((root / directory).rglob("*")):
            if path.is_file() and path.name.endswith(SUFFIXES):
                try:
                    found[path.relative_to(root).as_posix()] = path.read_bytes()
                except OSError:  # compared as changed; validation reports it as yaml.unreadable
                    found[path.relative_to(root).as_posix()] = UNREADABLE
    return found
