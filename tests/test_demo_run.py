"""The demo CRM on every backend: `run` and `check` find exactly the documented faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from runner.builtin.declarations import BUILTIN_CHECKS, GATE_CHECKS
from runner.demo.faults import FAULTS, REPORTED

from .conftest import run_cli
from .databases import BACKENDS, scratch_database

LAUNCH_DAY = "2026-12-01T11:00:00+03:00"  # a Tuesday and the 1st: churn and VIP campaigns are due
OTHER_DAY = "2026-12-02T11:00:00+03:00"
FIELDS = {
    "check",
    "subject",
    "severity",
    "localization",
    "status",
    "title",
    "observed",
    "expected",
    "cause",
    "hint",
    "campaign",
    "owner",
    "location",
    "source",
    "samples",
}


@pytest.fixture(scope="module", params=BACKENDS)
def demo_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with scratch_database(request.param, tmp_path_factory.mktemp(request.param)) as url:
        built = run_cli("demo", "--scale", "0.01", "--now", LAUNCH_DAY, "--url", url)
        assert built.returncode == 0, built.stderr
        yield url


def run_json(url: str, *args: str) -> tuple[int, list[dict[str, object]]]:
    done = run_cli(*args, "--format", "json", env={"CAMPAIGN_GUARD_DEMO_URL": url})
    assert done.stderr == ""
    return done.returncode, json.loads(done.stdout)


def findings(results: list[dict[str, object]]) -> set[tuple[object, object, object]]:
    return {(r["check"], r["subject"], r["status"]) for r in results if r["status"] != "pass"}


def test_run_finds_exactly_the_documented_faults(demo_url: str):
    code, results = run_json(demo_url, "run", "--now", LAUNCH_DAY)
    assert findings(results) == {(f.check, f.subject, f.status) for f in FAULTS}
    assert code == 1
    assert all(set(result) == FIELDS for result in results)
    reported = [(r["subject"], r["observed"]) for r in results if r["check"] in REPORTED]
    assert reported == [("vip_bonus_accrual/live", "1 live launches, 25 clients")]


def test_launch_gate_faults_wait_for_the_campaigns_launch_day(demo_url: str):
    _code, results = run_json(demo_url, "run", "--now", OTHER_DAY, "--check", "gate.*")
    gated = {r["subject"] for r in results}
    assert gated and all(str(s).startswith(("birthday_bonus", "SEG_BIRTHDAY")) for s in gated)


def test_check_button_runs_every_gate_check_of_one_campaign(demo_url: str):
    code, results = run_json(demo_url, "check", "vip_bonus_accrual", "--now", LAUNCH_DAY)
    assert code == 1
    assert {r["check"] for r in results} == {c.id for c in GATE_CHECKS}
    failing = {(r["check"], r["subject"]) for r in results if r["status"] == "fail"}
    assert failing == {
        ("gate.audience_over_max_clients", "vip_bonus_accrual/vip_email_en"),
        ("gate.second_live_launch", "vip_bonus_accrual/accrue_bonus"),
        ("gate.bonus_over_cap", "vip_bonus_accrual"),
    }
    over = next(r for r in results if r["check"] == "gate.audience_over_max_clients" and r["status"] == "fail")
    assert (over["observed"], over["expected"], over["location"]) == (
        3400,
        "<= 3000",
        "campaigns/vip_bonus_accrual.yaml:58",
    )


def test_check_text_shows_observed_expected_and_verdict():
    done = run_cli("check", "birthday_bonus", "-v", "--now", LAUNCH_DAY, env={"CAMPAIGN_GUARD_DEMO_URL": "sqlite://"})
    # an empty in-memory database: the source answers "no such table" for every check
    assert done.returncode == 4
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Launch gate of birthday_bonus (campaigns/birthday_bonus.yaml)")
    assert lines[1].split() == [
        "pass",
        "gate.outbound_stopped",
        "birthday_bonus",
        "observed",
        "running",
        "expected",
        "outbound",
        "running",
    ]
    assert "ERROR" in lines[2] and "gate.audience_over_max_clients" in lines[2]
    unwrapped = " ".join(line.strip() for line in lines)  # long lines wrap at 100 columns in a pipe
    assert (
        "source 'demo': dataset target_group_members -> target_group_members (rules/sources.yaml:15): no such table"
        in unwrapped
    )


def test_an_unreachable_source_is_an_error_result_per_check_and_exit_4():
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"
    code, results = run_json(url, "run", "--now", LAUNCH_DAY, "--check", "monitor.queue_size", "--check", "promo.*")
    assert code == 4
    assert [(r["check"], r["status"], r["source"]) for r in results] == [
        ("monitor.queue_size", "error", "demo"),
        ("promo.two_codes_same_type", "error", "demo"),
        ("promo.issued_without_customer", "error", "demo"),
    ]
    assert all(
        "cannot connect to postgresql+psycopg://postgres@127.0.0.1:1/nowhere" in str(r["cause"]) for r in results
    )


def test_unknown_campaign_and_unknown_check_are_usage_errors():
    unknown = run_cli("check", "no_such_campaign")
    assert unknown.returncode == 3
    assert "no campaign 'no_such_campaign' in campaigns/" in unknown.stderr
    pattern = run_cli("run", "--check", "nothing.*")
    assert pattern.returncode == 3
    assert "--check 'nothing.*' matches no check" in pattern.stderr


def test_demo_refuses_to_overwrite_a_database_that_is_not_a_demo(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE customers (id INTEGER)"))
        connection.execute(sa.text("INSERT INTO customers VALUES (1)"))
    done = run_cli("demo", "--scale", "0.01", "--url", url)
    assert done.returncode == 3
    assert "is not a demo database; refusing to overwrite it" in done.stderr
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT id FROM customers")).all() == [(1,)]
    engine.dispose()


def test_every_built_in_data_check_has_a_demo_fault_or_only_reports():
    # the big red button is state, not data: tests/test_outbound.py presses it
    pressed = {"gate.outbound_stopped"}
    assert {fault.check for fault in FAULTS} | set(REPORTED) | pressed >= {check.id for check in BUILTIN_CHECKS}
