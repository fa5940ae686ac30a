"""GitHub Actions workflow commands: annotations on the pull request's lines."""

from __future__ import annotations

from collections.abc import Sequence

from runner.findings import ANNOTATION_LEVEL, Finding


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence[Finding]) -> str:
    return "".join(
        f"::{ANNOTATION_LEVEL[f.severity]} file={_escape_property(f.path)},line={f.line},col={f.column},"
        f"title={_escape_property(f.check_id)}::{_escape_data(f.message)}\n"
        for f in findings
    )
