"""Output formats: findings, check results and problems for people and programs; they decide nothing."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from runner.findings import Finding
from runner.formats import github, gitlab, json_report, links, sarif, text

Reporter = Callable[[Sequence[Finding]], str]

REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json_report.render,
    "github": github.render,
    "sarif": sarif.render,
    "gitlab": gitlab.render,
}


def render(output_format: str, findings: Sequence[Finding], root: Path) -> str:
    """The findings of the repository at root in a format; SARIF links its rules to root's docs/checks.md."""
    if output_format == "sarif":
        return sarif.render(findings, checks_page=links.checks_page(root, os.environ))
    return REPORTERS[output_format](findings)
