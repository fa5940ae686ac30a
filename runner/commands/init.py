"""campaign-guard init: write a new rules repository that validates clean (runner/scaffold.py)."""

from __future__ import annotations

from pathlib import Path

from runner.errors import ExitCode
from runner.scaffold import skeleton, write

NEXT_STEPS = (
    "campaign-guard validate     # the configuration is sound: exit 0",
    "campaign-guard demo         # build the demo CRM in .campaign-guard/demo.db (about a minute)",
    "campaign-guard run          # find its injected faults: exit 1, problems found",
    "git init && pre-commit install   # validate before every commit (.pre-commit-config.yaml)",
)


def run(directory: Path, *, force: bool) -> ExitCode:
    files = skeleton()
    write(directory, files, force=force)
    print(f"campaign-guard init: a new rules repository in {directory}")
    for rel in files:
        print(f"  wrote {rel}")
    print("next:")
    if directory.resolve() != Path.cwd().resolve():
        print(f"  cd {directory}")
    for line in NEXT_STEPS:
        print(f"  {line}")
    return ExitCode.OK
