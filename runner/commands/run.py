"""campaign-guard run: evaluate monitoring and the launch gates due today, and keep the problems."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from runner.builtin.system import check_health, source_health
from runner.deadlines import RUN_DEADLINE, Deadline
from runner.display import Display, count
from runner.engine.evaluation import Evaluation
from runner.engine.execute import evaluate_until
from runner.engine.plan import Task, run_tasks
from runner.engine.result import Result, Status
from runner.engine.schedules import find_schedule, load_schedules, schedules_of
from runner.errors import ExitCode, UsageError
from runner.formats.results import RESULT_REPORTERS
from runner.progress import Progress
from runner.repository import Repository
from runner.schedule_fields import skipped_entries, skipped_files
from runner.store.connect import Store, open_store
from runner.store.failures import StoreFailure
from runner.store.problems import open_problem_count
from runner.store.record import Scope, record
from runner.store.runs import claim, complete, finish_run, start_run


def run(
    root: Path,
    checks: Sequence[str],
    *,
    due: bool = False,
    schedule: str | None = None,
    then_notify: bool = False,
    deadline: float = RUN_DEADLINE,
    output_format: str,
    strict: bool,
    now: datetime,
    verbosity: str = "normal",
    tz: str | None = None,
) -> ExitCode:
    ends = Deadline.start(deadline)
    if then_notify:
        from runner.notify.channels import timeouts

        timeouts()  # a timeout that is not a number stops the run before it evaluates, not after
    display = Display.of(tz)
    repo = Repository(root)
    tasks = run_tasks(repo, now, checks)
    store = open_store(root)
    evaluated: list[Result] = []  # filled as soon as the checks are evaluated, before they are recorded
    try:
        selection = " ".join([*(f"--check {c}" for c in checks), *(["--due"] if due else []), schedule or ""]).strip()
        run_id = start_run(store, "run", selection, now)
        failed = True
        held: HeldByLiveRuns | None = None
        changes: dict[str, int] = {}
        try:
            tasks, fired, member = _select(repo, store, run_id, tasks, now, due=due, schedule=schedule)
            changes, cut = _evaluate(repo, store, run_id, tasks, now, evaluated, ends)
            unfinished = {name for index in cut for name in member[index]}  # they stay due
            complete(store, run_id, [(name, fire) for name, fire in fired if name not in unfinished])
            failed = False
        except HeldByLiveRuns as busy:
            held, failed = busy, False
        finally:
            errors = sum(result.status is Status.ERROR for result in evaluated)
            finish_run(store, run_id, results=len(evaluated), errors=errors, failed=failed)
        problems, warnings = open_problem_count(store)
        undelivered = _notify(store, repo, now) if then_notify else 0
    except StoreFailure:  # the store's one line follows the results it could not keep
        if evaluated:
            sys.stdout.write(RESULT_REPORTERS[output_format](evaluated, verbosity, display))
        raise
    finally:
        store.close()
    if held is not None:  # the live runs evaluate and report: one line, and nothing to count
        print(f"campaign-guard: {held}", file=sys.stderr)
        if output_format == "json":
            sys.stdout.write(RESULT_REPORTERS[output_format](evaluated, verbosity, display))
    else:
        sys.stdout.write(RESULT_REPORTERS[output_format](evaluated, verbosity, display))
        made = ", ".join(f"{count(n)} {kind}" for kind, n in sorted(changes.items())) or "no changes"
        footer = (
            f"Problems: {made}; open now: {count(problems)} problems, {count(warnings)} warnings"
            " (campaign-guard problems list)\n"
        )
        if output_format == "text":  # JSON stays a list of results; the store answers the rest
            sys.stdout.write(footer)
    read = (*RUN_KINDS, *(["subscriptions"] if then_notify else []))
    documents = [document for kind in read for document in repo.documents(kind)]
    skipped = skipped_files(documents)
    for line in skipped:
        print(f"campaign-guard: {line}", file=sys.stderr)
    entries = skipped_entries(documents)
    for line in entries:
        print(f"campaign-guard: {line}", file=sys.stderr)
    if skipped or entries:
        return ExitCode.CONFIG_ERROR  # checks silently missing are worse than a failed run
    if errors or undelivered:
        return ExitCode.SOURCE_ERROR
    if held is not None:
        return ExitCode.OK  # the open problems are the live runs' to report
    if problems:
        return ExitCode.PROBLEMS
    return ExitCode.WARNINGS if strict and warnings else ExitCode.OK


# the configuration a run reads; an invalid file among them means checks were not evaluated
RUN_KINDS = (
    "campaign", "template", "functional_checks", "data_checks", "monitored_tables", "schedules", "thresholds", "sources"
)  # fmt: skip


def _notify(store: Store, repo: Repository, now: datetime) -> int:
    """`notify` in the same process; how many deliveries failed (they stay in the outbox).

    Trouble in notify is one line on stderr: the run's results are printed all the same."""
    from runner.commands.notify import notify

    try:
        _planned, delivered, _due = notify(store, repo, now)
    except StoreFailure:
        raise  # the store's own line, after the results
    except UsageError as trouble:
        print(f"campaign-guard: notify: {trouble}", file=sys.stderr)
        return 1
    failures = {**delivered.retrying, **delivered.failed}
    later = len(delivered.deferred) + delivered.left
    print(
        f"Notifications: {len(delivered.sent)} sent, {len(failures)} not delivered"
        + (f", {later} left for the next run" if later else ""),
        file=sys.stderr,
    )
    for message_id, error in sorted(failures.items()):
        print(f"campaign-guard: message #{message_id} not delivered: {error}", file=sys.stderr)
    return len(failures) + later


def _select(
    repo: Repository, store: Store, run_id: str, tasks: list[Task], now: datetime, *, due: bool, schedule: str | None
) -> tuple[list[Task], list[tuple[str, datetime]], list[set[str]]]:
    """The tasks whose schedules fired (--due) or the named schedule's, claimed for this run.

    Also the fired schedules with their fire times, and the claimed schedules of each task.
    """
    if not due and schedule is None:
        return tasks, [], [set() for _ in tasks]
    schedules = load_schedules(repo)
    wanted = [find_schedule(schedules, schedule)] if schedule else schedules
    membership = [set(schedules_of(task, schedules)) & {s.name for s in wanted} for task in tasks]
    fired = {s.name: s.last_fire(now) for s in wanted if not s.broken and any(s.name in names for names in membership)}
    claimed, busy = claim(store, run_id, fired, force=schedule is not None)
    if busy and not claimed and all(other.alive for other in busy.values()):
        raise HeldByLiveRuns(sorted({str(other) for other in busy.values()}))
    for name, other in sorted(busy.items()):
        print(f"campaign-guard: schedule {name!r} is being evaluated by {other}; skipped", file=sys.stderr)
    chosen = [(task, names & claimed) for task, names in zip(tasks, membership, strict=True) if names & claimed]
    evaluated = [(name, fire if fire is not None else now) for name, fire in fired.items() if name in claimed]
    return [task for task, _ in chosen], evaluated, [names for _, names in chosen]


class HeldByLiveRuns(Exception):
    """Every due schedule is claimed by runs whose processes are alive: nothing to do, and that is fine."""

    def __init__(self, runs: list[str]) -> None:
        super().__init__(f"every due schedule is being evaluated by {', '.join(runs)}; nothing to do")


def _evaluate(
    repo: Repository,
    store: Store,
    run_id: str,
    tasks: list[Task],
    now: datetime,
    evaluated: list[Result],
    deadline: Deadline,
) -> tuple[dict[str, int], set[int]]:
    """Evaluate the tasks into `evaluated`, then record them; the changes to the problems.

    Also the indexes of the tasks the deadline cut off: error results, which resolve nothing.
    """
    ev = Evaluation.with_store(repo, now, store)
    progress = Progress()  # "[37/141] checks" on a terminal's stderr, nothing elsewhere
    progress.count(0, len(tasks), "checks")
    try:
        answers, cut = evaluate_until(tasks, ev, deadline, partial(progress.count, what="checks"))
    finally:
        ev.close()
        progress.end()
    evaluated.extend(result for answer in answers for result in answer)
    # stored, not printed: the error results above already say what failed, the store remembers it
    health = [*source_health(evaluated, (source.name for source in ev.opened)), *check_health(evaluated)]
    finished = [
        Scope(task.check, task.campaign)
        for task, answer in zip(tasks, answers, strict=True)
        if not any(result.status is Status.ERROR for result in answer)
    ]
    thresholds = repo.thresholds
    changes = record(
        store,
        run_id,
        evaluated + health,
        now,
        finished,
        escalate_after=thresholds["warning_escalation_occurrences"],
        retention_days=thresholds["history_retention_days"],
    )
    return dict(changes), cut
