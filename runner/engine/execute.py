"""Evaluate tasks side by side; a failing source turns its checks into error results, not a crash."""

from __future__ import annotations

import contextvars
import itertools
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from runner.adapter import SourceError
from runner.deadlines import Deadline
from runner.engine.check import About
from runner.engine.evaluation import READING, Evaluation, Reading
from runner.engine.plan import Task
from runner.engine.result import Result, Status, plain
from runner.errors import ExitCode

WORKERS = 8  # threads waiting on sources; each source caps its own concurrent queries


def execute(tasks: Sequence[Task], ev: Evaluation) -> list[Result]:
    """Results in task order, each task's results in the order it produced them."""
    return [result for answer in evaluate_each(tasks, ev) for result in answer]


def evaluate_each(
    tasks: Sequence[Task], ev: Evaluation, done: Callable[[int, int], None] | None = None
) -> list[list[Result]]:
    """The results of each task, side by side with the tasks; done(finished, total) as each one finishes."""
    return evaluate_until(tasks, ev, None, done)[0]


def evaluate_until(
    tasks: Sequence[Task], ev: Evaluation, deadline: Deadline | None, done: Callable[[int, int], None] | None = None
) -> tuple[list[list[Result]], set[int]]:
    """As evaluate_each; a task not finished when the deadline passes is an error result saying so.

    Returns the results and the indexes of the tasks the deadline cut off. Checks run in daemon
    threads, and the wait for them ends at the deadline: a check stuck in a query is left behind
    (its answer, should it come, is dropped) and does not keep the process from exiting.
    """
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for index in range(len(tasks)):
        todo.put(index)
    answers: list[list[Result] | None] = [None] * len(tasks)
    finished = itertools.count(1)
    state = threading.Condition()
    over = threading.Event()

    def work() -> None:
        while not over.is_set():
            try:
                index = todo.get_nowait()
            except queue.Empty:
                return
            results = contextvars.copy_context().run(_evaluate, tasks[index], ev)
            with state:
                if over.is_set():
                    return
                answers[index] = results
                if done is not None:
                    done(next(finished), len(tasks))
                state.notify_all()

    for number in range(min(WORKERS, len(tasks))):
        threading.Thread(target=work, name=f"check-{number}", daemon=True).start()
    with state:
        state.wait_for(lambda: all(answer is not None for answer in answers), deadline.left() if deadline else None)
        over.set()
    cut = {index for index, answer in enumerate(answers) if answer is None}
    return [_answer(task, answer, deadline) for task, answer in zip(tasks, answers, strict=True)], cut


def _answer(task: Task, answer: list[Result] | None, deadline: Deadline | None) -> list[Result]:
    if answer is not None:
        return answer
    assert deadline is not None  # only a deadline leaves a task without an answer
    return [unreached(task, deadline)]


def unreached(task: Task, deadline: Deadline) -> Result:
    """The error result of a check the run's deadline did not leave time for."""
    return task.about.result(
        task.subject,
        Status.ERROR,
        expected="the check evaluates",
        cause=f"not evaluated: the run's deadline of {deadline.text} s passed",
    )


def _evaluate(task: Task, ev: Evaluation) -> list[Result]:
    """Whatever goes wrong in one check becomes an error result of that check alone."""
    READING.set(Reading())
    try:
        results = list(task.evaluate(ev))
    except SourceError as error:
        return [source_error(task.about, task.subject, error)]
    except Exception as error:
        return [check_error(task.about, task.subject, error)]
    # a check with nothing to judge (no launch today, no new rows) still reports that it ran
    results = results or [task.about.result(task.subject, Status.PASS, expected="nothing to judge")]
    return summarised(task, results, ev.thresholds["max_subjects"])


def source_error(about: About, subject: str, error: SourceError) -> Result:
    return about.result(
        subject,
        Status.ERROR,
        expected="the source answers",
        cause=f"source {error.source!r}: {error.message}",
        source=error.source,
    )


def check_error(about: About, subject: str, error: Exception) -> Result:
    """One line: the check, what it was reading, and the exception."""
    reading = READING.get(None)
    on = f" while reading {', '.join(reading.described)}" if reading is not None and reading.described else ""
    text = " ".join(str(error).split()) or "no message"
    return replace(
        about.result(
            subject,
            Status.ERROR,
            expected="the check evaluates",
            cause=f"check {about.check} failed{on}: {type(error).__name__}: {text}",
        ),
        crashed=True,
    )


def summarised(task: Task, results: list[Result], limit: int) -> list[Result]:
    """More subjects than max_subjects (one per customer, say): one result with the count and the worst."""
    if len(results) <= limit:
        return results
    rank = {Status.ERROR: 0, Status.FAIL: 1, Status.WARN: 2, Status.PASS: 3}
    worst = sorted(results, key=lambda r: (rank[r.status], -_magnitude(r.observed), r.subject))
    failing = [r for r in results if r.status in (Status.FAIL, Status.WARN, Status.ERROR)]
    top = worst[0]
    shown = SUMMARY_SAMPLES
    cause = (
        f"{len(failing)} of {len(results)} subjects failed (more than max_subjects {limit}: summarised); "
        f"the worst: {top.subject}: {top.cause or top.observed}"
        if failing
        else ""
    )
    return [
        replace(
            top,
            subject=task.subject,
            observed=len(failing),
            expected=f"{top.expected} for every subject" if top.expected else "every subject passes",
            cause=cause,
            samples=tuple(
                {"subject": r.subject, "status": r.status.value, "observed": plain(r.observed)} for r in worst[:shown]
            ),
        )
    ]


SUMMARY_SAMPLES = 10


def _magnitude(observed: object) -> float:
    try:
        return float(str(observed).rstrip("%"))
    except ValueError:
        return 0.0


def exit_code(results: Sequence[Result], *, strict: bool = False) -> ExitCode:
    """4 when a source failed (the picture is incomplete), else 1 for problems, 2 (strict) for warnings."""
    if any(result.status is Status.ERROR for result in results):
        return ExitCode.SOURCE_ERROR
    if any(result.is_problem for result in results):
        return ExitCode.PROBLEMS
    if strict and any(result.status in (Status.WARN, Status.FAIL) for result in results):
        return ExitCode.WARNINGS
    return ExitCode.OK
