"""A JSON list of findings, for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from runner.findings import Finding


def render(findings: Sequence[Finding]) -> str:
    rows = [
        {
            "path": f.path,
            "line": f.line,
            "column": f.column,
            "check": f.check_id,
            "severity": f.severity.value,
            "message": f.message,
        }
        for f in findings
    ]
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
