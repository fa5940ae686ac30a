"""Check results for people (a table of verdicts) and for programs (JSON)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence

from runner.engine.result import Result, Status

_MARK = {Status.FAIL: "FAIL", Status.WARN: "WARN", Status.ERROR: "ERROR", Status.PASS: "pass"}


def text(results: Sequence[Result]) -> str:
    """Every result on one line, failures followed by their cause, fix and place; then a summary."""
    lines = []
    for result in results:
        mark = _MARK[result.status] if result.status is not Status.FAIL else f"FAIL {result.severity.value}"
        observed = "" if result.observed is None else f"  observed {result.observed}"
        expected = f"  expected {result.expected}" if result.expected else ""
        lines.append(f"{mark:<13} {result.check}  {result.subject}{observed}{expected}")
        if result.status is Status.PASS:
            continue
        lines.append(f"{'':14}{result.title}: {result.cause}")
        if result.status is not Status.ERROR and result.hint:
            lines.append(f"{'':14}fix: {result.hint}")
        if result.location:
            lines.append(f"{'':14}at {result.location}")
        for sample in result.samples[:3]:
            lines.append(f"{'':14}e.g. " + ", ".join(f"{k}={v}" for k, v in sample.items()))
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def summary(results: Sequence[Result]) -> str:
    """ "64 results: 17 problems, 4 warnings, 0 source errors, 43 passed" - and the checks that broke, if any."""
    counts = Counter(
        "problems" if r.is_problem else "warnings" if r.status in (Status.WARN, Status.FAIL) else r.status.value
        for r in results
    )
    crashed = sum(r.crashed for r in results)
    parts = [
        f"{counts['problems']} problems",
        f"{counts['warnings']} warnings",
        f"{counts['error'] - crashed} source errors",
        *([f"{crashed} checks failed"] if crashed else []),
        f"{counts['pass']} passed",
    ]
    return f"{len(results)} results: " + ", ".join(parts)


def json_report(results: Sequence[Result]) -> str:
    return json.dumps([result.to_json() for result in results], ensure_ascii=False, indent=2) + "\n"


RESULT_REPORTERS: dict[str, Callable[[Sequence[Result]], str]] = {"text": text, "json": json_report}
