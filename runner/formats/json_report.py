"""A JSON list of findings, for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from runner.findings import Finding


def render(findings: Sequence[Finding]) -> str:
    rows = [f.to_json() for f in findings]
    return json.dumps(rows, ensure_ascii=False, indent=2) + "\n"
