"""Rule-test outcomes for people (a line per test, the differences, a summary) and for programs (JSON)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from runner.engine.result import Result, plain
from runner.ruletests.compare import Outcome, Verdict
from runner.ruletests.model import Expected

_MARK = {Verdict.PASS: "PASS", Verdict.FAIL: "FAIL", Verdict.ERROR: "ERROR"}
_INDENT = " " * 7


def text_line(outcome: Outcome) -> str:
    """The test's verdict, then what differs: one line per missing, unexpected or wrong problem."""
    test = outcome.test
    lines = [f"{_MARK[outcome.verdict]:<6} {test.where}  {test.name}"]
    for failure in outcome.failures:
        what = f"{failure.check}  {failure.subject}: " if failure.check else ""
        lines.append(f"{_INDENT}error       {what}{failure.cause}")
    for expected in outcome.missing:
        lines.append(f"{_INDENT}missing     {_key(expected)}")
    for result in outcome.unexpected:
        observed = "" if result.observed is None else f"  observed {_shown(result.observed)}"
        lines.append(f"{_INDENT}unexpected  {_found(result)}{observed}: {result.cause}")
    for expected, result in outcome.wrong_value:
        lines.append(
            f"{_INDENT}wrong value {_key(expected)}  observed {_shown(result.observed)}, "
            f"expected {_shown(expected.observed)}"
        )
    return "\n".join(lines) + "\n"


def _key(expected: Expected) -> str:
    return f"{expected.check}  {expected.subject}  {expected.severity}"


def _found(result: Result) -> str:
    return f"{result.check}  {result.subject}  {result.severity.value}"


def _shown(value: Any) -> str:
    return json.dumps(plain(value), ensure_ascii=False)


def summary(outcomes: Sequence[Outcome]) -> str:
    counts = Counter(outcome.verdict for outcome in outcomes)
    errors = counts[Verdict.ERROR]
    tests = f"{len(outcomes)} rule test{'s' if len(outcomes) != 1 else ''}"
    return (
        f"{tests}: {counts[Verdict.PASS]} passed, {counts[Verdict.FAIL]} failed, "
        f"{errors} error{'s' if errors != 1 else ''}\n"
    )


def json_report(outcomes: Sequence[Outcome]) -> str:
    return json.dumps([_json(outcome) for outcome in outcomes], ensure_ascii=False, indent=2) + "\n"


def _json(outcome: Outcome) -> dict[str, Any]:
    test = outcome.test
    return {
        "name": test.name,
        "file": test.file,
        "line": test.line,
        "status": outcome.verdict.value,
        "missing": [_expected_json(expected) for expected in outcome.missing],
        "unexpected": [
            {
                "check": result.check,
                "subject": result.subject,
                "severity": result.severity.value,
                "status": result.status.value,
                "observed": plain(result.observed),
                "cause": result.cause,
            }
            for result in outcome.unexpected
        ],
        "wrong_value": [
            {**_expected_json(expected), "observed": plain(result.observed), "expected": expected.observed}
            for expected, result in outcome.wrong_value
        ],
        "errors": [
            {"check": failure.check, "subject": failure.subject, "cause": failure.cause} for failure in outcome.failures
        ],
    }


def _expected_json(expected: Expected) -> dict[str, Any]:
    found = {"check": expected.check, "subject": expected.subject, "severity": expected.severity}
    return found if expected.observed is None else {**found, "observed": expected.observed}
