"""Problem lifecycle in the state store (SPEC section 4), on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner.engine.result import Result, Status
from runner.findings import Severity
from runner.store.actions import act
from runner.store.connect import Store, open_store
from runner.store.lifecycle import fingerprint
from runner.store.problems import ProblemFilter, events_of, list_problems
from runner.store.record import Scope, record
from runner.store.runs import start_run
from runner.store.tables import problem_events, problems, results
from tests.databases import scratch_database

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def verdict(
    status: Status,
    subject: str = "WELCOME10",
    check: str = "monitor.promo_pool_low",
    severity: Severity = Severity.PROBLEM,
    observed: Any = 37,
    campaign: str | None = None,
) -> Result:
    return Result(
        check,
        subject,
        Severity.WARNING if status is Status.WARN else severity,
        "promo_pool",
        status,
        "Promo pool running dry",
        observed=observed,
        expected=">= 100",
        cause="37 free codes left",
        hint="Load new codes",
        campaign=campaign,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with scratch_database(request.param, tmp_path) as url:
        opened = open_store(tmp_path, {"CAMPAIGN_GUARD_STATE_URL": url})
        try:
            yield opened
        finally:
            opened.close()


def apply(store: Store, minutes: int, *verdicts: Result, scopes: tuple[Scope, ...] = (), escalate_after: int = 0):
    run_id = start_run(store, "run", "", at(minutes))
    return dict(record(store, run_id, list(verdicts), at(minutes), scopes, escalate_after=escalate_after))


def the_problem(store: Store, subject: str = "WELCOME10", check: str = "monitor.promo_pool_low") -> dict[str, Any]:
    found, _ = list_problems(store, ProblemFilter(statuses=("open", "acknowledged", "muted", "resolved")))
    (problem,) = [p for p in found if p["fingerprint"] == fingerprint(check, subject)]
    return problem


def history(store: Store, problem: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(event["kind"], event["note"]) for event in events_of(store, problem["id"])]


def test_open_update_resolve_reopen(store: Store) -> None:
    assert apply(store, 0, verdict(Status.FAIL)) == {"opened": 1}
    assert apply(store, 5, verdict(Status.FAIL, observed=12)) == {}
    problem = the_problem(store)
    assert (problem["status"], problem["occurrences"], problem["observed"]) == ("open", 2, 12)
    assert (problem["first_seen"], problem["last_seen"]) == (at(0).isoformat(), at(5).isoformat())

    assert apply(store, 10, verdict(Status.PASS)) == {"resolved": 1}
    assert apply(store, 15, verdict(Status.PASS)) == {}
    assert apply(store, 20, verdict(Status.FAIL, observed=3)) == {"reopened": 1}
    problem = the_problem(store)
    assert (problem["status"], problem["occurrences"], problem["regressions"], problem["observed"]) == (
        "open",
        3,
        1,
        3,
    )
    assert problem["resolved_at"] is None
    assert history(store, problem) == [("opened", None), ("resolved", None), ("reopened", None)]


def test_every_result_is_kept_as_history(store: Store) -> None:
    apply(store, 0, verdict(Status.FAIL, observed=37), verdict(Status.PASS, subject="BDAY", observed=900))
    apply(store, 5, verdict(Status.PASS, observed=150))
    with store.read() as connection:
        rows = connection.execute(
            sa.select(results.c.subject, results.c.status, results.c.value).order_by(results.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("WELCOME10", "fail", 37.0),
        ("BDAY", "pass", 900.0),
        ("WELCOME10", "pass", 150.0),
    ]


def test_a_late_or_replayed_result_never_changes_a_newer_verdict(store: Store) -> None:
    apply(store, 0, verdict(Status.FAIL))
    apply(store, 10, verdict(Status.PASS))
    assert apply(store, 5, verdict(Status.FAIL)) == {}  # evaluated before the pass that resolved it
    assert apply(store, 10, verdict(Status.FAIL)) == {}  # replayed: same evaluation time
    problem = the_problem(store)
    assert (problem["status"], problem["occurrences"], problem["regressions"]) == ("resolved", 1, 0)
    assert history(store, problem) == [("opened", None), ("resolved", None)]


def test_a_finished_check_resolves_the_subjects_it_no_longer_reports(store: Store) -> None:
    apply(store, 0, verdict(Status.FAIL, subject="A"), verdict(Status.FAIL, subject="B"))
    assert apply(store, 5, verdict(Status.FAIL, subject="A"), scopes=(Scope("monitor.promo_pool_low"),)) == {
        "resolved": 1
    }
    assert the_problem(store, "B")["status"] == "resolved"
    assert the_problem(store, "A")["status"] == "open"


def test_a_check_that_did_not_finish_resolves_nothing(store: Store) -> None:
    apply(store, 0, verdict(Status.FAIL))
    assert apply(store, 5, verdict(Status.ERROR)) == {}  # no scope: its source failed
    problem = the_problem(store)
    assert (problem["status"], problem["occurrences"]) == ("open", 1)


def test_a_launch_gate_resolves_only_its_own_campaign(store: Store) -> None:
    gate = "gate.audience_over_max_clients"
    apply(
        store,
        0,
        verdict(Status.FAIL, subject="birthday_bonus/sms", check=gate, campaign="birthday_bonus"),
        verdict(Status.FAIL, subject="vip/email", check=gate, campaign="vip"),
    )
    assert apply(store, 5, scopes=(Scope(gate, "birthday_bonus"),)) == {"resolved": 1}
    assert the_problem(store, "birthday_bonus/sms", gate)["status"] == "resolved"
    assert the_problem(store, "vip/email", gate)["status"] == "open"


def test_a_warning_that_keeps_failing_escalates_once(store: Store) -> None:
    for minutes in range(0, 25, 5):
        apply(store, minutes, verdict(Status.WARN), escalate_after=3)
    problem = the_problem(store)
    assert (problem["severity"], problem["escalated"], problem["occurrences"]) == ("problem", True, 5)
    assert history(store, problem) == [("opened", None), ("escalated", "a warning 3 runs in a row")]
    apply(store, 30, verdict(Status.PASS), escalate_after=3)
    apply(store, 35, verdict(Status.WARN), escalate_after=3)
    assert the_problem(store)["severity"] == "warning"  # reopened: the count starts again


def test_crossing_the_fail_level_escalates_and_falling_back_does_not_announce(store: Store) -> None:
    apply(store, 0, verdict(Status.WARN))
    apply(store, 5, verdict(Status.FAIL))
    apply(store, 10, verdict(Status.WARN))
    problem = the_problem(store)
    assert problem["severity"] == "warning"
    assert history(store, problem) == [("opened", None), ("escalated", "the fail level was crossed")]


def test_acknowledged_and_muted_problems_keep_counting(store: Store) -> None:
    apply(store, 0, verdict(Status.FAIL))
    act(
        store,
        fingerprint("monitor.promo_pool_low", "WELCOME10"),
        "acknowledged",
        actor="olga",
        note="on it",
        moment=at(1),
    )
    apply(store, 5, verdict(Status.FAIL))
    assert (the_problem(store)["status"], the_problem(store)["occurrences"]) == ("acknowledged", 2)

    act(
        store,
        fingerprint("monitor.promo_pool_low", "WELCOME10")[:6],
        "muted",
        actor="olga",
        note=None,
        moment=at(6),
        muted_until=at(12),
    )
    apply(store, 10, verdict(Status.FAIL))
    problem = the_problem(store)
    assert (problem["status"], problem["occurrences"]) == ("muted", 3)
    apply(store, 15, verdict(Status.FAIL))  # the mute ran out at 12
    problem = the_problem(store)
    assert (problem["status"], problem["occurrences"], problem["muted_until"]) == ("open", 4, None)
    assert history(store, problem) == [
        ("opened", None),
        ("acknowledged", "on it"),
        ("muted", f"until {at(12).isoformat()}"),
        ("unmuted", "the mute ran out"),
    ]


def test_a_manually_resolved_problem_that_fails_again_is_a_regression(store: Store) -> None:
    apply(store, 0, verdict(Status.FAIL))
    act(
        store,
        fingerprint("monitor.promo_pool_low", "WELCOME10"),
        "resolved",
        actor="olga",
        note="codes loaded",
        moment=at(1),
    )
    assert apply(store, 5, verdict(Status.FAIL)) == {"reopened": 1}
    problem = the_problem(store)
    assert (problem["status"], problem["regressions"]) == ("open", 1)
    events = events_of(store, problem["id"])
    assert [(e["kind"], e["actor"], e["note"]) for e in events] == [
        ("opened", None, None),
        ("resolved", "olga", "codes loaded"),
        ("reopened", None, None),
    ]


def _record_runs(url: str, root: str, offset: int, barrier: Any) -> None:
    store = open_store(Path(root), {"CAMPAIGN_GUARD_STATE_URL": url})
    barrier.wait()
    for step in range(15):
        moment = at(2 * step + offset)
        batch = [verdict(Status.FAIL, subject=f"POOL{n:02d}", observed=step) for n in range(40)]
        record(store, start_run(store, "run", "", moment), batch, moment, [Scope("monitor.promo_pool_low")])
    store.close()


def test_two_runners_at_once_never_duplicate_a_problem_or_lose_a_result(store: Store, tmp_path: Path) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_record_runs, args=(url, str(tmp_path), offset, barrier)) for offset in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with store.read() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(problems)).scalar_one() == 40
        kinds = connection.execute(sa.select(problem_events.c.kind, sa.func.count()).group_by(problem_events.c.kind))
        assert {kind: count for kind, count in kinds} == {"opened": 40}
        assert connection.execute(sa.select(sa.func.count()).select_from(results)).scalar_one() == 2 * 15 * 40
        occurrences = connection.execute(sa.select(problems.c.occurrences)).scalars().all()
    # a result older than one already applied is skipped, so each problem counts between 15 and 30
    assert all(15 <= count <= 30 for count in occurrences)
