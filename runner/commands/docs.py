"""campaign-guard docs: reference documentation generated from the code and the schemas, and shown.

`campaign-guard docs TOPIC` prints one check's entry or one page of the installed version, so that a
message saying "see `campaign-guard docs configuration`" works for a pip user without this repository.
"""

from __future__ import annotations

import sys
import urllib.parse
import webbrowser
from pathlib import Path

from runner.catalogue import CheckInfo, catalogue
from runner.docs_render import render_checks, render_configuration, render_demo
from runner.errors import ExitCode, UsageError
from runner.repository import Repository
from runner.shipped import docs_dir


def run(root: Path, *, output: Path | None, check: bool) -> ExitCode:
    repo = Repository(root)
    directory = output or root / "docs"
    pages = {
        "checks.md": render_checks(),
        "configuration.md": render_configuration(repo.schemas),
        "demo.md": render_demo(),
    }
    stale = [
        name
        for name, text in pages.items()
        if not (directory / name).is_file() or (directory / name).read_text(encoding="utf-8") != text
    ]
    if check:
        for name in stale:
            print(f"{directory / name}: stale; run `campaign-guard docs` and commit the result", file=sys.stderr)
        return ExitCode.PROBLEMS if stale else ExitCode.OK
    directory.mkdir(parents=True, exist_ok=True)
    for name in stale:
        (directory / name).write_text(pages[name], encoding="utf-8")
        print(f"wrote {directory / name}")
    return ExitCode.OK


def pages() -> dict[str, Path]:
    """Page name (checks, configuration, ci ...) -> the installed Markdown file."""
    directory = docs_dir()
    return {path.stem: path for path in sorted(directory.glob("*.md"))} if directory.is_dir() else {}


def show(topic: str, *, open_browser: bool) -> ExitCode:
    """Print a check's entry (a check id) or a page (a page name); --open shows the page in a browser."""
    found = pages()
    info = next((entry for entry in catalogue() if entry.id == topic), None)
    if info is None and topic not in found:
        names = ", ".join(found) or "none are installed"
        raise UsageError(f"docs: {topic!r} is neither a check id nor a page (pages: {names})")
    page = found.get("checks") if info is not None else found[topic]
    if open_browser and page is not None:
        uri = page.as_uri() + (f"#{urllib.parse.quote(topic, safe='')}" if info is not None else "")
        if webbrowser.open(uri):
            print(f"opened {uri}")
            return ExitCode.OK
        print("campaign-guard docs: no browser found; the text follows", file=sys.stderr)
    if info is not None:
        print(check_entry(info, page))
    else:
        sys.stdout.write(found[topic].read_text(encoding="utf-8"))
    return ExitCode.OK


REPORTED_BY = {
    "file": "campaign-guard validate",
    "static": "campaign-guard validate",
    "gate": "the launch gate: campaign-guard check CAMPAIGN, and run for the campaigns due today",
    "monitor": "monitoring: campaign-guard run",
    "system": "campaign-guard itself (outbound stop and start, run)",
}


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
