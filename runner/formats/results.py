"""Check results for people (failures, then a summary) and for programs (JSON, every result)."""

from __future__ import annotations

import json
import re
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

from runner.display import Display, count
from runner.engine.result import Result, Status

_MARK = {Status.FAIL: "FAIL", Status.WARN: "WARN", Status.ERROR: "ERROR", Status.PASS: "pass"}
_INDENT = " " * 14

VERBOSITIES = ("quiet", "normal", "verbose")
"""-q: the summary only; default: the failures and the summary; -v: every result and the summary."""


def text(results: Sequence[Result], verbosity: str = "normal", display: Display | None = None) -> str:
    """The failures (every result with -v), each followed by its cause, fix and place; then a summary.

    Lines are wrapped to the display's width, continuation lines indented under the check.
    """
    display = display or Display()
    lines: list[str] = []
    shown = () if verbosity == "quiet" else results if verbosity == "verbose" else _failures(results)
    for result in shown:
        mark = _MARK[result.status] if result.status is not Status.FAIL else f"FAIL {result.severity.value}"
        observed = "" if result.observed is None else f"  observed {_value(result.observed)}"
        expected = f"  expected {_bound(result.expected)}" if result.expected else ""
        head = _wrapped(f"{mark:<13} {result.check}  {result.subject}{observed}{expected}", display.width)
        lines.append(display.paint(head[0][: len(mark)], _tone(result)) + head[0][len(mark) :])
        lines += head[1:]
        if result.status is Status.PASS:
            continue
        details = [f"{result.title}: {result.cause}"]
        if result.status is not Status.ERROR and result.hint:
            details.append(f"fix: {result.hint}")
        if result.location:
            details.append(f"at {result.location}")
        details += ["e.g. " + ", ".join(f"{k}={v}" for k, v in sample.items()) for sample in result.samples[:3]]
        for detail in details:
            lines += _wrapped(_INDENT + detail, display.width)
    lines.append(summary(results, display))
    return "\n".join(lines) + "\n"


def _failures(results: Sequence[Result]) -> list[Result]:
    return [result for result in results if result.status is not Status.PASS]


def _tone(result: Result) -> str:
    if result.is_problem or result.status is Status.ERROR:
        return "problem"
    return "pass" if result.status is Status.PASS else "warning"


def _value(observed: Any) -> str:
    """An observed count with thousands separators; any other value as it is."""
    if isinstance(observed, int) and not isinstance(observed, bool):
        return count(observed)
    return str(observed)


_BOUND = re.compile(r"(?P<op>(?:[<>]=?|==|!=)\s*)?(?P<number>\d{4,})")


def _bound(expected: str) -> str:
    """A numeric bound with thousands separators ("<= 50000" -> "<= 50,000"); any other text as it is."""
    match = _BOUND.fullmatch(expected)
    return f"{match['op'] or ''}{count(int(match['number']))}" if match else expected


def _wrapped(line: str, width: int) -> list[str]:
    if len(line) <= width:
        return [line]
    # words are never split: a path, URL or SQL fragment stays whole (and copyable) on its line
    wrapped = textwrap.wrap(line, width, subsequent_indent=_INDENT, break_long_words=False, break_on_hyphens=False)
    return wrapped or [line]


def summary(results: Sequence[Result], display: Display | None = None) -> str:
    """ "1,064 results: 17 problems, 4 warnings, 0 source errors, 1,043 passed" - and the checks that broke."""
    display = display or Display()
    counts = Counter(
        "problems" if r.is_problem else "warnings" if r.status in (Status.WARN, Status.FAIL) else r.status.value
        for r in results
    )
    crashed = sum(r.crashed for r in results)
    parts = [
        _part(display, counts["problems"], "problems", "problem"),
        _part(display, counts["warnings"], "warnings", "warning"),
        _part(display, counts["error"] - crashed, "source errors", "error"),
        *([_part(display, crashed, "checks failed", "error")] if crashed else []),
        _part(display, counts["pass"], "passed", "pass"),
    ]
    return f"{count(len(results))} results: " + ", ".join(parts)


def _part(display: Display, number: int, label: str, tone: str) -> str:
    words = f"{count(number)} {label}"
    return display.paint(words, tone) if number else words


def json_report(results: Sequence[Result], verbosity: str = "normal", display: Display | None = None) -> str:
    """Every result, whatever the verbosity: programs filter for themselves."""
    return json.dumps([result.to_json() for result in results], ensure_ascii=False, indent=2) + "\n"


class ResultReporter(Protocol):
    def __call__(self, results: Sequence[Result], verbosity: str = "normal", display: Display | None = None) -> str: ...


RESULT_REPORTERS: dict[str, ResultReporter] = {
    "text": text,
    "json": json_report,
}
