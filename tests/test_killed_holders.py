"""A killed process never blinds the next one: `run --due` and `notify` killed with SIGKILL mid-way.

The killed run is a real `campaign-guard run --due` blocked inside its evaluation: the demo CRM is
on PostgreSQL and the test holds a lock on one of its tables, so a check's SELECT waits until the
test kills the process. The state store is SQLite (its holders are lock files), PostgreSQL and
MariaDB (their holders are session locks, which the server drops once it notices the session is
gone: the test waits for that, as the next cron run would be minutes later).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner.report.times import clock
from runner.store.connect import Store, open_store
from runner.store.holders import alive, hold
from runner.store.tables import outbox, runs

from .conftest import ROOT, run_cli
from .databases import scratch_database
from .servers import Mailbox

NOW = "2026-12-01T11:01:00+03:00"
RUN_DUE = ("run", "--due", "--format", "json", "--now", NOW)
HOST = socket.gethostname()
KILLED = "killed before it finished"
BACKENDS = ["sqlite", "postgresql", "mariadb"]


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo CRM (scale 0.01, as of the launch day) on PostgreSQL, so the test can hold a lock in it."""
    with scratch_database("postgresql", tmp_path_factory.mktemp("crm")) as url:
        built = run_cli("demo", "--scale", "0.01", "--now", NOW, "--url", url)
        assert built.returncode == 0, built.stderr
        yield url


@pytest.fixture(scope="module")
def alone(crm: str, tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """The first `run --due` ever on a store of its own: every schedule is due (what a run that took over does)."""
    state = f"sqlite:///{tmp_path_factory.mktemp('alone') / 'state.db'}"
    done = run_cli(*RUN_DUE, env={"CAMPAIGN_GUARD_DEMO_URL": crm, "CAMPAIGN_GUARD_STATE_URL": state})
    assert done.returncode == 1, done.stderr  # the demo's injected faults are open problems
    assert len(json.loads(done.stdout)) > 50
    return done


@pytest.fixture(params=BACKENDS)
def state(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The state store of the test: CAMPAIGN_GUARD_STATE_URL for the commands and for the test's own looks."""
    with scratch_database(request.param, tmp_path) as url:
        monkeypatch.setenv("CAMPAIGN_GUARD_STATE_URL", url)
        yield url


def wait_for(condition: Callable[[], bool], what: str, process: subprocess.Popen[str] | None = None) -> None:
    """Until the condition holds (a minute at most); a process that ended before is a failure with its stderr."""
    deadline = time.monotonic() + 60
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(
                f"the process ended ({process.returncode}) before {what}: {process.stderr and process.stderr.read()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within a minute")
        time.sleep(0.02)


@contextmanager
def locked_table(crm: str, table: str) -> Iterator[Callable[[], bool]]:
    """The CRM table locked by the test; yields whether another session waits for it (a check's SELECT)."""
    engine = sa.create_engine(crm)
    try:
        with engine.connect() as holder, engine.connect() as looker:
            holder.execute(sa.text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))

            def waiting() -> bool:
                query = "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                found = looker.execute(sa.text(f"{query} WHERE c.relname = :table AND NOT l.granted"), {"table": table})
                looker.rollback()
                return bool(found.scalar())

            yield waiting
            holder.rollback()
    finally:
        engine.dispose()


def start(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *args],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


@contextmanager
def looking() -> Iterator[Store]:
    store = open_store(ROOT)
    try:
        yield store
    finally:
        store.close()


def run_rows() -> list[dict[str, Any]]:
    with looking() as store, store.read() as connection:
        query = sa.select(runs.c.id, runs.c.status, runs.c.pid, runs.c.holder, runs.c.started_at).order_by(
            runs.c.started_at
        )
        return [dict(row._mapping) for row in connection.execute(query)]


def holder_alive(holder: str) -> bool:
    with looking() as store, store.read() as connection:
        return alive(store, connection, holder)


def blocked_run(crm: str, waiting: Callable[[], bool]) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """A `run --due` that claimed its schedules and waits inside a check; its row of runs."""
    process = start(*RUN_DUE, env={"CAMPAIGN_GUARD_DEMO_URL": crm})
    wait_for(waiting, "a check waiting for the locked table", process)
    (row,) = [row for row in run_rows() if row["pid"] == process.pid]
    assert (row["status"], holder_alive(row["holder"])) == ("running", True)
    return process, row


def test_a_run_killed_mid_way_is_taken_over_at_once_and_reported_abandoned(
    crm: str, alone: subprocess.CompletedProcess[str], state: str
) -> None:
    with locked_table(crm, "queue_samples") as waiting:
        killed, row = blocked_run(crm, waiting)
        kill(killed)
    wait_for(lambda: not holder_alive(row["holder"]), "end of the killed run's session")
    started = clock(row["started_at"].replace(tzinfo=UTC), datetime.fromisoformat(NOW))
    process = f"pid {killed.pid} on {HOST}"
    line = f"abandoned  run {row['id']} ({process}), started {started}: {KILLED}"
    before = run_cli("report", "--now", NOW)  # not marked yet: the report sees its process is gone
    assert before.stdout.splitlines()[4:6] == [
        "runs       1 in the window, the newest evaluated at 2026-12-01 11:01 +03:00",
        line,
    ]

    after = run_cli(*RUN_DUE, env={"CAMPAIGN_GUARD_DEMO_URL": crm})
    assert (after.returncode, after.stderr) == (1, "")  # no "is being evaluated by run ...; skipped"
    assert after.stdout == alone.stdout  # every schedule evaluated, as by the first run ever
    assert [(r["id"] == row["id"], r["status"]) for r in run_rows()] == [(True, "abandoned"), (False, "done")]

    report = run_cli("report", "--now", NOW)
    assert report.stdout.splitlines()[4:6] == [
        "runs       2 in the window, the newest evaluated at 2026-12-01 11:01 +03:00",
        line,
    ]
    markdown = run_cli("report", "--format", "markdown", "--now", NOW)
    assert (
        f"- **abandoned:** run `{row['id']}` ({process}), started {started}: {KILLED}"
    ) in markdown.stdout.splitlines()
    page = run_cli("report", "--format", "html", "--now", NOW)
    assert (
        f'  <dt>abandoned</dt><dd class="fail">run <code>{row["id"]}</code> ({process}), '
        f"started {started}: {KILLED}</dd>"
    ) in page.stdout.splitlines()


def test_a_run_whose_holder_is_alive_is_respected_and_the_other_exits_0_on_one_line(
    crm: str, alone: subprocess.CompletedProcess[str], state: str
) -> None:
    with locked_table(crm, "queue_samples") as waiting:
        busy, row = blocked_run(crm, waiting)
        other = run_cli(*RUN_DUE, env={"CAMPAIGN_GUARD_DEMO_URL": crm})
        assert (other.returncode, other.stdout, other.stderr) == (
            0,
            "[]\n",
            f"campaign-guard: every due schedule is being evaluated by run {row['id']} (pid {busy.pid} on {HOST}, "
            "alive); nothing to do\n",
        )
        text = run_cli("run", "--due", "--now", NOW, env={"CAMPAIGN_GUARD_DEMO_URL": crm})
        assert (text.returncode, text.stdout, text.stderr) == (0, "", other.stderr)
    out, err = busy.communicate(timeout=300)  # the lock is gone: the live run goes on and finishes
    assert (busy.returncode, out, err) == (1, alone.stdout, "")
    assert [r["status"] for r in run_rows()] == ["done", "done", "done"]


SUBSCRIPTIONS = """subscriptions:
  - name: ops_mail
    channel: email
    recipients: [ops@example.com]
    timezone: Europe/Moscow
    localizations: [queue, dump]
    events: [opened]
"""


def test_a_notify_killed_while_sending_leaves_its_message_to_the_next_one(
    crm: str, state: str, repo_copy: Path, smtp_server: Callable[..., int]
) -> None:
    (repo_copy / "rules/subscriptions.yaml").write_text(SUBSCRIPTIONS, encoding="utf-8")
    env = {"CAMPAIGN_GUARD_DEMO_URL": crm}
    opened = run_cli("run", "--check", "monitor.queue_size", "--now", NOW, cwd=repo_copy, env=env)
    assert opened.returncode == 1, opened.stderr
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never answers: the message waits for a banner
    with silent:
        smtp = {"CAMPAIGN_GUARD_SMTP_URL": f"smtp://127.0.0.1:{silent.getsockname()[1]}?from=guard@example.com"}
        sending = start("notify", "--now", NOW, cwd=repo_copy, env=smtp)
        silent.settimeout(60)
        connection, _ = silent.accept()  # notify claimed the message and is sending it
        with connection:
            with looking() as store, store.read() as db:
                ((status, holder),) = db.execute(sa.select(outbox.c.status, outbox.c.claim_holder)).all()
            assert status == "pending" and holder is not None and holder_alive(holder)
            kill(sending)
    wait_for(lambda: not holder_alive(holder), "end of the killed notify's session")

    mailbox = Mailbox()
    port = smtp_server(mailbox)
    smtp = {"CAMPAIGN_GUARD_SMTP_URL": f"smtp://127.0.0.1:{port}?from=guard@example.com"}
    again = run_cli("notify", "--now", NOW, cwd=repo_copy, env=smtp)  # the same moment: well inside the lease
    assert (again.returncode, again.stdout.splitlines()[-1]) == (0, "1 message(s) sent, 0 to retry, 0 failed")
    assert [message["To"] for message in mailbox.messages()] == ["ops@example.com"]
    with looking() as store, store.read() as db:
        rows = db.execute(sa.select(outbox.c.status, outbox.c.attempts, outbox.c.claim_holder)).all()
    assert [tuple(row) for row in rows] == [("sent", 1, None)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_holder_lives_as_long_as_its_store_is_open(backend: str, tmp_path: Path) -> None:
    with scratch_database(backend, tmp_path) as url:
        mine, other = (
            open_store(ROOT, {"CAMPAIGN_GUARD_STATE_URL": url}),
            open_store(ROOT, {"CAMPAIGN_GUARD_STATE_URL": url}),
        )
        try:
            holder = hold(mine)
            assert hold(mine) is holder  # one per open store
            with other.read() as connection:
                assert alive(other, connection, holder.id)
                assert not alive(other, connection, "0" * 32)  # never held
            mine.close()  # releases it
            with other.read() as connection:
                assert not alive(other, connection, holder.id)
        finally:
            mine.close()
            other.close()
        if backend == "sqlite":
            assert list((tmp_path / "scratch.db.holders").iterdir()) == []  # its lock file went with it


def test_lock_files_of_dead_processes_are_swept_when_a_holder_is_taken(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    directory = tmp_path / "state.db.holders"
    directory.mkdir()
    (directory / f"{'d' * 32}.lock").write_text("")  # its process died: nobody holds the file
    store = open_store(ROOT, {"CAMPAIGN_GUARD_STATE_URL": url})
    try:
        holder = hold(store)
        assert sorted(path.name for path in directory.iterdir()) == [f"{holder.id}.lock"]
    finally:
        store.close()
    assert list(directory.iterdir()) == []
