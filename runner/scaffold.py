"""The skeleton of a new rules repository (`campaign-guard init`), as it ships in the wheel.

It is runner/skeleton/ (package data). Its dot-files are kept as `dot-NAME` there, so that neither
git nor pre-commit nor GitHub of this repository takes them for its own (.gitignore,
.github/workflows); they are written as `.NAME`. `@VERSION@` becomes the installed version.
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from runner import __version__
from runner.errors import UsageError
from runner.shipped import shipped

NOTE_SCRIPT = "deploy/gitlab_mr_note.py"  # the GitLab review job's helper; the wheel force-includes it
VERSION_MARK = b"@VERSION@"
REPOSITORY_DIRECTORIES = ("campaigns", "rules")


def skeleton() -> dict[str, bytes]:
    """Every file of a new repository: repository-relative POSIX path -> content, sorted."""
    files = dict(_walk(resources.files("runner") / "skeleton", ""))
    files[NOTE_SCRIPT] = shipped(f"skeleton/{NOTE_SCRIPT}", NOTE_SCRIPT).read_bytes()
    return {rel: content.replace(VERSION_MARK, __version__.encode()) for rel, content in sorted(files.items())}


def _walk(folder: Traversable, prefix: str) -> Iterator[tuple[str, bytes]]:
    for entry in folder.iterdir():
        if entry.name == "__pycache__":
            continue
        name = "." + entry.name.removeprefix("dot-") if entry.name.startswith("dot-") else entry.name
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{name}/")
        else:
            yield f"{prefix}{name}", entry.read_bytes()


def write(directory: Path, files: dict[str, bytes], *, force: bool) -> None:
    """An existing campaign-guard repository is never touched; other existing files only with force."""
    refuse(directory, files, force=force)
    for rel, content in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def refuse(directory: Path, files: dict[str, bytes], *, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"init: {directory} exists and is not a directory")
    for name in REPOSITORY_DIRECTORIES:
        if (directory / name).is_dir() and any(path.is_file() for path in (directory / name).rglob("*")):
            raise UsageError(
                f"init: {directory} is already a campaign-guard repository ({name}/ holds files); "
                "init starts a new one - choose an empty directory"
            )
    existing = [rel for rel in files if (directory / rel).exists()]
    if existing and not force:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise UsageError(
            f"init: {directory / existing[0]}{more} already exists; init overwrites nothing without --force"
        )
    blocked = [rel for rel in existing if not (directory / rel).is_file()]
    if blocked:
        raise UsageError(f"init: {directory / blocked[0]} is not a file; remove it first")
