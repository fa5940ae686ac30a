"""Evaluate tasks side by side; a failing source turns its checks into error results, not a crash."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from runner.adapter import SourceError
from runner.engine.evaluation import Evaluation
from runner.engine.plan import Task
from runner.engine.result import Result, Status
from runner.errors import ExitCode

WORKERS = 8  # threads waiting on sources; each source caps its own concurrent queries


def execute(tasks: Sequence[Task], ev: Evaluation) -> list[Result]:
    """Results in task order, each task's results in the order it produced them."""
    return [result for answer in evaluate_each(tasks, ev) for result in answer]


def evaluate_each(tasks: Sequence[Task], ev: Evaluation) -> list[list[Result]]:
    """The results of each task, side by side with the tasks."""
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="check") as pool:
        return list(pool.map(lambda task: _evaluate(task, ev), tasks))


def _evaluate(task: Task, ev: Evaluation) -> list[Result]:
    try:
        results = list(task.evaluate(ev))
    except SourceError as error:
        return [
            task.about.result(
                task.subject,
                Status.ERROR,
                expected="the source answers",
                cause=f"source {error.source!r}: {error.message}",
                source=error.source,
            )
        ]
    # a check with nothing to judge (no launch today, no new rows) still reports that it ran
    return results or [task.about.result(task.subject, Status.PASS, expected="nothing to judge")]


def exit_code(results: Sequence[Result], *, strict: bool = False) -> ExitCode:
    """4 when a source failed (the picture is incomplete), else 1 for problems, 2 (strict) for warnings."""
    if any(result.status is Status.ERROR for result in results):
        return ExitCode.SOURCE_ERROR
    if any(result.is_problem for result in results):
        return ExitCode.PROBLEMS
    if strict and any(result.status in (Status.WARN, Status.FAIL) for result in results):
        return ExitCode.WARNINGS
    return ExitCode.OK
