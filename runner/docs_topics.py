"""The documentation a pip user has: the installed pages, and one check's entry for the terminal.

`campaign-guard docs TOPIC` reads them, so that a message saying "see `campaign-guard docs
configuration`" works without this repository.
"""

from __future__ import annotations

from pathlib import Path

from runner.catalogue import CheckInfo, catalogue
from runner.shipped import docs_dir

REPORTED_BY = {
    "file": "campaign-guard validate",
    "static": "campaign-guard validate",
    "gate": "the launch gate: campaign-guard check CAMPAIGN, and run for the campaigns due today",
    "monitor": "monitoring: campaign-guard run",
    "system": "campaign-guard itself (outbound stop and start, run, notify)",
}


def pages() -> dict[str, Path]:
    """Page name (checks, configuration, ci ...) -> the installed Markdown file."""
    directory = docs_dir()
    return {path.stem: path for path in sorted(directory.glob("*.md"))} if directory.is_dir() else {}


def check_info(check_id: str) -> CheckInfo | None:
    return next((entry for entry in catalogue() if entry.id == check_id), None)


def check_entry(info: CheckInfo, page: Path | None) -> str:
    """One check as the terminal shows it: what it catches, how to fix it, where it is reported."""
    lines = [
        info.id,
        f"  severity: {info.severity.value}, localization: {info.localization}",
        f"  reported by: {REPORTED_BY[info.stage]}",
        f"  catches: {info.summary}",
        f"  fix: {info.fix}",
    ]
    if info.dirty_data:
        lines.append(f"  dirty data: {info.dirty_data}")
    if page is not None:
        lines.append(f"  every check: `campaign-guard docs checks` ({page})")
    return "\n".join(lines)
