"""Terminal manners of text output: failures and a summary by default, -v/-q, the display zone,
thousands separators, colour and the terminal's width (runner/display.py)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import UTC, datetime

import pytest

from runner.display import Display, count, display_zone
from runner.engine.result import Result, Status
from runner.errors import UsageError
from runner.findings import Severity
from runner.formats.results import text

from .conftest import LAUNCH_DAY, ROOT, run_cli

ANSI = re.compile(r"\033\[[0-9;]*m")
NOW = "2026-12-01T11:00:00+03:00"


def result(check: str, status: Status, severity: Severity = Severity.PROBLEM, **more: object) -> Result:
    return Result(check, "subject", severity, "monitoring", status, "A title", cause="why", hint="do this", **more)  # type: ignore[arg-type]


MIXED = [
    result("c.pass", Status.PASS, observed=3),
    result("c.fail", Status.FAIL, observed=62000, expected="<= 50000"),
    result("c.warn", Status.FAIL, Severity.WARNING, observed=7),
    result("c.error", Status.ERROR),
]


# -- the results: failures and a summary by default ----------------------------------------------


def test_default_text_is_the_failures_and_a_summary() -> None:
    assert text(MIXED).splitlines() == [
        "FAIL problem  c.fail  subject  observed 62,000  expected <= 50,000",
        "              A title: why",
        "              fix: do this",
        "FAIL warning  c.warn  subject  observed 7",
        "              A title: why",
        "              fix: do this",
        "ERROR         c.error  subject",
        "              A title: why",
        "4 results: 1 problems, 1 warnings, 1 source errors, 1 passed",
    ]


def test_verbose_adds_the_passes_in_order_and_quiet_is_the_summary_only() -> None:
    verbose = text(MIXED, "verbose").splitlines()
    assert verbose[0] == "pass          c.pass  subject  observed 3"
    assert verbose[1:] == text(MIXED).splitlines()
    assert text(MIXED, "quiet") == "4 results: 1 problems, 1 warnings, 1 source errors, 1 passed\n"


def test_counts_have_thousands_separators() -> None:
    many = [result("c.pass", Status.PASS)] * 1234 + [result("c.fail", Status.FAIL)] * 1001
    assert text(many, "quiet") == "2,235 results: 1,001 problems, 0 warnings, 0 source errors, 1,234 passed\n"
    assert (count(0), count(999), count(1000), count(1234567)) == ("0", "999", "1,000", "1,234,567")


def test_long_lines_wrap_under_the_check_and_lose_nothing() -> None:
    cause = "the newest updated_at is 2026-12-01 04:55, 185 minutes ago " * 3
    long = Result("monitor.table_freshness", "demo.t", Severity.PROBLEM, "m", Status.FAIL, "Silent", cause=cause)
    lines = text([long], display=Display(columns=60)).splitlines()[:-1]
    assert max(len(line) for line in lines) <= 60
    assert all(line.startswith(" " * 14) for line in lines[1:])
    assert " ".join(line.strip() for line in lines[1:]) == f"Silent: {cause.strip()}"


def test_colour_marks_problems_red_warnings_yellow_passes_green() -> None:
    lines = text(MIXED, "verbose", Display(colour=True)).splitlines()
    assert lines[0].startswith("\033[32mpass\033[0m          c.pass")
    assert lines[1].startswith("\033[31mFAIL problem\033[0m  c.fail")
    assert lines[4].startswith("\033[33mFAIL warning\033[0m  c.warn")
    assert lines[7].startswith("\033[31mERROR\033[0m         c.error")
    assert lines[-1] == (
        "4 results: \033[31m1 problems\033[0m, \033[33m1 warnings\033[0m, \033[31m1 source errors\033[0m, "
        "\033[32m1 passed\033[0m"
    )
    assert [ANSI.sub("", line) for line in lines] == text(MIXED, "verbose").splitlines()


# -- the display zone ------------------------------------------------------------------------------


def test_times_are_written_in_the_display_zone_with_the_offset() -> None:
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert Display(display_zone("Europe/Moscow")).time(moment) == "2026-12-01 11:00 +03:00"
    assert Display(display_zone("America/St_Johns")).time(moment) == "2026-12-01 04:30 -03:30"
    assert Display(display_zone("UTC")).time(moment) == "2026-12-01 08:00 UTC"
    # the store's naive UTC and its ISO text are the same moment
    assert Display(display_zone("Europe/Moscow")).time("2026-12-01T08:00:00+00:00") == "2026-12-01 11:00 +03:00"
    assert Display(display_zone("Europe/Moscow")).time(datetime(2026, 12, 1, 8, 0)) == "2026-12-01 11:00 +03:00"
    assert Display().time(None) == ""


def test_the_zone_is_tz_then_the_variable_then_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGN_GUARD_TZ", "Asia/Tokyo")
    assert str(display_zone(None)) == "Asia/Tokyo"
    assert str(display_zone("Europe/Berlin")) == "Europe/Berlin"
    monkeypatch.delenv("CAMPAIGN_GUARD_TZ")
    assert display_zone(None) is None  # the system zone
    with pytest.raises(UsageError, match=r"^--tz: unknown time zone 'Europe/Moskva'; use an IANA name"):
        display_zone("Europe/Moskva")
    monkeypatch.setenv("CAMPAIGN_GUARD_TZ", "Europe")
    with pytest.raises(UsageError, match=r"^CAMPAIGN_GUARD_TZ: unknown time zone 'Europe'"):
        display_zone(None)


def test_the_system_zone_is_used_with_its_offset_of_each_moment() -> None:
    """No --tz and no variable: the system zone (TZ here), summer and winter offsets both right."""
    code = (
        "from datetime import datetime, UTC; from runner.display import Display; d = Display.of();"
        "print(d.time(datetime(2026, 12, 1, 8, tzinfo=UTC)), '|', d.time(datetime(2026, 7, 1, 8, tzinfo=UTC)))"
    )
    env = {k: v for k, v in os.environ.items() if k != "CAMPAIGN_GUARD_TZ"} | {"TZ": "Europe/Berlin"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout == "2026-12-01 09:00 +01:00 | 2026-07-01 10:00 +02:00\n"


@pytest.mark.parametrize(
    "args",
    [
        ("run", "--tz", "Mars/Base"),
        ("check", "birthday_bonus", "--tz", "Mars/Base"),
        ("dry-run", "birthday_bonus", "--tz", "Mars/Base"),
        ("problems", "list", "--tz", "Mars/Base"),
        ("outbound", "status", "--tz", "Mars/Base"),
        ("notify", "--dry-run", "--tz", "Mars/Base"),
    ],
)
def test_an_unknown_zone_is_a_usage_error(args: tuple[str, ...]) -> None:
    done = run_cli(*args)
    assert (done.returncode, done.stdout, done.stderr) == (
        3,
        "",
        "campaign-guard: --tz: unknown time zone 'Mars/Base'; use an IANA name such as Europe/Moscow\n",
    )


# -- the table -------------------------------------------------------------------------------------


def test_a_table_cuts_its_widest_free_column_to_fit() -> None:
    header = ["ID", "TITLE", "CHECK"]
    rows = [["a1", "Promo-code pool running dry", "monitor.promo_pool_low"], ["b2", "Short", "x"]]
    assert Display(columns=40).table(header, rows, free=(1, 2)) == [
        "ID  TITLE              CHECK",
        "a1  Promo-code pool …  monitor.promo_po…",
        "b2  Short              x",
    ]
    assert all(len(line) <= 40 for line in Display(columns=40).table(header, rows, free=(1, 2)))
    # no terminal and no COLUMNS: rows stay whole for grep
    assert Display().table(header, rows, free=(1, 2))[1] == "a1  Promo-code pool running dry  monitor.promo_pool_low"


# -- the commands ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_env(demo_url: str) -> dict[str, str]:
    return {"CAMPAIGN_GUARD_DEMO_URL": demo_url, "CAMPAIGN_GUARD_TZ": "Europe/Moscow"}


def test_run_prints_failures_and_a_summary_verbose_adds_passes_quiet_only_the_summary(
    demo_env: dict[str, str],
) -> None:
    verbose = run_cli("run", "-v", "--now", LAUNCH_DAY, env=demo_env)
    normal = run_cli("run", "--now", LAUNCH_DAY, env=demo_env)
    quiet = run_cli("run", "-q", "--now", LAUNCH_DAY, env=demo_env)
    assert (verbose.returncode, normal.returncode, quiet.returncode) == (1, 1, 1)
    summary = "88 results: 21 problems, 6 warnings, 0 source errors, 61 passed"
    assert quiet.stdout.splitlines() == [
        summary,
        "Problems: no changes; open now: 21 problems, 6 warnings (campaign-guard problems list)",
    ]
    heads = [line for line in verbose.stdout.splitlines() if not line.startswith(" ")]
    assert sum(line.startswith("pass ") for line in heads) == 61
    assert [line for line in heads if not line.startswith("pass ")][:-1] == [
        line for line in normal.stdout.splitlines() if not line.startswith(" ")
    ][:-1]  # the same failures; the last line says what this run changed in the store
    assert normal.stdout.splitlines()[-2] == summary
    assert not any(line.startswith("pass ") for line in normal.stdout.splitlines())
    assert max(len(line) for line in normal.stdout.splitlines()) <= 100  # no terminal, no COLUMNS: 100
    wide = run_cli("run", "--now", LAUNCH_DAY, env={**demo_env, "COLUMNS": "70"})
    assert max(len(line) for line in wide.stdout.splitlines()[:-1]) <= 70
    # JSON is every result, whatever -q says
    assert len(json.loads(run_cli("run", "-q", "--format", "json", "--now", LAUNCH_DAY, env=demo_env).stdout)) == 88


def test_check_header_is_in_the_display_zone(demo_env: dict[str, str]) -> None:
    done = run_cli("check", "birthday_bonus", "--now", LAUNCH_DAY, "--tz", "Asia/Tokyo", env=demo_env)
    assert done.stdout.splitlines()[0] == (
        "Launch gate of birthday_bonus (campaigns/birthday_bonus.yaml) as of 2026-12-01 17:00 +09:00"
    )
    assert not any(line.startswith("pass ") for line in done.stdout.splitlines())


def test_colour_only_on_a_terminal_and_never_with_no_color(demo_env: dict[str, str]) -> None:
    plain = run_cli("run", "--now", LAUNCH_DAY, env=demo_env)
    assert not ANSI.search(plain.stdout)  # a pipe
    forced = run_cli("run", "--now", LAUNCH_DAY, env={**demo_env, "FORCE_COLOR": "1"})
    assert "\033[31mFAIL problem\033[0m  monitor.new_dumps  ZCRM_SMS_SENDER" in forced.stdout
    assert "\033[33mFAIL warning\033[0m" in forced.stdout
    refused = run_cli("run", "--now", LAUNCH_DAY, env={**demo_env, "FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not ANSI.search(refused.stdout)


def in_terminal(args: tuple[str, ...], env: dict[str, str], columns: int) -> str:
    """The command with stdout on a real pseudo-terminal `columns` wide; what it wrote there."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environment = {k: v for k, v in {**os.environ, **env}.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    process = subprocess.Popen(
        [sys.executable, "-m", "runner", *args], cwd=ROOT, env=environment, stdout=follower, stderr=subprocess.PIPE
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_problems_list_on_a_terminal_fits_it_shows_the_title_and_colours_the_severity(
    demo_env: dict[str, str],
) -> None:
    run_cli("run", "--now", LAUNCH_DAY, env=demo_env)
    shown = in_terminal(("problems", "list"), demo_env, 110).splitlines()
    assert shown[0].split()[:7] == ["FINGERPRINT", "SEVERITY", "STATUS", "SEEN", "LAST", "SEEN", "TITLE"]
    assert max(len(ANSI.sub("", line)) for line in shown[:-1]) <= 110
    assert any("\033[31mproblem\033[0m" in line for line in shown)
    assert any("\033[33mwarning\033[0m" in line for line in shown)
    assert any("…" in line for line in shown)
    assert "2026-12-01 11:00 +03:00" in shown[1]
    assert shown[-1] == "27 problems ('!' marks a regression; campaign-guard problems show FINGERPRINT for the card)"
    piped = run_cli("problems", "list", env=demo_env).stdout.splitlines()
    assert not any("…" in line for line in piped)  # a pipe gets whole rows
    assert any("Promo-code pool running dry" in line for line in piped)


def test_dry_run_tables_fit_the_terminal(demo_env: dict[str, str]) -> None:
    done = run_cli("dry-run", "churn_reactivation", "--now", LAUNCH_DAY, env={**demo_env, "COLUMNS": "80"})
    lines = done.stdout.splitlines()
    gate = lines.index("Launch gate")
    assert max(len(line) for line in lines[gate:]) <= 80
    exclusions = lines.index("Exclusions by reason (customers of today's target groups; each customer once)")
    assert lines[exclusions + 1 : exclusions + 5] == [
        "  REASON                  CUSTOMERS  WHY                       ELEMENTS",
        "  customer type mismatch         40  customer_type is not 'r…  comeback_email 40",
        "  dedup window                   30  reached by this campaig…  comeback_email 30",
        "  empty attributes                0  a message prepared toda…",
    ]
    assert "FAIL problem  gate.dedup_window  churn_reactivation  observed 30  expected <= 0" in lines


def test_the_problem_card_writes_its_times_in_the_display_zone_and_colours_the_severity() -> None:
    from runner.formats.problems import card_text

    problem = {
        "title": "Promo-code pool running dry", "severity": "warning", "status": "open", "fingerprint": "f" * 16,
        "check": "monitor.promo_pool_low", "subject": "WELCOME10", "localization": "promo_pool", "campaign": None,
        "owner": None, "link": None, "source": None, "cause": "37 codes left", "hint": "load codes", "observed": 37,
        "expected": ">= 100", "first_seen": "2026-12-01T08:00:00+00:00", "last_seen": "2026-12-01T08:00:00+00:00",
        "occurrences": 1234, "regressions": 0, "acknowledged_by": None, "muted_until": None, "samples": [],
    }  # fmt: skip
    events = [{"at": "2026-12-01T08:00:00+00:00", "kind": "opened", "actor": None, "severity": "warning", "note": None}]
    card = card_text(problem, events, Display(display_zone("Europe/Moscow"), colour=True)).splitlines()
    assert card[0] == "\033[1mPromo-code pool running dry\033[0m  [\033[33mwarning\033[0m, open]"
    assert "  first seen    2026-12-01 11:00 +03:00" in card
    assert "  occurrences   1,234 (regressions: 0)" in card
    assert card[-1] == "    2026-12-01 11:00 +03:00  opened (warning)"


def test_a_long_word_is_never_split() -> None:
    url = "https://wiki.example.com/" + "x" * 80
    long = Result("c.fail", "s", Severity.PROBLEM, "m", Status.FAIL, "Broken", cause=f"see {url}")
    assert text([long], display=Display(columns=60)).splitlines()[1:3] == [" " * 14 + "Broken: see", " " * 14 + url]
