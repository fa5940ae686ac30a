"""Where a repository's files come from: the file system (the default) or elsewhere (a git revision).

Repository reads every configuration and schema file through a FileSource, so the same checks judge
a working tree and a commit read from git objects (runner/review/git.py) without a second checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class FileSource(Protocol):
    """Repository-relative POSIX paths in, bytes out; a missing file raises OSError."""

    def read(self, rel: str) -> bytes: ...

    def list(self, directory: str, pattern: str) -> list[str]:
        """Files directly inside directory whose name matches the glob pattern, repository-relative."""
        ...

    def is_dir(self, directory: str) -> bool: ...


class FileSystem:
    """The files under a directory on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def list(self, directory: str, pattern: str) -> list[str]:
        return sorted(
            path.relative_to(self.root).as_posix() for path in (self.root / directory).glob(pattern) if path.is_file()
        )

    def is_dir(self, directory: str) -> bool:
        return (self.root / directory).is_dir()
