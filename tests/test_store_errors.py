"""A state store that is full, locked, damaged, read-only or empty: one line naming it, exit 4, nothing lost."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from runner import main as cli
from runner.commands import run as run_command
from runner.store import connect, failures

from .conftest import LAUNCH_DAY, ROOT, run_cli

NO_CRM = {"CAMPAIGN_GUARD_DEMO_URL": "sqlite://"}  # an empty in-memory CRM: every check errs, and is recorded
RUN = ("run", "--now", LAUNCH_DAY)
CORRUPTED = (
    "is not a readable SQLite store (corrupted?); move it away and run again: "
    "a new one will be created (problems history starts over)"
)
FULL = (
    "the disk is full; free space and run again (nothing was half-written: the transaction was rolled back)"
)  # fmt: skip
READ_ONLY = "cannot be written (read-only file or directory?); make it and its directory writable and run again"


@pytest.fixture
def store_file(state_store: str) -> Path:
    """The test's state store after one real run: every table has rows."""
    done = run_cli(*RUN, env=NO_CRM)
    assert done.returncode == 4, done.stderr  # the empty CRM: checks err, their results are stored
    return Path(state_store.removeprefix("sqlite:///"))


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("runs", "results")}


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


COMMANDS = [
    ("problems", "list"),
    ("notify", "--dry-run", "--now", LAUNCH_DAY),
    (*RUN, "--check", "monitor.queue_size"),
    ("report", "--now", LAUNCH_DAY),
    ("outbound", "status"),
]


def damage(path: Path, how: str) -> None:
    for extra in path.parent.glob(path.name + "-*"):  # no WAL to recover the pages from
        extra.unlink()
    if how == "header":
        with path.open("r+b") as file:
            file.write(b"\x8f\x13 random bytes, not SQLite\x00\xff")
    elif how == "truncated":
        with path.open("r+b") as file:
            file.truncate(5000)
    else:
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["header", "truncated", "zero-byte"])
def test_a_damaged_store_is_one_line_exit_4_and_left_as_it_is(store_file: Path, state_store: str, how: str) -> None:
    with sqlite3.connect(store_file) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    damage(store_file, how)
    before = digest(store_file)
    for command in COMMANDS:
        done = run_cli(*command, env=NO_CRM)
        expected = (4, f"campaign-guard: state store {state_store} {CORRUPTED}\n")
        assert (done.returncode, done.stderr) == expected, command
        assert done.stdout == "", command
    assert digest(store_file) == before  # not repaired, not re-created: the user decides


def test_a_read_only_store_is_one_line_exit_4(store_file: Path) -> None:
    url = f"sqlite:///file:{store_file}?mode=ro&uri=true"
    label = sa.engine.make_url(url).render_as_string()
    done = run_cli(*RUN, env={**NO_CRM, "CAMPAIGN_GUARD_STATE_URL": url})
    assert (done.returncode, done.stderr, done.stdout) == (4, f"campaign-guard: state store {label} {READ_ONLY}\n", "")


@pytest.fixture
def lock_holder(store_file: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction on the store (BEGIN IMMEDIATE), released at the end."""
    other = sqlite3.connect(store_file, isolation_level=None)
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def locked_line(state_store: str, wait: str) -> str:
    return (
        f"campaign-guard: state store {state_store} is locked by another campaign-guard process for more than "
        f"{wait} s; run again when it is done, or wait longer with CAMPAIGN_GUARD_STORE_LOCK_WAIT=SECONDS\n"
    )


def test_a_store_locked_before_the_run_waits_the_configured_time(
    store_file: Path, state_store: str, lock_holder: sqlite3.Connection
) -> None:
    lock_holder.execute("BEGIN IMMEDIATE")
    done = run_cli(*RUN, env={**NO_CRM, "CAMPAIGN_GUARD_STORE_LOCK_WAIT": "0.2"})
    assert (done.returncode, done.stderr, done.stdout) == (4, locked_line(state_store, "0.2"), "")


def test_a_store_locked_mid_run_is_one_line_and_the_run_is_kept(
    store_file: Path,
    state_store: str,
    lock_holder: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = counts(store_file)
    real_record = run_command.record

    def lock_then_record(*args: Any, **kwargs: Any) -> Any:
        lock_holder.execute("BEGIN IMMEDIATE")  # another process takes the lock once the checks are evaluated
        return real_record(*args, **kwargs)

    monkeypatch.setattr(run_command, "record", lock_then_record)
    monkeypatch.setenv("CAMPAIGN_GUARD_STORE_LOCK_WAIT", "0.1")
    monkeypatch.setenv("CAMPAIGN_GUARD_DEMO_URL", "sqlite://")
    exit_code = cli.main(["--root", str(ROOT), *RUN])
    captured = capsys.readouterr()
    assert (exit_code, captured.err) == (4, locked_line(state_store, "0.1"))
    assert "monitor.queue_size" in captured.out  # the results evaluated before the store refused them
    lock_holder.execute("ROLLBACK")
    assert counts(store_file) == {**before, "runs": before["runs"] + 1}  # the started run, nothing half-recorded
    assert integrity(store_file) == "ok"


def test_a_bad_lock_wait_is_a_usage_error(store_file: Path) -> None:
    done = run_cli(*RUN, env={**NO_CRM, "CAMPAIGN_GUARD_STORE_LOCK_WAIT": "soon"})
    assert (done.returncode, done.stderr) == (
        3,
        "campaign-guard: CAMPAIGN_GUARD_STORE_LOCK_WAIT='soon': give the seconds to wait for the state store's lock"
        " (0-86400)\n",
    )


def test_a_full_disk_is_one_line_exit_4_and_nothing_is_lost(
    store_file: Path, state_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = counts(store_file)
    with sqlite3.connect(store_file) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    real_engine = connect._engine

    def no_room(*args: Any, **kwargs: Any) -> sa.Engine:
        # SQLite's own SQLITE_FULL: the store's connections may not grow the file by a single page
        engine = real_engine(*args, **kwargs)
        sa.event.listen(engine, "connect", lambda dbapi, _: dbapi.execute(f"PRAGMA max_page_count={pages}"))
        return engine

    monkeypatch.setattr(connect, "_engine", no_room)
    monkeypatch.setenv("CAMPAIGN_GUARD_DEMO_URL", "sqlite://")
    exit_code = cli.main(["--root", str(ROOT), *RUN, "--format", "json"])
    captured = capsys.readouterr()
    assert (exit_code, captured.err) == (4, f"campaign-guard: state store {state_store}: {FULL}\n")
    printed = json.loads(captured.out)  # the results evaluated before the store refused them are shown
    assert integrity(store_file) == "ok"
    after_failure = counts(store_file)
    assert after_failure["results"] == before["results"]  # nothing lost, nothing half-written
    done = run_cli(*RUN, "--format", "json", env=NO_CRM)  # another process, with space again
    assert done.returncode == 4, done.stderr  # the empty CRM's check errors, as before: the store took them
    assert json.loads(done.stdout) == printed
    assert "state store" not in done.stderr
    final = counts(store_file)
    assert final["results"] == 2 * before["results"]
    assert final["runs"] == after_failure["runs"] + 1
    assert integrity(store_file) == "ok"


def test_the_lock_wait_is_30_seconds_unless_configured() -> None:
    assert (failures.lock_wait({}), failures.lock_wait({"CAMPAIGN_GUARD_STORE_LOCK_WAIT": "2.5"})) == (30.0, 2.5)
