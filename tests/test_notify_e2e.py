"""`campaign-guard notify` end to end: a demo run, a real SMTP server on loopback, failure and recovery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from runner.store.connect import open_store
from runner.store.tables import outbox

from .conftest import LAUNCH_DAY, ROOT, run_cli
from .servers import Mailbox, closed_port, port_of

T = LAUNCH_DAY
SUBSCRIPTIONS = """subscriptions:
  - name: ops_mail
    description: Queues and dumps to the operations team.
    owner: crm-dev
    channel: email
    recipients: [ops@example.com]
    language: en
    timezone: Europe/Moscow
    localizations: [queue, dump]
    events: [opened, reopened, resolved]
"""


@pytest.fixture
def repo(repo_copy: Path, demo_url: str) -> Iterator[Path]:
    (repo_copy / "rules/subscriptions.yaml").write_text(SUBSCRIPTIONS, encoding="utf-8")
    done = run_cli("run", "--check", "monitor.queue_size", "--check", "monitor.new_dumps", "--now", T, cwd=repo_copy,
                   env={"CAMPAIGN_GUARD_DEMO_URL": demo_url})  # fmt: skip
    assert done.returncode == 1, done.stderr
    yield repo_copy


def notify(repo: Path, now: str, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"CAMPAIGN_GUARD_SMTP_URL": f"smtp://127.0.0.1:{port}?from=guard@example.com"}
    return run_cli("notify", "--now", now, *args, cwd=repo, env=env)


def outbox_rows() -> list[tuple[int, str, int, str | None]]:
    store = open_store(ROOT)
    with store.read() as connection:
        rows = connection.execute(sa.select(outbox.c.id, outbox.c.status, outbox.c.attempts, outbox.c.last_error))
        found = [tuple(row) for row in rows]
    store.close()
    return found  # type: ignore[return-value]


def test_dry_run_shows_the_message_and_changes_nothing(repo: Path) -> None:
    port = port_of(closed_port())
    for _ in range(2):  # the same message #1 both times: the first dry run stored nothing
        done = notify(repo, T, port, "--dry-run")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [
            "ops_mail: 2 new notification(s)",
            "#1 ops_mail immediate via email: [campaign-guard] 2 problems: 2 opened - would send",
            "1 message(s) would be sent, 0 to retry, 0 failed (dry run: nothing was stored or sent)",
        ]
    assert outbox_rows() == []


def test_server_down_then_up_nothing_lost_nothing_twice(repo: Path, smtp_server: Callable[..., int]) -> None:
    sock = closed_port()  # bound, not listening: the SMTP server is down
    port = port_of(sock)
    down = notify(repo, T, port)
    assert down.returncode == 4
    assert "to retry" in down.stdout.splitlines()[-1]
    ((_, status, attempts, error),) = outbox_rows()
    assert (status, attempts) == ("pending", 1)
    assert error is not None and "127.0.0.1" in error

    early = notify(repo, "2026-12-01T11:00:30+03:00", port)  # the retry waits a minute (backoff)
    assert (early.returncode, early.stdout) == (0, "0 message(s) sent, 0 to retry, 0 failed\n")

    mailbox = Mailbox()
    smtp_server(mailbox, sock)  # the server comes up on the same port
    up = notify(repo, "2026-12-01T11:02:00+03:00", port)
    assert up.returncode == 0, up.stdout
    assert up.stdout.splitlines()[-1] == "1 message(s) sent, 0 to retry, 0 failed"
    again = notify(repo, "2026-12-01T11:03:00+03:00", port)
    assert again.stdout == "0 message(s) sent, 0 to retry, 0 failed\n"

    (message,) = mailbox.messages()
    assert message["Subject"] == "[campaign-guard] 2 problems: 2 opened"
    assert message["To"] == "ops@example.com"
    assert message["Message-ID"] == "<ops_mail%3Aimmediate%3Aevent%3A1@campaign-guard>"  # the outbox key, escaped
    body = message.get_content()
    assert "Queue above its limit" in body and "A program crashed" in body
    assert outbox_rows() == [(1, "sent", 2, None)]


def test_two_notify_processes_at_once_send_each_message_once(repo: Path, smtp_server: Callable[..., int]) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    env = {**os.environ, "CAMPAIGN_GUARD_SMTP_URL": f"smtp://127.0.0.1:{port}?from=guard@example.com"}
    command = [sys.executable, "-m", "runner", "notify", "--now", T]
    processes = [subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outputs = [process.communicate(timeout=120)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert len(mailbox.messages()) == 1
    assert sorted(line.split(" message(s)")[0] for out in outputs for line in out.splitlines()[-1:]) == ["0", "0", "1"]


def test_a_resolution_is_told_to_who_heard_of_the_opening(repo: Path, smtp_server: Callable[..., int]) -> None:
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    notify(repo, T, port)
    listed = json.loads(run_cli("problems", "list", "--format", "json", "--localization", "dump", cwd=repo).stdout)
    run_cli("problems", "resolve", str(listed[0]["fingerprint"]), "--now", "2026-12-01T11:10:00+03:00", cwd=repo)
    done = notify(repo, "2026-12-01T11:11:00+03:00", port)
    assert done.stdout.splitlines()[-1] == "1 message(s) sent, 0 to retry, 0 failed"
    assert [m["Subject"] for m in mailbox.messages()] == [
        "[campaign-guard] 2 problems: 2 opened",
        "[campaign-guard] problem resolved: A program crashed (ZCRM_SMS_SENDER)",
    ]


def test_run_notify_sends_in_the_same_process(repo_copy: Path, demo_url: str, smtp_server: Callable[..., int]) -> None:
    (repo_copy / "rules/subscriptions.yaml").write_text(SUBSCRIPTIONS, encoding="utf-8")
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    env = {"CAMPAIGN_GUARD_DEMO_URL": demo_url, "CAMPAIGN_GUARD_SMTP_URL": f"smtp://127.0.0.1:{port}"}
    done = run_cli("run", "--check", "monitor.queue_size", "--notify", "--now", T, cwd=repo_copy, env=env)
    assert done.returncode == 1
    assert done.stderr == "Notifications: 1 sent, 0 not delivered\n"
    assert [m["Subject"] for m in mailbox.messages()] == [
        "[campaign-guard] problem opened: Queue above its limit (sms_outbound)"
    ]


def test_route_of_a_described_problem_names_every_subscription() -> None:
    done = run_cli(
        "route", "--check", "monitor.queue_size", "--severity", "problem", "--localization", "queue", "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    answers = {a["subscription"]: a for a in json.loads(done.stdout)}
    # oncall_head and runner_heartbeat filter nothing: every problem reaches them (events decide the rest)
    assert [name for name, a in answers.items() if a["reaches"]] == [
        "crm_dev_telegram",
        "oncall_head",
        "runner_heartbeat",
    ]
    assert answers["crm_dev_telegram"]["when"][0] == ("immediately: now, after group_wait 0:05:00 grouped by check")
    assert answers["legacy_all_problems"]["why"] == "the subscription is disabled (enabled: false)"
    assert answers["loyalty_hotline"]["why"] == "localization queue is not in localizations ['availability']"


def test_route_of_a_stored_problem(repo: Path) -> None:
    listed = json.loads(run_cli("problems", "list", "--format", "json", "--localization", "queue", cwd=repo).stdout)
    done = run_cli("route", str(listed[0]["fingerprint"])[:8], "--now", T, cwd=repo)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "monitor.queue_size sms_outbound (problem, queue): reaches 1 of 1 subscriptions"
    assert lines[1] == "YES   ops_mail  (rules/subscriptions.yaml:2, owner crm-dev)"
    assert lines[2:4] == [
        "      Queues and dumps to the operations team.",
        "      via email to ops@example.com on opened, reopened, resolved",
    ]


def test_route_needs_a_problem() -> None:
    done = run_cli("route", "--check", "monitor.queue_size")
    assert done.returncode == 3
    assert "route: give a FINGERPRINT, or --check, --severity and --localization" in done.stderr


def test_a_message_that_failed_for_good_is_kept_and_sent_after_retry_failed(
    repo: Path, smtp_server: Callable[..., int]
) -> None:
    unset = run_cli("notify", "--now", T, cwd=repo, env={"CAMPAIGN_GUARD_SMTP_URL": ""})
    assert unset.returncode == 4
    assert unset.stdout.splitlines()[-1] == "0 message(s) sent, 0 to retry, 1 failed"
    ((_, status, attempts, error),) = outbox_rows()
    assert (status, attempts) == ("failed", 1)
    assert error is not None and "CAMPAIGN_GUARD_SMTP_URL" in error
    mailbox = Mailbox()
    port = smtp_server(mailbox)
    assert notify(repo, "2026-12-01T11:05:00+03:00", port).stdout.splitlines()[-1] == (
        "0 message(s) sent, 0 to retry, 0 failed"
    )  # failed for good: not retried by itself
    retried = notify(repo, "2026-12-01T11:06:00+03:00", port, "--retry-failed")
    assert retried.stdout.splitlines()[-1] == "1 message(s) sent, 0 to retry, 0 failed"
    assert len(mailbox.messages()) == 1


def test_a_held_message_says_until_when_in_the_display_zone(repo: Path) -> None:
    quiet = SUBSCRIPTIONS + '    quiet_hours: "10:00-12:30"\n'
    (repo / "rules/subscriptions.yaml").write_text(quiet, encoding="utf-8")
    done = notify(repo, T, port_of(closed_port()), "--dry-run", "--tz", "Asia/Tokyo")
    assert (done.returncode, done.stdout.splitlines()) == (
        0,
        [
            "ops_mail: 2 new notification(s)",
            "ops_mail: held (quiet hours or not a working day: held until 2026-12-01 18:30 +09:00)",
            "0 message(s) would be sent, 0 to retry, 0 failed (dry run: nothing was stored or sent)",
        ],
    )
    as_json = json.loads(notify(repo, T, port_of(closed_port()), "--dry-run", "--format", "json").stdout)
    assert as_json["held"] == {"ops_mail": "quiet hours or not a working day: held until 2026-12-01 12:30 MSK"}
