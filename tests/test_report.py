"""`campaign-guard report`: the hourly report of the SAP article and the slices of opened problems."""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from runner.engine.result import Result, Status
from runner.findings import Severity
from runner.main import main
from runner.store.connect import Store, open_store
from runner.store.record import record
from runner.store.runs import start_run

from .conftest import ROOT, run_cli

NOW = "2026-12-01T11:00:00+03:00"  # 08:00 UTC
T = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"
FOOTER = (
    "Every open problem: campaign-guard problems list; one problem's card: campaign-guard problems show FINGERPRINT"
)


@pytest.fixture
def store() -> Iterator[Store]:
    opened = open_store(ROOT)  # CAMPAIGN_GUARD_STATE_URL of this test (tests/conftest.py)
    yield opened
    opened.close()


def verdict(check: str, subject: str, status: Status, **details: Any) -> Result:
    fields: dict[str, Any] = {
        "severity": Severity.PROBLEM,
        "localization": "queue",
        "title": "Queue above its limit",
        "observed": 62000,
        "expected": "<= 50000",
        "cause": "largest size in the last 1h: 62000 (expected <= 50000)",
        "hint": "Restart the consumer.",
        **details,
    }
    return Result(check, subject, status=status, **fields)


def evaluate(store: Store, moment: datetime, *verdicts: Result) -> None:
    """One run at `moment` through the real code path: a runs row, history rows, problem transitions."""
    record(store, start_run(store, "run", "", moment), verdicts, moment)


QUEUE = verdict("monitor.queue_size", "sms_outbound", Status.FAIL)
ERRORS = verdict(
    "monitor.new_errors",
    "121/2@birthday_bonus",
    Status.FAIL,
    localization="mailing",
    title="Empty message attribute.",
    observed=12,
    expected="no new errors",
    cause="12 rows with code 121/2 in the last 1h",
    hint="Fill the attribute.",
    campaign="birthday_bonus",
    owner="crm-marketing",
)
FUNCTIONAL = verdict(
    "promo.two_codes_same_type",
    "promo.two_codes_same_type",
    Status.FAIL,
    localization="promo_pool",
    title="Two promo codes of one type",
    observed=1,
    expected="< 1",
    cause="the rule's query returned 1 rows",
    hint="Expire the extra code.",
    owner="crm-dev",
    location="rules/functional_checks.yaml:5",
    samples=({"customer_id": 36401, "code_type": "welcome10"},),
)
LAUNCHED = verdict(
    "monitor.launched_last_hour",
    "vip_bonus_accrual/live",
    Status.PASS,
    severity=Severity.WARNING,
    localization="campaign",
    title="Campaign launched",
    observed="1 live launches, 25 clients",
    campaign="vip_bonus_accrual",
)
SILENT = verdict(
    "monitor.table_freshness", "demo.loyalty_cards", Status.ERROR, localization="integration", observed=None
)
DUPLICATES = verdict(
    "monitor.duplicate_participation",
    "welcome_chain",
    Status.FAIL,
    severity=Severity.WARNING,
    localization="campaign",
    title="Customers messaged twice",
    observed=15,
    expected="0",
    cause="15 customers got the same message twice yesterday",
    hint="Look at the dedup window.",
    campaign="welcome_chain",
)
DUMP = verdict(
    "monitor.new_dumps",
    "ZCRM_SMS_SENDER",
    Status.FAIL,
    localization="dump",
    title="A program crashed",
    observed=1,
    expected="<= 0",
    cause="new dumps: 1",
    hint="Read the dump.",
)


@pytest.fixture
def hour(store: Store) -> Store:
    """Three runs: 09:30 (outside the hour before 11:00 +03:00), 10:30 and 10:55."""
    evaluate(
        store,
        T - timedelta(minutes=90),
        QUEUE,
        replace(DUPLICATES, subject="birthday_bonus"),  # only outside the window: not listed
    )
    evaluate(
        store,
        T - timedelta(minutes=30),
        ERRORS,
        replace(QUEUE, observed=61000),
        replace(QUEUE, subject="email_outbound", status=Status.PASS, observed=100),
        FUNCTIONAL,
        LAUNCHED,
        SILENT,
        DUPLICATES,
    )
    evaluate(
        store,
        T - timedelta(minutes=5),
        replace(QUEUE, status=Status.PASS, observed=100),  # back under its limit: the newest result counts
        DUMP,
    )
    return store


def report(*args: str) -> str:
    done = run_cli("report", "--now", NOW, *args)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def store_url() -> str:
    return os.environ["CAMPAIGN_GUARD_STATE_URL"]


def test_hourly_text_lists_the_newest_result_of_every_check_and_subject_in_the_window(hour: Store):
    text = report()
    prints = re.findall(r"problem ([0-9a-f]{16}) \((\w+)\)", text)
    assert [status for _print, status in prints] == ["open", "open", "open", "open"]
    errors, functional, dumps, duplicates = (print_ for print_, _status in prints)
    assert text == (
        "campaign-guard hourly report\n"
        "generated  2026-12-01 11:00 +03:00\n"
        "window     2026-12-01 10:00 - 11:00 +03:00 (1h)\n"
        f"store      {store_url()}\n"
        "runs       2 in the window, the newest evaluated at 2026-12-01 10:55 +03:00\n"
        "\n"
        "New errors: 1\n"
        "  FAIL problem  121/2@birthday_bonus  observed 12  expected no new errors\n"
        "                Empty message attribute: 12 rows with code 121/2 in the last 1h\n"
        "                fix: Fill the attribute.\n"
        "                campaign birthday_bonus, owner crm-marketing\n"
        f"                problem {errors} (open)\n"
        "\n"
        "Functional checks: 1\n"
        "  FAIL problem  promo.two_codes_same_type  observed 1  expected < 1\n"
        "                Two promo codes of one type: the rule's query returned 1 rows\n"
        "                fix: Expire the extra code.\n"
        "                owner crm-dev, at rules/functional_checks.yaml:5\n"
        "                e.g. customer_id=36401, code_type=welcome10\n"
        f"                problem {functional} (open)\n"
        "\n"
        "Dumps: 1\n"
        "  FAIL problem  ZCRM_SMS_SENDER  observed 1  expected <= 0\n"
        "                A program crashed: new dumps: 1\n"
        "                fix: Read the dump.\n"
        f"                problem {dumps} (open)\n"
        "\n"
        "Cancelled jobs: nothing\n"
        "\n"
        "Queues over their limit: nothing\n"
        "\n"
        "Integration freshness (silent tables): 1\n"
        "  ERROR         demo.loyalty_cards  observed -\n"
        "                A monitored table fell silent: the check could not be evaluated: its source did not answer"
        " (see the output of that run)\n"
        "\n"
        "Duplicates: 1\n"
        "  FAIL warning  welcome_chain  observed 15  expected 0\n"
        "                Customers messaged twice: 15 customers got the same message twice yesterday\n"
        "                fix: Look at the dedup window.\n"
        "                campaign welcome_chain\n"
        f"                problem {duplicates} (open)\n"
        "\n"
        "Campaigns launched in the last hour: 1\n"
        "  vip_bonus_accrual/live  1 live launches, 25 clients\n"
        "\n"
        "Non-released elements: nothing\n"
        "\n"
        "Other failing checks: nothing\n"
        "\n"
        "Open problems by localization: 3 problems, 2 warnings\n"
        "  LOCALIZATION   PROBLEMS  WARNINGS\n"
        "  dump                  1         0\n"
        "  mailing               1         0\n"
        "  promo_pool            1         0\n"
        "  campaign              0         2\n"
        "\n"
        f"{FOOTER}\n"
    )


def test_hourly_window_is_half_open_and_follows_since(hour: Store):
    two_hours = report("--since", "2h")
    assert "runs       3 in the window" in two_hours
    assert "Campaigns launched in the last 2h: 1\n" in two_hours
    assert "Duplicates: 2\n" in two_hours  # birthday_bonus of the 09:30 run is inside 2h
    # the hour after: the 10:30 and 10:55 runs were in the previous report, none is in this one
    later = run_cli("report", "--now", "2026-12-01T12:30:00+03:00")
    assert "runs       none in the window: nothing was evaluated" in later.stdout
    assert later.stdout.count(": nothing\n") == 10


def test_muted_problems_are_counted_apart(hour: Store):
    listed = run_cli("problems", "list", "--check", "monitor.new_dumps", "--format", "csv").stdout
    fingerprint = next(csv.DictReader(io.StringIO(listed)))["fingerprint"]
    muted = run_cli("problems", "mute", fingerprint, "--for", "1d", "--now", NOW)
    assert muted.returncode == 0, muted.stderr
    text = report()
    assert "Open problems by localization: 2 problems, 2 warnings\n" in text
    assert "  1 muted not counted (campaign-guard problems list --status muted)\n" in text
    assert f"problem {fingerprint} (muted)\n" in text


def test_an_empty_store_says_nothing_was_evaluated(store: Store):
    text = report("--format", "markdown")
    assert "- **runs:** none in the window: nothing was evaluated" in text
    assert "## Dumps: nothing\n" in text
    assert "## Open problems by localization: nothing\n" in text


def test_markdown_tables_have_one_cell_per_column(hour: Store):
    text = report("--format", "markdown")
    assert text.startswith("# campaign-guard hourly report\n\n- **generated:** 2026-12-01 11:00 +03:00\n")
    tables = [block for block in text.split("\n\n") if block.startswith("|")]
    assert len(tables) == 7  # new errors, functional, dumps, freshness, duplicates, launches; localizations
    for table in tables:
        rows = table.strip().splitlines()
        assert re.fullmatch(r"\|(-{3}\||-{2}:\|)+", rows[1])
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(widths) == 1, table
    assert "| campaign | launch | observed | owner |\n|---|---|---|---|\n" in text
    assert "| vip_bonus_accrual | vip_bonus_accrual/live | 1 live launches, 25 clients |  |\n" in text
    assert "| localization | problems | warnings |\n|---|--:|--:|\n| dump | 1 | 0 |\n" in text
    assert "## Cancelled jobs: nothing\n\n## Queues over their limit: nothing\n" in text


def test_markdown_cells_escape_pipes_only(store: Store):
    evaluate(store, T, replace(FUNCTIONAL, title="A | B <b>bold</b>", cause="line one\nline two"))
    text = report("--format", "markdown")
    assert "| A \\| B <b>bold</b>: line one line two; e.g. customer_id=36401, code_type=welcome10 |" in text


def test_html_is_self_contained_and_escapes_what_the_store_holds(store: Store):
    evaluate(store, T, replace(FUNCTIONAL, title=XSS, cause="a & b", samples=({"value": "<img src=x>"},)))
    page = report("--format", "html")
    assert page.startswith("<!DOCTYPE html>\n")
    assert XSS not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;: a &amp; b" in page
    assert "e.g. value=&lt;img src=x&gt;" in page
    assert "<style>" in page and not re.search(r"<(link|script|img)\b|src=\"|href=\"http", page)
    assert '<section id="functional">\n<h2>Functional checks <span class="count">1</span></h2>' in page
    assert '<h2>Dumps <span class="count zero">0</span></h2>\n<p class="nothing">nothing</p>' in page
    # text and Markdown are not HTML: the same title is written as it is
    assert f"                {XSS}: a & b\n" in report()
    assert f"| {XSS}: a & b; e.g. value=<img src=x> |" in report("--format", "markdown")


def test_output_writes_the_file(hour: Store, tmp_path: Path):
    target = tmp_path / "report.html"
    done = run_cli("report", "--now", NOW, "--format", "html", "--output", str(target))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert target.read_text(encoding="utf-8").rstrip().endswith("</html>")


@pytest.fixture
def history(store: Store) -> Store:
    """Openings over four days; a regression counts again, resolutions and passes do not."""
    queue_a, queue_b = QUEUE, replace(QUEUE, subject="push_outbound", campaign="welcome_chain", owner="crm-dev")
    evaluate(store, datetime(2026, 11, 28, 9, 0, tzinfo=UTC), queue_a, ERRORS)  # Saturday, ISO week 48
    evaluate(store, datetime(2026, 11, 29, 9, 0, tzinfo=UTC), replace(queue_a, status=Status.PASS))  # resolved
    evaluate(store, datetime(2026, 11, 30, 9, 0, tzinfo=UTC), queue_a, queue_b)  # reopened; opened (Monday, W49)
    evaluate(store, datetime(2026, 11, 30, 22, 30, tzinfo=UTC), DUPLICATES)  # Dec 1 01:30 in Moscow, Nov 30 in UTC
    evaluate(store, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), FUNCTIONAL)  # after --now 08:00 UTC: not counted
    return store


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_slice_csv_counts_openings_per_day_in_the_zone_of_now(history: Store):
    assert rows(report("--by", "localization", "--since", "4d", "--format", "csv")) == [
        ["localization", "2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01", "total"],
        ["queue", "1", "0", "2", "0", "3"],
        ["campaign", "0", "0", "0", "1", "1"],
        ["mailing", "1", "0", "0", "0", "1"],
    ]
    utc = run_cli("report", "--now", "2026-12-01T08:00:00Z", "--by", "localization", "--since", "2d", "--format", "csv")
    assert rows(utc.stdout) == [
        ["localization", "2026-11-30", "2026-12-01", "total"],
        ["queue", "2", "0", "2"],
        ["campaign", "1", "0", "1"],
    ]


def test_slice_by_campaign_owner_and_check_per_week(history: Store):
    assert rows(report("--by", "campaign", "--period", "week", "--since", "2w", "--format", "csv")) == [
        ["campaign", "2026-W48", "2026-W49", "total"],
        ["(none)", "1", "1", "2"],
        ["welcome_chain", "0", "2", "2"],
        ["birthday_bonus", "1", "0", "1"],
    ]
    assert rows(report("--by", "owner", "--period", "week", "--since", "1d", "--format", "csv")) == [
        ["owner", "2026-W49", "total"],
        ["(none)", "2", "2"],
        ["crm-dev", "1", "1"],
    ]
    checks = rows(report("--by", "check", "--since", "30d", "--format", "csv"))
    assert len(checks[0]) == 32 and checks[0][1] == "2026-11-02" and checks[0][30] == "2026-12-01"
    assert [(row[0], row[-1]) for row in checks[1:]] == [
        ("monitor.queue_size", "3"),
        ("monitor.duplicate_participation", "1"),
        ("monitor.new_errors", "1"),
    ]


def test_slice_text_and_markdown(history: Store):
    assert report("--by", "localization", "--since", "3d") == (
        "Problems opened per day by localization: 2026-11-29 to 2026-12-01 (+03:00), up to 2026-12-01 11:00 +03:00\n"
        f"counted: opened and reopened events; store {store_url()}\n"
        "\n"
        "LOCALIZATION   11-29 11-30 12-01  TOTAL\n"
        "queue              .     2     .      2\n"
        "campaign           .     .     1      1\n"
        "total              .     2     1      3\n"
    )
    markdown = report("--by", "localization", "--since", "2d", "--format", "markdown")
    assert markdown.endswith(
        "| localization | 2026-11-30 | 2026-12-01 | total |\n"
        "|---|--:|--:|--:|\n"
        "| queue | 2 | 0 | 2 |\n"
        "| campaign | 0 | 1 | 1 |\n"
        "| **total** | **2** | **1** | **3** |\n"
    )
    html = report("--by", "localization", "--since", "2d", "--format", "html")
    cells = '<td class="number">2</td><td class="number zero">0</td><td class="number">2</td>'
    assert f"<tr><td>queue</td>{cells}</tr>" in html
    empty = report("--by", "owner", "--since", "1d", "--now", "2026-11-25T12:00:00+00:00")
    assert empty.endswith("\nNo problem was opened from 2026-11-25 to 2026-11-25.\n")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--by", "team"], 3, "argument --by: invalid choice: 'team'"),
        (["--period", "month", "--by", "owner"], 3, "argument --period: invalid choice: 'month'"),
        (["--since", "soon"], 3, "'soon' is not a duration"),
        (["--format", "csv"], 3, "campaign-guard: --format csv is for slices: give --by localization|campaign|owner"),
        (["--period", "week"], 3, "campaign-guard: --period slices the problems: give --by"),
        (["--since", "0h"], 3, "campaign-guard: --since must be longer than 0"),
        (["--output", "/nonexistent/dir/report.txt"], 3, "campaign-guard: cannot write /nonexistent/dir/report.txt"),
    ],
)
def test_bad_input_is_one_message_never_a_traceback(store: Store, args: list[str], code: int, message: str):
    done = run_cli("report", *args)
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://nobody:secret@127.0.0.1:1/state", "sqlite:////proc/no-such-dir/state.db"],
)
def test_an_unreachable_store_exits_4_with_one_line(url: str):
    done = run_cli("report", env={"CAMPAIGN_GUARD_STATE_URL": url})
    assert done.returncode == 4
    assert done.stderr.startswith("campaign-guard: state store ") and done.stderr.count("\n") == 1
    assert "secret" not in done.stderr


def test_main_dispatches_report_in_process(hour: Store, capsys: pytest.CaptureFixture[str]):
    assert main(["report", "--now", NOW, "--by", "check", "--since", "1d", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "check,2026-12-01,total"


def test_report_of_a_demo_run(tmp_path: Path):
    demo = {"CAMPAIGN_GUARD_DEMO_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    assert run_cli("demo", "--scale", "0.01", "--now", NOW, env=demo).returncode == 0
    assert run_cli("run", "--now", NOW, env=demo).returncode == 1
    text = report()
    headings = re.findall(r"^(\S[^:\n]*): (\S+)", text, flags=re.MULTILINE)
    assert headings == [
        ("New errors", "2"),
        ("Functional checks", "2"),
        ("Dumps", "1"),
        ("Cancelled jobs", "1"),
        ("Queues over their limit", "1"),
        ("Integration freshness (silent tables)", "1"),
        ("Duplicates", "1"),
        ("Campaigns launched in the last hour", "1"),
        ("Non-released elements", "1"),
        ("Other failing checks", "17"),
        ("Open problems by localization", "21"),
        ("Every open problem", "campaign-guard"),
    ]
    assert "\n  vip_bonus_accrual/live  1 live launches, 25 clients\n" in text
    assert "\n  FAIL problem  sms_outbound  observed 62000  expected <= 50000\n" in text
