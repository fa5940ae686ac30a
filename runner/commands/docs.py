"""campaign-guard docs: reference documentation generated from the code and the schemas, and shown.

`campaign-guard docs TOPIC` prints one check's entry or one page of the installed version
(runner/docs_topics.py).
"""

from __future__ import annotations

import sys
import webbrowser
from pathlib import Path

from runner.docs_render import render_checks, render_configuration, render_demo
from runner.docs_topics import check_entry, check_info, pages
from runner.errors import ExitCode, UsageError
from runner.formats.links import check_anchor
from runner.masking import verbatim
from runner.repository import Repository


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


def show(topic: str, *, open_browser: bool) -> ExitCode:
    """Print a check's entry (a check id) or a page (a page name); --open shows the page in a browser."""
    found = pages()
    info = check_info(topic)
    if info is None and topic not in found:
        names = ", ".join(found) or "none are installed"
        raise UsageError(f"docs: {topic!r} is neither a check id nor a page (pages: {names})")
    page = found.get("checks") if info is not None else found[topic]
    if open_browser and page is not None:
        uri = check_anchor(page.as_uri(), topic) if info is not None else page.as_uri()
        if webbrowser.open(uri):
            print(f"opened {uri}")
            return ExitCode.OK
        print("campaign-guard docs: no browser found; the text follows", file=sys.stderr)
    if info is not None:
        print(check_entry(info, page))
    else:
        # a page shipped with campaign-guard, as written: its examples' passwords are placeholders
        verbatim(sys.stdout).write(found[topic].read_text(encoding="utf-8"))
    return ExitCode.OK
