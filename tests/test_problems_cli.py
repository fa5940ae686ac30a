"""`run` keeps problems; `problems list|show|ack|mute|resolve`; schedules and `run --due`."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.demo.faults import FAULTS

from .conftest import ROOT, run_cli

LAUNCH_DAY = "2026-12-01T11:00:00+03:00"
LATER = "2026-12-01T11:07:00+03:00"
RERUN = "2026-12-01T11:00:01+03:00"  # the demo is a still picture taken at 11:00: judge it again just after
FAULT_SUBJECTS = {(fault.check, fault.subject) for fault in FAULTS}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    directory = tmp_path_factory.mktemp("demo")
    env = {"CAMPAIGN_GUARD_DEMO_URL": f"sqlite:///{directory / 'demo.db'}"}
    built = run_cli("demo", "--scale", "0.01", "--now", LAUNCH_DAY, env=env)
    assert built.returncode == 0, built.stderr
    yield env


def listed(env: dict[str, str], *filters: str) -> list[dict[str, object]]:
    done = run_cli("problems", "list", "--format", "json", "--now", LATER, *filters, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_run_opens_one_problem_per_fault_and_exits_1(demo: dict[str, str]) -> None:
    done = run_cli("run", "--now", LAUNCH_DAY, env=demo)
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == (
        "Problems: 27 opened; open now: 21 problems, 6 warnings (campaign-guard problems list)"
    )
    problems = listed(demo)
    assert {(p["check"], p["subject"]) for p in problems} == FAULT_SUBJECTS
    assert [p["severity"] for p in problems] == ["problem"] * 21 + ["warning"] * 6
    assert set(problems[0]) >= {
        "fingerprint", "check", "subject", "severity", "localization", "status", "title", "cause", "hint",
        "campaign", "link", "owner", "first_seen", "last_seen", "occurrences", "regressions",
    }  # fmt: skip
    assert {p["status"] for p in problems} == {"open"}
    assert {p["first_seen"] for p in problems} == {"2026-12-01T08:00:00+00:00"}


def test_a_second_run_counts_occurrences_and_filters_select(demo: dict[str, str]) -> None:
    run_cli("run", "--now", LAUNCH_DAY, env=demo)
    again = run_cli("run", "--now", RERUN, env=demo)
    assert again.stdout.splitlines()[-1] == (
        "Problems: no changes; open now: 21 problems, 6 warnings (campaign-guard problems list)"
    )
    assert {p["occurrences"] for p in listed(demo)} == {2}
    promo = listed(demo, "--localization", "promo_pool")
    assert [(p["check"], p["subject"]) for p in promo] == [
        ("promo.two_codes_same_type", "promo.two_codes_same_type"),
        ("monitor.promo_pool_low", "WELCOME10"),
    ]
    assert [p["subject"] for p in listed(demo, "--campaign", "vip_*", "--check", "campaign.*")] == [
        "vip_bonus_accrual"
    ] * 5
    assert listed(demo, "--since", "2m") == []  # all were first seen 7 minutes before LATER
    assert len(listed(demo, "--older-than", "5m")) == 27
    assert listed(demo, "--min-regressions", "1") == []
    assert len(listed(demo, "--min-occurrences", "2", "--severity", "warning")) == 6


def test_list_as_csv_and_text(demo: dict[str, str]) -> None:
    run_cli("run", "--now", LAUNCH_DAY, "--check", "monitor.promo_pool_low", env=demo)
    done = run_cli("problems", "list", "--format", "csv", env=demo)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["check"], r["subject"], r["severity"], r["status"], r["occurrences"]) for r in rows] == [
        ("monitor.promo_pool_low", "WELCOME10", "warning", "open", "1")
    ]
    text = run_cli("problems", "list", "--tz", "Europe/Moscow", env=demo).stdout.splitlines()
    fingerprint = rows[0]["fingerprint"]
    assert text == [
        "FINGERPRINT       SEVERITY  STATUS  SEEN  LAST SEEN                TITLE                        CHECK"
        "                   SUBJECT",
        f"{fingerprint}  warning   open       1  2026-12-01 11:00 +03:00  Promo-code pool running dry"
        "  monitor.promo_pool_low  WELCOME10",
        "1 problems ('!' marks a regression; campaign-guard problems show FINGERPRINT for the card)",
    ]


def test_show_ack_mute_resolve_and_the_card(demo: dict[str, str]) -> None:
    run_cli("run", "--now", LAUNCH_DAY, "--check", "monitor.promo_pool_low", env=demo)
    (problem,) = listed(demo)
    short = str(problem["fingerprint"])[:8]
    ack = run_cli("problems", "ack", short, "--by", "olga", "--note", "loading codes", "--now", LATER, env=demo)
    assert ack.returncode == 0
    assert ack.stdout == f"{problem['fingerprint']} monitor.promo_pool_low WELCOME10: open -> acknowledged\n"
    assert listed(demo, "--status", "open") == []
    mute = run_cli("problems", "mute", short, "--for", "2h", "--by", "olga", "--now", LATER, "--tz", "UTC", env=demo)
    assert mute.stdout.endswith("acknowledged -> muted until 2026-12-01 10:07 UTC\n")
    card = run_cli("problems", "show", short, "--tz", "Europe/Moscow", env=demo).stdout.splitlines()
    assert card[0] == "Promo-code pool running dry  [warning, muted]"
    assert "  localization  promo_pool" in card
    assert any(line.startswith("  fix           ") for line in card)
    assert card[-3:] == [
        "    2026-12-01 11:00 +03:00  opened (warning)",
        "    2026-12-01 11:07 +03:00  acknowledged by olga (warning): loading codes",
        "    2026-12-01 11:07 +03:00  muted by olga (warning): until 2026-12-01T13:07:00+03:00",
    ]
    resolve = run_cli("problems", "resolve", short, "--by", "olga", "--now", LATER, env=demo)
    assert resolve.returncode == 0
    again = run_cli("problems", "resolve", short, "--now", LATER, env=demo)
    assert (again.returncode, again.stderr) == (
        3,
        f"campaign-guard: problem {problem['fingerprint']} is resolved; it cannot be resolved\n",
    )
    reopened = run_cli("run", "--now", "2026-12-01T11:30:00+03:00", "--check", "monitor.promo_pool_low", env=demo)
    assert reopened.stdout.splitlines()[-1].startswith("Problems: 1 reopened;")
    (after,) = listed(demo)
    assert (after["status"], after["regressions"]) == ("open", 1)


def test_muted_problems_do_not_fail_the_run(demo: dict[str, str]) -> None:
    first = run_cli("run", "--now", LAUNCH_DAY, "--check", "monitor.queue_size", env=demo)
    assert first.returncode == 1
    (problem,) = listed(demo)
    run_cli("problems", "mute", str(problem["fingerprint"]), "--for", "1d", "--now", LAUNCH_DAY, env=demo)
    second = run_cli("run", "--now", RERUN, "--check", "monitor.queue_size", env=demo)
    assert second.returncode == 0
    assert (
        second.stdout.splitlines()[-1]
        == "Problems: no changes; open now: 0 problems, 0 warnings (campaign-guard problems list)"
    )


def test_unknown_fingerprint_and_bad_age_are_usage_errors(demo: dict[str, str]) -> None:
    run_cli("notify", env=demo)  # a store, without problems
    done = run_cli("problems", "show", "ffffffff", env=demo)
    assert (done.returncode, done.stderr) == (
        3,
        "campaign-guard: no problem with fingerprint 'ffffffff' (campaign-guard problems list --status all)\n",
    )
    bad = run_cli("problems", "list", "--since", "2 hours", env=demo)
    assert bad.returncode == 3 and "'2 hours' is not a duration" in bad.stderr


def checks_of(done: subprocess.CompletedProcess[str]) -> list[tuple[str, str]]:
    try:
        results = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"not JSON: {done.stdout[:500]!r}; stderr: {done.stderr[-2000:]}")
    return sorted((r["check"], r["subject"]) for r in results)


def test_run_due_evaluates_each_schedule_once_per_firing(demo: dict[str, str]) -> None:
    first = run_cli("run", "--due", "--format", "json", "--now", "2026-12-01T11:01:00+03:00", env=demo)
    everything = run_cli("run", "--format", "json", "--now", "2026-12-01T11:01:00+03:00", env=demo)
    assert checks_of(first) == checks_of(everything)  # the first run ever: every schedule is due
    again = run_cli("run", "--due", "--format", "json", "--now", "2026-12-01T11:03:00+03:00", env=demo)
    # nothing fired since 11:00 but the checks no schedule selects (evaluated every run)
    assert {check for check, _ in checks_of(again)} == {
        "transactions.flowing",
        "transactions.hourly_volume",
        "webhooks.registration_fresh",
    }
    later = run_cli("run", "--due", "--format", "json", "--now", "2026-12-01T11:05:00+03:00", env=demo)
    operations = {"monitor.new_errors", "monitor.queue_size", "monitor.availability", "monitor.table_freshness",
                  "monitor.webhook_error_rate", "monitor.cancelled_jobs"}  # fmt: skip
    assert {check for check, _ in checks_of(later)} == operations | {check for check, _ in checks_of(again)}


def test_run_schedule_evaluates_one_schedule_now(demo: dict[str, str]) -> None:
    done = run_cli("run", "--schedule", "morning", "--format", "json", "--now", LAUNCH_DAY, env=demo)
    results = json.loads(done.stdout)
    assert {r["check"] for r in results} == {"monitor.duplicate_participation"}
    assert [r["subject"] for r in results if r["status"] != "pass"] == ["welcome_chain"]
    unknown = run_cli("run", "--schedule", "nightly", "--now", LAUNCH_DAY, env=demo)
    assert unknown.returncode == 3
    assert unknown.stderr.startswith("campaign-guard: --schedule 'nightly': no such schedule in rules/schedules.yaml")


def test_two_due_runs_at_once_never_evaluate_the_same_check_twice(demo: dict[str, str]) -> None:
    args = [sys.executable, "-m", "runner", "run", "--due", "--format", "json", "--now", "2026-12-01T11:01:00+03:00"]
    env = {**os.environ, **demo}
    processes = [
        subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300) for process in processes]
    # 1: problems are open; 0: the run that skipped the other's schedules looked before they were stored
    assert {process.returncode for process in processes} <= {0, 1}, [err for _, err in outputs]
    together = sorted(
        pair for out, err in outputs for pair in checks_of(subprocess.CompletedProcess(args, 0, out, err))
    )
    alone = checks_of(run_cli("run", "--format", "json", "--now", "2026-12-01T11:01:00+03:00", env=demo))
    every_run = {"transactions.flowing", "transactions.hourly_volume", "webhooks.registration_fresh"}
    scheduled = [pair for pair in together if pair[0] not in every_run]
    assert scheduled == [pair for pair in alone if pair[0] not in every_run]


def test_a_check_or_campaign_with_its_own_cron_follows_it(demo: dict[str, str], repo_copy: Path) -> None:
    checks = repo_copy / "rules/checks/crm_health.yaml"
    checks.write_text(
        checks.read_text().replace(
            "  - id: transactions.flowing\n", '  - id: transactions.flowing\n    schedule: "0 3 * * *"\n'
        )
    )
    campaign = repo_copy / "campaigns/churn_reactivation.yaml"
    campaign.write_text(campaign.read_text().replace("  type: weekly\n", '  type: weekly\n  gate_cron: "0 5 * * *"\n'))

    def due(moment: str) -> set[str]:
        done = run_cli("run", "--due", "--format", "json", "--now", moment, cwd=repo_copy, env=demo)
        assert done.returncode in (0, 1), done.stderr
        return {
            f"{r['check']}@{r['campaign']}" if r["check"].startswith("gate.") else r["check"]
            for r in json.loads(done.stdout)
        }

    first = due("2026-12-01T11:01:00+03:00")  # the first run: everything is due
    assert {"transactions.flowing", "gate.dedup_window@churn_reactivation", "gate.dedup_window@birthday_bonus"} <= first
    later = due("2026-12-01T11:16:00+03:00")  # launch-gates fired at 11:15, the own crons did not
    assert "transactions.flowing" not in later
    assert "gate.dedup_window@birthday_bonus" in later
    assert "gate.dedup_window@churn_reactivation" not in later


def test_a_failing_source_is_a_system_problem_until_it_answers_again(demo: dict[str, str]) -> None:
    broken = {"CAMPAIGN_GUARD_DEMO_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"}
    failed = run_cli(
        "run", "--check", "monitor.queue_size", "--check", "monitor.new_dumps", "--now", LAUNCH_DAY, env=broken
    )
    assert failed.returncode == 4
    (problem,) = listed(broken)
    assert (problem["check"], problem["subject"], problem["severity"], problem["localization"]) == (
        "system.source_failed",
        "demo",
        "problem",
        "system",
    )
    assert problem["observed"] == 2
    assert str(problem["cause"]).startswith(
        "2 checks could not be evaluated (monitor.new_dumps, monitor.queue_size): source 'demo': cannot connect"
    )
    answered = run_cli("run", "--check", "monitor.queue_size", "--now", RERUN, env=demo)
    assert answered.stdout.splitlines()[-1].startswith("Problems: 1 opened, 1 resolved;")
    assert [(p["check"], p["status"]) for p in listed(demo, "--check", "system.*", "--status", "all")] == [
        ("system.source_failed", "resolved")
    ]


def test_an_invalid_rules_file_is_skipped_loudly_and_the_run_exits_3(demo: dict[str, str], repo_copy: Path) -> None:
    broken = repo_copy / "rules/checks/crm_health.yaml"
    broken.write_text(broken.read_text().replace("    type: new_rows\n", "    type: newrows\n", 1))
    done = run_cli("run", "--now", LAUNCH_DAY, "--format", "json", cwd=repo_copy, env=demo)
    assert done.returncode == 3
    assert done.stderr == (
        "campaign-guard: rules/checks/crm_health.yaml is invalid and was skipped; "
        "run `campaign-guard validate rules/checks/crm_health.yaml`\n"
    )
    checks = {r["check"] for r in json.loads(done.stdout)}
    assert "monitor.queue_size" in checks and "transactions.flowing" not in checks  # the others still ran


def test_notify_refuses_an_invalid_subscriptions_file(repo_copy: Path) -> None:
    subscriptions = repo_copy / "rules/subscriptions.yaml"
    subscriptions.write_text(subscriptions.read_text().replace("mode: digest", "mode: hourly", 1))
    done = run_cli("notify", "--now", LAUNCH_DAY, cwd=repo_copy)
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == (
        "campaign-guard: rules/subscriptions.yaml is invalid: nobody would be notified; "
        "run `campaign-guard validate rules/subscriptions.yaml`\n"
    )
