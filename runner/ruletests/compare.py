"""A test's verdict: the problems found (warn and fail results) against exactly those expected."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runner.engine.result import Result, Status, plain
from runner.ruletests.model import Expected, RuleTest


class Verdict(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"  # the problems found differ from those expected
    ERROR = "error"  # a check could not be evaluated (bad SQL, a misconfigured rule)


@dataclass(frozen=True)
class Failure:
    """A check that could not be evaluated; check is None when the whole evaluation failed."""

    check: str | None
    subject: str | None
    cause: str


@dataclass(frozen=True)
class Outcome:
    test: RuleTest
    missing: tuple[Expected, ...] = ()
    unexpected: tuple[Result, ...] = ()
    wrong_value: tuple[tuple[Expected, Result], ...] = ()
    failures: tuple[Failure, ...] = ()

    @property
    def verdict(self) -> Verdict:
        if self.failures:
            return Verdict.ERROR
        if self.missing or self.unexpected or self.wrong_value:
            return Verdict.FAIL
        return Verdict.PASS


def is_problem(result: Result) -> bool:
    return result.status in (Status.WARN, Status.FAIL)


def compare(test: RuleTest, results: Sequence[Result]) -> Outcome:
    failures = tuple(Failure(r.check, r.subject, r.cause) for r in results if r.status is Status.ERROR)
    found: dict[tuple[str, str, str], Result] = {}
    for result in results:
        if is_problem(result):
            found.setdefault((result.check, result.subject, result.severity.value), result)
    expected = {item.key: item for item in test.expect}
    wrong = tuple(
        (item, found[key])
        for key, item in expected.items()
        if key in found and item.observed is not None and not same_value(found[key].observed, item.observed)
    )
    return Outcome(
        test,
        missing=tuple(item for key, item in expected.items() if key not in found),
        unexpected=tuple(result for key, result in found.items() if key not in expected),
        wrong_value=wrong,
        failures=failures,
    )


def same_value(observed: Any, wanted: Any) -> bool:
    """37 is 37.0; '98.2%' is '98.2%'; a number written as text in YAML matches the number."""
    value = plain(observed)
    if isinstance(value, bool) or isinstance(wanted, bool):
        return value is wanted
    return bool(value == wanted) or str(value) == str(wanted)
