"""path:line:col: severity check-id: message - what editors and terminals understand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from runner.findings import Finding


def render(findings: Sequence[Finding]) -> str:
    lines = [f"{f.path}:{f.line}:{f.column}: {f.severity.value} {f.check_id}: {f.message}" for f in findings]
    counts = Counter(f.severity.value for f in findings)
    if findings:
        summary = ", ".join(
            f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}" for s in ("error", "problem", "warning") if counts[s]
        )
        lines.append(f"found {summary}")
    return "\n".join(lines) + ("\n" if lines else "")
