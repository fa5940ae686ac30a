"""`campaign-guard test`: rule unit tests kept in the repository (rules/tests/*.yaml).

Every shipped rule and campaign has a test, and the command reports exactly what differs.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from runner.builtin.declarations import BUILTIN_CHECKS
from runner.demo.faults import REPORTED
from runner.ruletests.fixtures import Clock, Mistake, fixture_tables

from .conftest import ROOT, run_cli

POOL_TEST = """\
tests:
  - name: promo pool below its minimum
    now: "2026-12-01T11:00:00+03:00"
    checks: [monitor.promo_pool_low]
    fixtures:
      promo_codes:
        - repeat: 37
          row: {pool_id: WELCOME10, code: "W-{n}", code_type: welcome, status: free}
        - repeat: 100
          row: {pool_id: COMEBACK15, code: "C-{n}", code_type: comeback, status: free}
    expect:
      - {check: monitor.promo_pool_low, subject: WELCOME10, severity: warning, observed: 37}
"""


BROKEN_RULE = """
  - id: bonus.broken_rule
    title: A rule whose query names a column that does not exist
    source: demo
    severity: problem
    localization: bonus
    sql: SELECT accrual_id FROM bonus_accruals WHERE amont <= 0
    hint: Fix the column name.
"""


def own_tests(repo: Path, text: str, name: str = "pool.yaml") -> None:
    """Replace the shipped rule tests of a repository copy with one file."""
    for path in (repo / "rules/tests").glob("*.yaml"):
        path.unlink()
    (repo / "rules/tests" / name).write_text(textwrap.dedent(text), encoding="utf-8")


def run_tests(repo: Path, *args: str) -> Any:
    return run_cli("test", *args, cwd=repo)


# --- the shipped tests -------------------------------------------------------------------------


def test_the_shipped_rule_tests_pass():
    result = run_cli("test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert all(line.startswith("PASS   rules/tests/") for line in lines[:-1])
    assert lines[-1] == f"{len(lines) - 1} rule tests: {len(lines) - 1} passed, 0 failed, 0 errors"


def _shipped_tests() -> list[dict[str, Any]]:
    return [
        test
        for path in sorted((ROOT / "rules/tests").glob("*.yaml"))
        for test in yaml.safe_load(path.read_text())["tests"]
    ]


def _checks_of(path: str) -> list[dict[str, Any]]:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))["checks"]  # type: ignore[no-any-return]


def test_every_rule_and_campaign_has_a_rule_test():
    """A new check, monitored table or campaign without a rule test fails CI."""
    tests = _shipped_tests()
    expected = {(item["check"], item["subject"]) for test in tests for item in test["expect"]}
    found_checks = {check for check, _subject in expected}
    configured = _checks_of("rules/functional_checks.yaml") + [
        check for path in sorted((ROOT / "rules/checks").glob("*.yaml")) for check in _checks_of(str(path))
    ]
    assert {check["id"] for check in configured} - found_checks == set(), "checks without a failing rule test"
    tables = yaml.safe_load((ROOT / "rules/monitored_tables.yaml").read_text(encoding="utf-8"))["tables"]
    default = yaml.safe_load((ROOT / "rules/sources.yaml").read_text(encoding="utf-8"))["default"]
    silent = {subject for check, subject in expected if check == "monitor.table_freshness"}
    assert {f"{table.get('source', default)}.{table['table']}" for table in tables} - silent == set()
    campaigns = {yaml.safe_load(path.read_text(encoding="utf-8"))["id"] for path in (ROOT / "campaigns").glob("*.yaml")}
    gated = {campaign for test in tests for campaign in test.get("campaigns", [])}
    healthy = {campaign for test in tests if test["expect"] == [] for campaign in test.get("campaigns", [])}
    assert campaigns - gated == set(), "campaigns without a launch-gate rule test"
    assert campaigns - healthy == set(), "campaigns without a healthy launch-gate rule test"
    assert any(check == "monitor.new_errors" for check in found_checks), "no error-code translation is tested"


def test_every_built_in_data_check_has_a_failing_rule_test():
    """The thresholds and dictionaries the built-in checks read are rules too."""
    found = {item["check"] for test in _shipped_tests() for item in test["expect"]}
    not_from_data = {"gate.outbound_stopped"}  # the big red button lives in the state store, not in a source
    assert {check.id for check in BUILTIN_CHECKS} - found - set(REPORTED) - not_from_data == set()


def test_every_configured_check_also_has_a_passing_case():
    tests = _shipped_tests()
    quiet = {pattern for test in tests if test["expect"] == [] for pattern in test.get("checks", [])}
    configured = _checks_of("rules/functional_checks.yaml") + _checks_of("rules/checks/crm_health.yaml")
    assert {check["id"] for check in configured} - quiet == set()


# --- outcomes ----------------------------------------------------------------------------------


def test_a_passing_test_file_exits_0(repo_copy: Path):
    own_tests(repo_copy, POOL_TEST)
    result = run_tests(repo_copy)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "PASS   rules/tests/pool.yaml:2  promo pool below its minimum",
        "1 rule test: 1 passed, 0 failed, 0 errors",
    ]


def test_a_wrong_expectation_prints_what_is_missing_and_unexpected_and_exits_1(repo_copy: Path):
    own_tests(repo_copy, POOL_TEST.replace("subject: WELCOME10", "subject: COMEBACK15"))
    result = run_tests(repo_copy)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        "FAIL   rules/tests/pool.yaml:2  promo pool below its minimum",
        "       missing     monitor.promo_pool_low  COMEBACK15  warning",
        "       unexpected  monitor.promo_pool_low  WELCOME10  warning  observed 37: free codes: 37 (expected >= 100)",
        "1 rule test: 0 passed, 1 failed, 0 errors",
    ]


def test_a_wrong_severity_or_observed_value_fails(repo_copy: Path):
    own_tests(
        repo_copy,
        POOL_TEST.replace("observed: 37", "observed: 38")
        + POOL_TEST.split("tests:\n")[1].replace("below its minimum", "as a problem").replace("warning", "problem"),
    )
    result = run_tests(repo_copy)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "FAIL   rules/tests/pool.yaml:2  promo pool below its minimum",
        "       wrong value monitor.promo_pool_low  WELCOME10  warning  observed 37, expected 38",
        "FAIL   rules/tests/pool.yaml:13  promo pool as a problem",
        "       missing     monitor.promo_pool_low  WELCOME10  problem",
        "       unexpected  monitor.promo_pool_low  WELCOME10  warning  observed 37: free codes: 37 (expected >= 100)",
        "2 rule tests: 0 passed, 2 failed, 0 errors",
    ]


def test_a_check_that_cannot_be_evaluated_is_a_test_error(repo_copy: Path):
    functional = repo_copy / "rules/functional_checks.yaml"
    functional.write_text(functional.read_text(encoding="utf-8") + BROKEN_RULE, encoding="utf-8")
    own_tests(
        repo_copy,
        """\
        tests:
          - name: the broken rule on an empty database
            now: "2026-12-01T11:00:00+03:00"
            checks: [bonus.*]
            expect: []
        """,
    )
    result = run_tests(repo_copy)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.splitlines() == [
        "ERROR  rules/tests/pool.yaml:2  the broken rule on an empty database",
        "       error       bonus.broken_rule  bonus.broken_rule: source 'demo': query failed: no such column: amont",
        "1 rule test: 0 passed, 0 failed, 1 error",
    ]


def test_json_lists_each_test_with_its_differences(repo_copy: Path):
    own_tests(repo_copy, POOL_TEST.replace("subject: WELCOME10", "subject: COMEBACK15"))
    result = run_tests(repo_copy, "--format", "json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == [
        {
            "name": "promo pool below its minimum",
            "file": "rules/tests/pool.yaml",
            "line": 2,
            "status": "fail",
            "missing": [
                {"check": "monitor.promo_pool_low", "subject": "COMEBACK15", "severity": "warning", "observed": 37}
            ],
            "unexpected": [
                {
                    "check": "monitor.promo_pool_low",
                    "subject": "WELCOME10",
                    "severity": "warning",
                    "status": "fail",
                    "observed": 37,
                    "cause": "free codes: 37 (expected >= 100)",
                }
            ],
            "wrong_value": [],
            "errors": [],
        }
    ]


def test_names_and_globs_select_tests(repo_copy: Path):
    own_tests(repo_copy, POOL_TEST + POOL_TEST.split("tests:\n")[1].replace("below its minimum", "again"))
    result = run_tests(repo_copy, "promo pool a*")
    assert result.stdout.splitlines() == [
        "PASS   rules/tests/pool.yaml:13  promo pool again",
        "1 rule test: 1 passed, 0 failed, 0 errors",
    ]
    unknown = run_tests(repo_copy, "nothing*")
    assert (unknown.returncode, unknown.stdout) == (3, "")
    assert unknown.stderr == "campaign-guard: 'nothing*' matches no rule test in rules/tests/\n"


def test_a_campaign_test_runs_its_launch_gate_whether_or_not_it_is_due(repo_copy: Path):
    own_tests(
        repo_copy,
        """\
        tests:
          - name: the English VIP letter over max_clients on a day the campaign does not launch
            now: "2026-12-09T11:00:00+03:00"
            campaigns: [vip_bonus_accrual]
            fixtures:
              target_group_members:
                - repeat: 3001
                  row:
                    campaign_id: vip_bonus_accrual
                    element_id: vip_email_en
                    run_date: "2026-12-09"
                    customer_id: "{n}"
                    customer_type: vip
              job_runs:
                - {job_name: SEG_VIP_MONTHLY, started_at: now-1h, status: succeeded}
            expect:
              - {check: gate.audience_over_max_clients, subject: vip_bonus_accrual/vip_email_en, severity: problem}
        """,
    )
    result = run_tests(repo_copy)
    assert result.returncode == 0, result.stdout


# --- mistakes in test files: file:line, exit 3, never a traceback --------------------------------


def test_broken_yaml_is_reported_at_its_line(repo_copy: Path):
    own_tests(repo_copy, POOL_TEST.replace("status: free}", "status: free", 1))
    result = run_tests(repo_copy)
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr.splitlines()[0].startswith("rules/tests/pool.yaml:9:")
    assert "yaml.syntax" in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == "campaign-guard: 1 mistake in the rule tests; no test was run"


def test_schema_violations_are_reported_like_validate(repo_copy: Path):
    own_tests(repo_copy, POOL_TEST.replace("checks:", "chekcs:").replace('"2026-12-01T11:00:00+03:00"', "tomorrow"))
    result = run_tests(repo_copy)
    assert result.returncode == 3
    assert result.stderr.splitlines()[:2] == [
        "rules/tests/pool.yaml:3:10: schema.violation: tests[1].now: 'tomorrow' is not valid here: The moment the "
        "checks are evaluated at: an ISO date-time with its UTC offset, such as 2026-12-01T11:00:00+03:00.",
        "rules/tests/pool.yaml:4:5: schema.violation: tests[1]: unknown field 'chekcs'; did you mean 'checks'?",
    ]
    assert run_cli("validate", "rules/tests/pool.yaml", cwd=repo_copy).returncode == 1


def test_unknown_references_columns_and_values_are_reported_at_their_line(repo_copy: Path):
    own_tests(
        repo_copy,
        """\
        tests:
          - name: unknown campaign
            now: "2026-12-01T11:00:00+03:00"
            campaigns: [birthday_bonuss]
            expect: []
          - name: pattern matching nothing
            now: "2026-12-01T11:00:00+03:00"
            checks: ["gate.*"]
            expect: []
          - name: unknown column
            now: "2026-12-01T11:00:00+03:00"
            fixtures:
              error_log:
                - {logged: now-5m, code: "121"}
            expect: []
          - name: a value of the wrong type
            now: "2026-12-01T11:00:00+03:00"
            fixtures:
              launches:
                - {launch_id: 1, launched_at: yesterday}
            expect: []
          - name: an expected check the test does not run
            now: "2026-12-01T11:00:00+03:00"
            checks: [monitor.queue_size]
            expect:
              - {check: monitor.queue_sizes, subject: sms_outbound, severity: problem}
          - name: unknown campaign
            now: "2026-12-01T11:00:00+03:00"
            expect: []
        """,
    )
    result = run_tests(repo_copy)
    assert (result.returncode, result.stdout) == (3, "")
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "rules/tests/pool.yaml:27:11: test name 'unknown campaign' is also used at rules/tests/pool.yaml:2; "
        "names must be unique"
    )
    assert lines[1].startswith(
        "rules/tests/pool.yaml:4:17: test 'unknown campaign': no campaign 'birthday_bonuss' in campaigns/; known: "
    )
    assert lines[2].startswith(
        "rules/tests/pool.yaml:8:14: test 'pattern matching nothing': 'gate.*' matches no check; "
        "launch-gate checks run for the campaigns named in `campaigns`; known: "
    )
    assert lines[3] == (
        "rules/tests/pool.yaml:14:12: test 'unknown column': error_log has no column 'logged'; "
        "its columns: logged_at, code, subcode, message, campaign_id, customer_id"
    )
    assert lines[4] == (
        "rules/tests/pool.yaml:20:39: test 'a value of the wrong type': launches.launched_at takes an ISO date-time "
        "such as 2026-12-01T10:00:00+03:00, or a moment such as now-20m, not 'yesterday'"
    )
    assert lines[5].startswith(
        "rules/tests/pool.yaml:26:17: test 'an expected check the test does not run': check 'monitor.queue_sizes' "
        "is not evaluated by this test; it evaluates: monitor.queue_size"
    )
    assert lines[6] == "campaign-guard: 6 mistakes in the rule tests; no test was run"


def test_a_repository_without_rule_tests_is_a_usage_error(repo_copy: Path):
    for path in (repo_copy / "rules/tests").glob("*.yaml"):
        path.unlink()
    result = run_tests(repo_copy)
    assert result.returncode == 3
    assert result.stderr == (
        "campaign-guard: no rule tests: write them in rules/tests/*.yaml (see docs/configuration.md)\n"
    )


# --- fixtures: moments, repeated rows, types -----------------------------------------------------

NOW = datetime(2026, 12, 1, 11, 0, tzinfo=ZoneInfo("Europe/Moscow"))


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("now", datetime(2026, 12, 1, 8, 0)),
        ("now-20m", datetime(2026, 12, 1, 7, 40)),
        ("now+1d2h", datetime(2026, 12, 2, 10, 0)),
        ("2026-12-01T09:50:00+03:00", datetime(2026, 12, 1, 6, 50)),
        ("2026-12-01T06:50:00Z", datetime(2026, 12, 1, 6, 50)),
        ("2026-12-01T06:50:00", datetime(2026, 12, 1, 6, 50)),  # zone-less: already the source's
    ],
)
def test_moments_are_stored_as_naive_times_of_the_source_zone(written: str, stored: datetime):
    assert Clock(NOW, ZoneInfo("UTC")).moment(written) == stored


def test_a_source_in_another_zone_gets_its_own_local_times():
    clock = Clock(NOW, ZoneInfo("Europe/Moscow"))
    assert clock.moment("2026-12-01T06:50:00Z") == datetime(2026, 12, 1, 9, 50)
    assert clock.moment("now-10m") == datetime(2026, 12, 1, 10, 50)


def test_contract_rows_are_typed_by_the_contract_and_repeated_with_numbers():
    [table] = fixture_tables(
        {
            "launches": [
                {"repeat": 2, "row": {"launch_id": "{n+100}", "launched_at": "now-{n}d", "clients": 5}},
                {"launch_id": "7", "clients": None, "mode": "live"},
            ]
        },
        Clock(NOW, ZoneInfo("UTC")),
        {},
    )
    assert table.name == "launches" and list(table.columns)[:3] == ["launch_id", "campaign_id", "element_id"]
    assert [dict(row) for row in table.rows] == [
        {"launch_id": 101, "launched_at": datetime(2026, 11, 30, 8, 0), "clients": 5},
        {"launch_id": 102, "launched_at": datetime(2026, 11, 29, 8, 0), "clients": 5},
        {"launch_id": 7, "clients": None, "mode": "live"},
    ]


def test_other_tables_take_their_columns_and_types_from_the_rows():
    cards, extra = fixture_tables(
        {"loyalty_cards": [{"card_id": 1, "status": "active", "updated_at": "now-1h", "balance": 2.5, "ok": True}]},
        Clock(NOW, ZoneInfo("UTC")),
        {"loyalty_cards": "updated_at", "crm_feed": "changed_at", "customers": "created_at"},
    )
    assert {name: type(kind).__name__ for name, kind in cards.columns.items()} == {
        "card_id": "BigInteger",
        "status": "Text",
        "updated_at": "DateTime",
        "balance": "Float",
        "ok": "Boolean",
    }
    assert (extra.name, list(extra.columns), extra.rows) == ("crm_feed", ["changed_at"], ())


def test_amounts_are_decimals_and_dates_are_dates():
    [accruals, members] = fixture_tables(
        {"bonus_accruals": [{"amount": 0.5}], "target_group_members": [{"run_date": "2026-12-01"}]},
        Clock(NOW, ZoneInfo("UTC")),
        {},
    )
    assert accruals.rows[0]["amount"] == Decimal("0.5")
    assert members.rows[0]["run_date"] == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("fixtures", "path", "message"),
    [
        ({"launches": [{"clients": True}]}, ("launches", 0, "clients"), "launches.clients takes a whole number"),
        ({"customers": [{"created_at": 5}]}, ("customers", 0, "created_at"), "customers.created_at takes an ISO"),
        ({"Messages": [{"message_id": 1}]}, ("Messages",), "'Messages' is not a dataset; did you mean 'messages'?"),
        ({"feed": [{"x": 1}, {"x": "a"}]}, ("feed",), "column 'x' of feed mixes integer and text values"),
        ({"feed": [{"at": "2026-13-01T10:00"}]}, ("feed", 0, "at"), "'2026-13-01T10:00' is not a valid date-time"),
    ],
)
def test_fixture_mistakes_name_their_place(fixtures: dict[str, Any], path: tuple[Any, ...], message: str):
    with pytest.raises(Mistake) as raised:
        fixture_tables(fixtures, Clock(datetime(2026, 12, 1, tzinfo=UTC), ZoneInfo("UTC")), {})
    assert raised.value.path == path
    assert raised.value.message.startswith(message)
