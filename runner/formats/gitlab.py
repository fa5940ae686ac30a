"""A GitLab Code Quality report: the findings on a merge request's diff and in its widget.

GitLab reads a JSON array of CodeClimate-style issues from the job artifact declared as
`artifacts: reports: codequality:` (docs/ci.md); it compares the fingerprints with the target
branch's report to tell new findings from old ones.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from runner.findings import Finding, Severity
from runner.formats.fingerprints import fingerprints

# GitLab knows info, minor, major, critical and blocker
SEVERITY = {Severity.ERROR: "blocker", Severity.PROBLEM: "critical", Severity.WARNING: "minor"}


def render(findings: Sequence[Finding]) -> str:
    issues = [
        {
            "description": finding.message,
            "check_name": finding.check_id,
            "fingerprint": fingerprint,
            "severity": SEVERITY[finding.severity],
            "location": {"path": finding.path, "lines": {"begin": finding.line}},
        }
        for finding, fingerprint in zip(findings, fingerprints(findings), strict=True)
    ]
    return json.dumps(issues, ensure_ascii=False, indent=2) + "\n"
