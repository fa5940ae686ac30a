"""Where the configuration repository is: the directory given by --root, or found upwards like git.

A repository root is a directory holding `campaigns/` or `rules/` (what `Repository` reads).
Without --root the search starts in the current directory and goes up through its parents; it
stops at the top of a git work tree (a directory holding `.git`), so a stray `rules/` above the
project is never taken for it, and at the file system's root.
"""

from __future__ import annotations

import os
from pathlib import Path

from runner.errors import UsageError
from runner.kinds import CONFIG_DIRECTORIES

MARKERS = " or ".join(f"{name}/" for name in CONFIG_DIRECTORIES)


def is_repository(path: Path) -> bool:
    return any((path / name).is_dir() for name in CONFIG_DIRECTORIES)


def find_root(start: Path) -> Path | None:
    """The nearest repository root at or above start, relative to start (`.`, `..`); None when there is none."""
    try:
        here = start.resolve(strict=True)
    except OSError:  # the current directory was removed
        return None
    for directory in (here, *here.parents):
        if is_repository(directory):
            return Path(os.path.relpath(directory, here))
        if (directory / ".git").exists():
            return None
    return None


class NotARepository(UsageError):
    """A command needs the repository (or, for the state store, CAMPAIGN_GUARD_STATE_URL) and has none."""

    def __init__(self, root: Path, *, for_store: bool = False) -> None:
        self.root = root
        self.for_store = for_store
        super().__init__(self.explain(searched=False))

    def explain(self, *, searched: bool) -> str:
        """One line; searched: the root was looked for upwards from the current directory (no --root)."""
        if searched:
            fix = "run inside one, pass --root or set CAMPAIGN_GUARD_STATE_URL"
            fix = fix if self.for_store else "run inside one or pass --root"
            return f"no campaign-guard repository here or above {_here()} (a directory with {MARKERS}); {fix}"
        fix = "point --root at one or set CAMPAIGN_GUARD_STATE_URL" if self.for_store else "point --root at one"
        return f"{self.root}: not a campaign-guard repository (no {MARKERS} directory); {fix}"


def _here() -> str:
    try:
        return str(Path.cwd())
    except OSError:
        return "the current directory"
