"""campaign-guard run: evaluate monitoring and the launch gates due today, and keep the problems."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from pathlib import Path

from runner.builtin.system import check_health, source_health
from runner.display import Display, count
from runner.engine.evaluation import Evaluation
from runner.engine.execute import evaluate_each
from runner.engine.plan import Task, run_tasks
from runner.engine.result import Result, Status
from runner.engine.schedules import find_schedule, load_schedules, schedules_of
from runner.errors import ExitCode, UsageError
from runner.progress import Progress
from runner.reporters.results import RESULT_REPORTERS
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
    output_format: str,
    strict: bool,
    now: datetime,
    verbosity: str = "normal",
    tz: str | None = None,
) -> ExitCode:
    display = Display.of(tz)
    repo = Repository(root)
    tasks = run_tasks(repo, now, checks)
    store = open_store(root)
    evaluated: list[Result] = []  # filled as soon as the checks are evaluated, before they are recorded
    try:
        selection = " ".join([*(f"--check {c}" for c in checks), *(["--due"] if due else []), schedule or ""]).strip()
        run_id = start_run(store, "run", selection, now)
        failed = True
        try:
            tasks, fired = _select(repo, store, run_id, tasks, now, due=due, schedule=schedule)
            changes = _evaluate(repo, store, run_id, tasks, now, evaluated)
            complete(store, run_id, fired)
            failed = False
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
    print(f"Notifications: {len(delivered.sent)} sent, {len(failures)} not delivered", file=sys.stderr)
    for message_id, error in sorted(failures.items()):
        print(f"campaign-guard: message #{message_id} not delivered: {error}", file=sys.stderr)
    return len(failures)


def _select(
    repo: Repository, store: Store, run_id: str, tasks: list[Task], now: datetime, *, due: bool, schedule: str | None
) -> tuple[list[Task], list[tuple[str, datetime]]]:
    """The tasks whose schedules fired (--due) or the named schedule's, claimed for this run."""
    if not due and schedule is None:
        return tasks, []
    schedules = load_schedules(repo)
    wanted = [find_schedule(schedules, schedule)] if schedule else schedules
    membership = [set(schedules_of(task, schedules)) & {s.name for s in wanted} for task in tasks]
    fired = {s.name: s.last_fire(now) for s in wanted if not s.broken and any(s.name in names for names in membership)}
    claimed, busy = claim(store, run_id, fired, force=schedule is not None)
    for name, other in sorted(busy.items()):
        print(f"campaign-guard: schedule {name!r} is being evaluated by run {other}; skipped", file=sys.stderr)
    selected = [task for task, names in zip(tasks, membership, strict=True) if names & claimed]
    return selected, [(name, fire if fire is not None else now) for name, fire in fired.items() if name in claimed]


def _evaluate(
    repo: Repository, store: Store, run_id: str, tasks: list[Task], now: datetime, evaluated: list[Result]
) -> dict[str, int]:
    """Evaluate the tasks into `evaluated`, then record them; the changes to the problems."""
    ev = Evaluation.with_store(repo, now, store)
    progress = Progress()  # "[37/141] checks" on a terminal's stderr, nothing elsewhere
    progress.count(0, len(tasks), "checks")
    try:
        answers = evaluate_each(tasks, ev, partial(progress.count, what="checks"))
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
    return dict(changes)
