"""Load rule tests from rules/tests/*.yaml; every mistake is reported as file:line:col, never raised.

YAML and schema errors come from the same validation as `campaign-guard validate`; then each
selected test's references (campaigns, check patterns, expected checks) and fixtures are checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any
from zoneinfo import ZoneInfo

from runner.builtin.declarations import GATE_CHECKS
from runner.document import Document
from runner.engine.plan import Task, find_campaign, gate_tasks, monitor_tasks
from runner.errors import UsageError
from runner.findings import Severity
from runner.kinds import BY_NAME
from runner.repository import Repository
from runner.ruletests.database import fixture_zone
from runner.ruletests.fixtures import Clock, Mistake, fixture_tables
from runner.ruletests.model import Expected, RuleTest
from runner.validation import validate

TESTS_DIRECTORY = BY_NAME["rule_tests"].directory


@dataclass(frozen=True)
class LoadError:
    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True)
class _Context:
    repo: Repository
    monitoring: tuple[Task, ...]
    monitored: Mapping[str, str]  # monitored table -> its timestamp column
    zone: ZoneInfo


Spec = tuple[Document, int, Mapping[str, Any]]


def load_tests(repo: Repository, patterns: Sequence[str] = ()) -> tuple[list[RuleTest], list[LoadError]]:
    """The tests whose names match the patterns (all without patterns), or what is wrong with them."""
    files = repo.files_of(BY_NAME["rule_tests"])
    if not files:
        raise UsageError(
            f"no rule tests: write them in {TESTS_DIRECTORY}/*.yaml (see `campaign-guard docs configuration`)"
        )
    findings = validate(repo, files, datetime.now(UTC))
    errors = [
        LoadError(f.path, f.line, f.column, f"{f.check_id}: {f.message}")
        for f in findings
        if f.severity is not Severity.WARNING
    ]
    if errors:
        return [], errors
    specs = [(doc, index, spec) for doc in repo.documents("rule_tests") for index, spec in enumerate(doc.data["tests"])]
    errors = _duplicate_names(specs)
    context = _Context(repo, tuple(monitor_tasks(repo)), _monitored_tables(repo), fixture_zone(repo))
    tests = []
    for document, index, spec in _selected(specs, patterns):
        try:
            tests.append(_test(context, document, index, spec))
        except Mistake as invalid:
            line, column = document.position(("tests", index, *invalid.path), key=invalid.key)
            errors.append(LoadError(document.rel, line, column, f"test {spec['name']!r}: {invalid.message}"))
    return tests, errors


def _duplicate_names(specs: Sequence[Spec]) -> list[LoadError]:
    first: dict[str, str] = {}
    errors = []
    for document, index, spec in specs:
        line, column = document.position(("tests", index, "name"))
        where = f"{document.rel}:{line}"
        if spec["name"] in first:
            message = f"test name {spec['name']!r} is also used at {first[spec['name']]}; names must be unique"
            errors.append(LoadError(document.rel, line, column, message))
        first.setdefault(spec["name"], where)
    return errors


def _selected(specs: Sequence[Spec], patterns: Sequence[str]) -> list[Spec]:
    for pattern in patterns:
        if not any(fnmatchcase(spec["name"], pattern) for _doc, _index, spec in specs):
            raise UsageError(f"{pattern!r} matches no rule test in {TESTS_DIRECTORY}/")
    if not patterns:
        return list(specs)
    return [item for item in specs if any(fnmatchcase(item[2]["name"], pattern) for pattern in patterns)]


def _monitored_tables(repo: Repository) -> dict[str, str]:
    found: dict[str, str] = {}
    for document in repo.documents("monitored_tables"):
        if document.schema_valid:
            for table in document.data["tables"]:
                found.setdefault(table["table"], table["timestamp_column"])
    return found


def _test(context: _Context, document: Document, index: int, spec: Mapping[str, Any]) -> RuleTest:
    try:
        now = datetime.fromisoformat(spec["now"])
    except ValueError:
        raise Mistake(("now",), f"{spec['now']!r} is not a valid date-time") from None
    tasks = _tasks(context, spec)
    expect = _expected(spec, tasks)
    try:
        tables = fixture_tables(spec.get("fixtures", {}), Clock(now, context.zone), context.monitored)
    except Mistake as error:
        raise Mistake(("fixtures", *error.path), error.message, key=error.key) from None
    line, _column = document.position(("tests", index))
    return RuleTest(spec["name"], document.rel, line, now, tuple(tasks), tuple(tables), expect)


def _tasks(context: _Context, spec: Mapping[str, Any]) -> list[Task]:
    """The gates of `campaigns`, or monitoring without them; `checks` selects among both."""
    gates: list[Task] = []
    for position, campaign_id in enumerate(spec.get("campaigns", [])):
        try:
            gates.extend(gate_tasks(find_campaign(context.repo, campaign_id)))
        except UsageError as error:
            raise Mistake(("campaigns", position), str(error)) from None
    patterns = spec.get("checks")
    if patterns is None:
        return gates or list(context.monitoring)
    pool = [*context.monitoring, *gates]
    for position, pattern in enumerate(patterns):
        if not any(fnmatchcase(task.check, pattern) for task in pool):
            known = ", ".join(sorted({task.check for task in pool}))
            gate = any(fnmatchcase(check.id, pattern) for check in GATE_CHECKS)
            hint = "launch-gate checks run for the campaigns named in `campaigns`; " if gate and not gates else ""
            raise Mistake(("checks", position), f"{pattern!r} matches no check; {hint}known: {known}")
    return [task for task in pool if any(fnmatchcase(task.check, pattern) for pattern in patterns)]


def _expected(spec: Mapping[str, Any], tasks: Sequence[Task]) -> tuple[Expected, ...]:
    evaluated = {task.check for task in tasks}
    found: dict[tuple[str, str, str], Expected] = {}
    for position, item in enumerate(spec["expect"]):
        expected = Expected(item["check"], item["subject"], item["severity"], item.get("observed"))
        if expected.check not in evaluated:
            raise Mistake(
                ("expect", position, "check"),
                f"check {expected.check!r} is not evaluated by this test; it evaluates: {', '.join(sorted(evaluated))}",
            )
        if expected.key in found:
            raise Mistake(("expect", position), "this problem is already expected above; list each problem once")
        found[expected.key] = expected
    return tuple(found.values())
