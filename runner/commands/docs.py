"""campaign-guard docs: reference documentation generated from the code and the schemas."""

from __future__ import annotations

import sys
from pathlib import Path

from runner.docs_render import render_checks, render_configuration, render_demo
from runner.errors import ExitCode
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
