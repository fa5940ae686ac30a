"""`run` and `notify` skip one entry whose cron, time zone or date cannot be used, say so, go on, and exit 3.

The files are edited as a user would without running validate; the real command runs in a subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import LAUNCH_DAY, run_cli


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text("utf-8").splitlines(), 1) if text in line)


def test_run_due_skips_a_schedule_whose_cron_cannot_be_read(repo_copy: Path, demo_url: str) -> None:
    schedules = repo_copy / "rules/schedules.yaml"
    _edit(schedules, 'cron: "30 7 * * *"', 'cron: "0 24 25 * *"')
    done = run_cli("run", "--due", "--format", "json", "--now", LAUNCH_DAY, cwd=repo_copy,
                   env={"CAMPAIGN_GUARD_DEMO_URL": demo_url})  # fmt: skip
    assert "Traceback" not in done.stderr
    line = _line_of(schedules, "0 24 25 * *")
    assert done.stderr.splitlines() == [
        f"campaign-guard: rules/schedules.yaml:{line}: schedule 'morning' skipped: cron '0 24 25 * *': "
        "hour 24 is out of range 0-23 (run `campaign-guard validate rules/schedules.yaml`)"
    ]
    evaluated = {result["check"] for result in json.loads(done.stdout)}
    assert "monitor.queue_size" in evaluated  # the operations schedule still ran
    assert "monitor.duplicate_participation" not in evaluated  # only the broken schedule selects it
    assert done.returncode == 3


def test_run_skips_a_campaign_in_an_unknown_time_zone(repo_copy: Path, demo_url: str) -> None:
    campaign = repo_copy / "campaigns/birthday_bonus.yaml"
    _edit(campaign, "timezone: Europe/Moscow", "timezone: Europe/Moskva")
    done = run_cli("run", "--format", "json", "--now", LAUNCH_DAY, cwd=repo_copy,
                   env={"CAMPAIGN_GUARD_DEMO_URL": demo_url})  # fmt: skip
    assert "Traceback" not in done.stderr
    line = _line_of(campaign, "Europe/Moskva")
    assert done.stderr.splitlines() == [
        f"campaign-guard: campaigns/birthday_bonus.yaml:{line}: campaign 'birthday_bonus' skipped: "
        "unknown time zone 'Europe/Moskva'; did you mean Europe/Moscow? "
        "(run `campaign-guard validate campaigns/birthday_bonus.yaml`)"
    ]
    gated = {result["campaign"] for result in json.loads(done.stdout) if result["check"].startswith("gate.")}
    assert "birthday_bonus" not in gated
    assert "churn_reactivation" in gated  # another campaign launching that day is still gated
    assert done.returncode == 3


SUBSCRIPTIONS = """subscriptions:
  - name: ops_mail
    channel: email
    recipients: [ops@example.com]
    timezone: Europe/Moscow
    localizations: [queue, dump]
  - name: ops_digest
    channel: email
    recipients: [ops-digest@example.com]
    timezone: Europe/Moskva
    localizations: [queue, dump]
  - name: morning_digest
    channel: email
    recipients: [lead@example.com]
    mode: digest
    digest_schedule: "0 9-21 * * mon-fry"
  - name: late_mail
    channel: email
    recipients: [late@example.com]
    quiet_hours: "21:00-24:15"
"""


def test_notify_skips_a_subscription_whose_zone_digest_schedule_or_quiet_hours_cannot_be_used(
    repo_copy: Path, demo_url: str
) -> None:
    (repo_copy / "rules/subscriptions.yaml").write_text(SUBSCRIPTIONS, encoding="utf-8")
    done = run_cli("run", "--check", "monitor.queue_size", "--now", LAUNCH_DAY, cwd=repo_copy,
                   env={"CAMPAIGN_GUARD_DEMO_URL": demo_url})  # fmt: skip
    assert done.returncode == 1, done.stderr
    notified = run_cli("notify", "--dry-run", "--format", "json", "--now", LAUNCH_DAY, cwd=repo_copy)
    assert "Traceback" not in notified.stderr
    assert notified.stderr.splitlines() == [
        "campaign-guard: rules/subscriptions.yaml:16: subscription 'morning_digest' skipped: digest_schedule "
        "'0 9-21 * * mon-fry': day of week 'fry' is not a day name (mon..sun) or 0-7 "
        "(run `campaign-guard validate rules/subscriptions.yaml`)",
        "campaign-guard: rules/subscriptions.yaml:10: subscription 'ops_digest' skipped: unknown time zone "
        "'Europe/Moskva'; did you mean Europe/Moscow? (run `campaign-guard validate rules/subscriptions.yaml`)",
        "campaign-guard: rules/subscriptions.yaml:20: subscription 'late_mail' skipped: quiet_hours '21:00-24:15': "
        "hour 24 is out of range 0-23 (run `campaign-guard validate rules/subscriptions.yaml`)",
    ]
    report = json.loads(notified.stdout)
    assert list(report["matched"]) == ["ops_mail"]
    assert notified.returncode == 3


def test_check_of_a_campaign_in_an_unknown_time_zone_says_why(repo_copy: Path) -> None:
    campaign = repo_copy / "campaigns/birthday_bonus.yaml"
    _edit(campaign, "timezone: Europe/Moscow", "timezone: Europe/Moskva")
    done = run_cli("check", "birthday_bonus", "--now", LAUNCH_DAY, cwd=repo_copy,
                   env={"CAMPAIGN_GUARD_DEMO_URL": "sqlite://"})  # fmt: skip
    line = _line_of(campaign, "Europe/Moskva")
    assert (done.returncode, done.stdout, done.stderr) == (
        3,
        "",
        f"campaign-guard: campaigns/birthday_bonus.yaml:{line}: campaign 'birthday_bonus' skipped: unknown time zone "
        "'Europe/Moskva'; did you mean Europe/Moscow? (run `campaign-guard validate campaigns/birthday_bonus.yaml`)\n",
    )


def test_route_names_the_subscription_notify_would_skip(repo_copy: Path) -> None:
    (repo_copy / "rules/subscriptions.yaml").write_text(SUBSCRIPTIONS, encoding="utf-8")
    done = run_cli("route", "--check", "monitor.queue_size", "--severity", "problem", "--localization", "queue",
                   "--format", "json", cwd=repo_copy)  # fmt: skip
    assert [answer["subscription"] for answer in json.loads(done.stdout)] == ["ops_mail"]
    assert [line.split(" skipped: ")[0] for line in done.stderr.splitlines()] == [
        "campaign-guard: rules/subscriptions.yaml:16: subscription 'morning_digest'",
        "campaign-guard: rules/subscriptions.yaml:10: subscription 'ops_digest'",
        "campaign-guard: rules/subscriptions.yaml:20: subscription 'late_mail'",
    ]
    assert done.returncode == 0  # an answer, not a delivery: notify is the one that exits 3
