"""One subscription's broken template fails that subscription alone; templates render with no store lock held."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa

from runner.engine.result import Result, Status
from runner.findings import Severity
from runner.main import main
from runner.notify import render, rendering
from runner.notify.delivery import LEASE
from runner.notify.message import Message, Rendered
from runner.notify.planner import plan
from runner.notify.rendering import render_outbox
from runner.notify.subscriptions import Subscription, load_subscriptions, subscription
from runner.repository import Repository
from runner.sandbox import BoundedSandbox, Limits
from runner.static.subscription_texts import sample_message
from runner.store.clock import to_store
from runner.store.connect import _LOCK_KEY, open_store
from runner.store.record import record
from runner.store.runs import start_run
from runner.store.tables import outbox

from .conftest import LAUNCH_DAY
from .databases import scratch_database
from .servers import Mailbox

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NOW = T0.isoformat()
LATER = (T0 + timedelta(minutes=5)).isoformat()
LATEST = (T0 + timedelta(minutes=10)).isoformat()
GOOD = "  - name: good\n    channel: email\n    recipients: [good@example.com]\n"
BROKEN = '  - name: broken\n    channel: email\n    recipients: [broken@example.com]\n    template: "{{ 1/0 }}"\n'
POOL = Result(
    "monitor.promo_pool_low",
    "WELCOME10",
    Severity.PROBLEM,
    "promo_pool",
    Status.FAIL,
    "Promo pool running dry",
    observed=37,
    expected=">= 100",
    cause="37 free codes left",
    hint="Load new codes",
)
FAILED = "subscription 'broken': template line 1: division by zero"


def _repository(root: Path) -> Path:
    """The broken and the good subscription, and one open problem for both in the store."""
    (root / "rules/subscriptions.yaml").write_text("subscriptions:\n" + BROKEN + GOOD, encoding="utf-8")
    store = open_store(root)
    record(store, start_run(store, "run", "", T0), [POOL], T0)
    store.close()
    return root


@pytest.fixture
def repo(repo_copy: Path) -> Path:
    return _repository(repo_copy)


@pytest.fixture
def mailbox(smtp_server: Callable[..., int], monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    box = Mailbox()
    port = smtp_server(box)
    monkeypatch.setenv("CAMPAIGN_GUARD_SMTP_URL", f"smtp://127.0.0.1:{port}?from=guard@example.com")
    return box


def notify(repo: Path, now: str, *args: str) -> int:
    return main(["--root", str(repo), "notify", "--now", now, *args])


def outbox_rows(repo: Path) -> list[tuple[Any, ...]]:
    store = open_store(repo)
    with store.read() as connection:
        query = sa.select(outbox.c.id, outbox.c.subscription, outbox.c.status, outbox.c.subject, outbox.c.last_error)
        rows = [tuple(row) for row in connection.execute(query.order_by(outbox.c.id))]
    store.close()
    return rows


def problems(repo: Path, capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str, str, str]]:
    capsys.readouterr()
    assert main(["--root", str(repo), "problems", "list", "--format", "json", "--status", "all"]) == 0
    listed = json.loads(capsys.readouterr().out)
    return sorted((p["check"], p["subject"], p["status"], p["cause"]) for p in listed)


def test_a_broken_template_fails_its_subscription_alone(
    repo: Path, mailbox: Mailbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert notify(repo, NOW) == 4
    assert capsys.readouterr().out.splitlines() == [
        "broken: 1 new notification(s)",
        "good: 1 new notification(s)",
        f"#1 broken immediate via email: (not rendered) - failed: {FAILED}",
        "#2 good immediate via email: [campaign-guard] problem opened: Promo pool running dry (WELCOME10) - sent",
        "1 message(s) sent, 0 to retry, 1 failed",
    ]
    (mail,) = mailbox.messages()
    assert (mail["To"], mail["Subject"]) == (
        "good@example.com",
        "[campaign-guard] problem opened: Promo pool running dry (WELCOME10)",
    )
    assert outbox_rows(repo) == [
        (1, "broken", "failed", "(not rendered)", FAILED),  # kept, with why
        (2, "good", "sent", "[campaign-guard] problem opened: Promo pool running dry (WELCOME10)", None),
    ]
    assert problems(repo, capsys) == [
        ("monitor.promo_pool_low", "WELCOME10", "open", "37 free codes left"),
        ("system.notify_failed", "broken", "open", f"a message could not be rendered: {FAILED}"),
    ]  # the good subscription passed: no problem of its own

    # the failure is news like any problem: the good subscription hears of it
    assert notify(repo, LATER) == 4
    assert [mail["Subject"] for mail in mailbox.messages()][1:] == [
        "[campaign-guard] problem opened: A subscription's messages could not be made or delivered (broken)"
    ]

    # fixed, the kept message is rendered again and sent; the system problem resolves
    fixed = BROKEN.replace("{{ 1/0 }}", "{{ heading }} - fixed")
    (repo / "rules/subscriptions.yaml").write_text("subscriptions:\n" + fixed + GOOD, encoding="utf-8")
    capsys.readouterr()
    assert notify(repo, LATEST, "--retry-failed") == 0
    sent_to_broken = [mail.get_content() for mail in mailbox.messages() if mail["To"] == "broken@example.com"]
    assert sent_to_broken[0] == "Problem opened: Promo pool running dry (WELCOME10) - fixed\n"
    assert [row[2] for row in outbox_rows(repo)] == ["sent"] * len(outbox_rows(repo))
    assert ("system.notify_failed", "broken", "resolved", f"a message could not be rendered: {FAILED}") in problems(
        repo, capsys
    )


def test_a_dry_run_shows_the_failure_and_changes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert notify(repo, NOW, "--dry-run") == 4
    assert capsys.readouterr().out.splitlines()[2:] == [
        f"#1 broken immediate via email: (not rendered) - failed: {FAILED}",
        "#2 good immediate via email: [campaign-guard] problem opened: Promo pool running dry (WELCOME10) - would send",
        "1 message(s) would be sent, 0 to retry, 1 failed (dry run: nothing was stored or sent)",
    ]
    assert outbox_rows(repo) == []


def _lock_probe(url: str) -> Callable[[], str]:
    """Take the store's write lock from another connection at once: "taken", or why not."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        assert path is not None

        def take_sqlite() -> str:
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                return "taken"
            except sqlite3.OperationalError as error:
                return str(error)
            finally:
                other.close()

        return take_sqlite
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)

    def take_advisory() -> str:
        with engine.connect() as other, other.begin():
            free = other.execute(sa.select(sa.func.pg_try_advisory_xact_lock(_LOCK_KEY))).scalar_one()
        return "taken" if free else "the advisory lock is held"

    return take_advisory


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_templates_render_with_no_store_lock_held(
    backend: str, repo_copy: Path, mailbox: Mailbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a (slow) template renders, another process can take the store's write lock."""
    with scratch_database(backend, tmp_path) as url:
        monkeypatch.setenv("CAMPAIGN_GUARD_STATE_URL", url)
        repo = _repository(repo_copy)
        take_the_lock = _lock_probe(url)
        store = open_store(repo)
        with store.write():
            held = take_the_lock()  # the probe fails while the lock is held
        store.close()
        assert held != "taken"

        probes: list[tuple[str, str]] = []
        real = rendering.render_for

        def slow_render(sub: Subscription, message: Message) -> Rendered:
            probes.append((sub.name, take_the_lock()))
            return real(sub, message)

        monkeypatch.setattr(rendering, "render_for", slow_render)
        assert notify(repo, NOW) == 4
        assert probes == [("broken", "taken"), ("good", "taken")]
        assert len(mailbox.messages()) == 1


def test_run_notify_prints_its_results_when_a_template_fails(
    repo_copy: Path,
    demo_url: str,
    mailbox: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAMPAIGN_GUARD_DEMO_URL", demo_url)
    (repo_copy / "rules/subscriptions.yaml").write_text("subscriptions:\n" + BROKEN + GOOD, encoding="utf-8")
    code = main(["--root", str(repo_copy), "run", "--check", "monitor.queue_size", "--notify", "--now", LAUNCH_DAY])
    out, err = capsys.readouterr()
    assert code == 4
    assert "monitor.queue_size" in out and out.splitlines()[-1].startswith("Problems: ")
    assert err.splitlines() == [
        "Notifications: 1 sent, 1 not delivered",
        f"campaign-guard: message #1 not delivered: {FAILED}",
    ]
    assert [mail["To"] for mail in mailbox.messages()] == ["good@example.com"]


def test_a_recipient_refused_for_good_fails_its_subscription_alone(
    repo: Path, mailbox: Mailbox, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = GOOD.replace("good", "gone")
    (repo / "rules/subscriptions.yaml").write_text("subscriptions:\n" + refused + GOOD, encoding="utf-8")
    mailbox.refused.add("gone@example.com")
    assert notify(repo, NOW) == 4
    assert [mail["To"] for mail in mailbox.messages()] == ["good@example.com"]
    ((id_, error),) = [(row[0], row[4]) for row in outbox_rows(repo) if row[2] == "failed"]
    assert [p for p in problems(repo, capsys) if p[0] == "system.notify_failed"] == [
        ("system.notify_failed", "gone", "open", f"subscription 'gone': message #{id_} was refused for good: {error}")
    ]


def test_a_message_left_unrendered_by_a_dead_process_is_rendered_by_the_next(
    repo: Path, mailbox: Mailbox, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "rules/subscriptions.yaml").write_text("subscriptions:\n" + GOOD, encoding="utf-8")
    subscriptions = load_subscriptions(Repository(repo))
    store = open_store(repo)
    with store.write() as connection:  # planned, then the process died before rendering
        plan(connection, subscriptions, {}, T0)
    with store.write() as connection:  # and it had leased the row until 08:05
        connection.execute(sa.update(outbox).values(claimed_by="dead", claimed_until=to_store(T0 + LEASE)))
    assert render_outbox(store, subscriptions, T0 + timedelta(minutes=1)) == rendering.Outcome()  # its lease holds
    store.close()
    assert outbox_rows(repo) == [(1, "good", "rendering", "", None)]
    assert notify(repo, (T0 + LEASE + timedelta(seconds=1)).isoformat()) == 0  # the lease expired
    assert [mail["Subject"] for mail in mailbox.messages()] == [
        "[campaign-guard] problem opened: Promo pool running dry (WELCOME10)"
    ]


def test_once_a_template_runs_out_of_time_its_other_messages_fail_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    hurried = BoundedSandbox(loader=render._NothingToLoad(), limits=Limits(seconds=0.001), **render._SETTINGS)
    monkeypatch.setattr(render, "sandbox", lambda autoescape: render._equip(hurried))
    slow = subscription({"name": "slow", "channel": "email", "recipients": ["a@example.com"],
                         "template": "{% for i in range(99999) %}{{ i }}{% endfor %}"})  # fmt: skip
    quick = subscription({"name": "quick", "channel": "email", "recipients": ["b@example.com"]})
    rows = [
        SimpleNamespace(id=n, subscription=sub.name, body=rendering.to_json(sample_message(sub.name, "immediate")))
        for n, sub in enumerate((slow, slow, quick), start=1)
    ]
    done, outcome = rendering.render_rows(rows, [slow, quick])
    assert list(done) == [3]
    assert outcome.failed == {
        1: ("slow", "subscription 'slow': template line 1: the template takes longer than 0.001 s to render"),
        2: ("slow", "subscription 'slow': not rendered, its template ran out of time on message #1"),
    }
