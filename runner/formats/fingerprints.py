"""Stable identities of findings for code-review dashboards (SARIF partialFingerprints, GitLab).

A finding is the same finding while its check, its file and its message stay the same: the line
and column are left out, and so are the line numbers a message quotes (`also defined at
campaigns/x.yaml:12`, `body line 3`), so adding a line above it does not close it and open a new
one. Identical findings of one file are told apart by their order (`:1`, `:2`, ...).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence

from runner.findings import Finding

_LINE_NUMBERS = re.compile(r"(\.ya?ml:|\.json:|\bline )\d+(?::\d+)?")


def logical_message(message: str) -> str:
    """The message without the line numbers it quotes."""
    return _LINE_NUMBERS.sub(r"\1N", message)


def fingerprints(findings: Sequence[Finding]) -> list[str]:
    """One hex digest (with its occurrence number) per finding, in their order."""
    seen: Counter[str] = Counter()
    found = []
    for finding in findings:
        identity = "\0".join((finding.check_id, finding.path, logical_message(finding.message)))
        digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
        seen[digest] += 1
        found.append(f"{digest}:{seen[digest]}")
    return found
