"""Reporters only format findings; they never decide anything."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from runner.findings import Finding
from runner.reporters import github, json_report, sarif, text

Reporter = Callable[[Sequence[Finding]], str]

REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json_report.render,
    "github": github.render,
    "sarif": sarif.render,
}
