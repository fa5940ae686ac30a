"""`run --deadline`: a check stuck in a query (PostgreSQL pg_sleep) is an error result when the deadline
passes; the run ends then, resolves nothing, and with --due the stuck check's schedule stays due."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from .conftest import run_cli
from .databases import scratch_database

NOW = "2026-12-01T11:00:00+03:00"
LATER = "2026-12-01T11:10:00+03:00"
FAILED = "the rule's query returned 1 rows"
SOURCES = 'default: crm\nsources:\n  crm:\n    url: "${CRM_URL}"\n'
CHECKS = """\
checks:
  - id: crm.stuck_queue
    title: A queue that is stuck (the query sleeps as long as settings.delay says)
    severity: problem
    localization: queue
    sql: "SELECT 'mailing' AS queue FROM settings WHERE pg_sleep(delay) IS NOT NULL"
    hint: Restart the queue.
    schedule: "*/5 * * * *"
  - id: crm.orphans
    title: Orphaned rows
    severity: problem
    localization: integration
    sql: "SELECT 1 AS n WHERE false"
    hint: Delete them.
    schedule: "*/5 * * * *"
"""


@pytest.fixture
def crm(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with scratch_database("postgresql", tmp_path) as url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE settings (delay float)"))
            connection.execute(sa.text("INSERT INTO settings VALUES (0)"))
        engine.dispose()
        repo = tmp_path / "repo"
        (repo / "rules").mkdir(parents=True)
        (repo / "rules" / "sources.yaml").write_text(SOURCES)
        (repo / "rules" / "functional_checks.yaml").write_text(CHECKS)
        yield url, repo


def set_delay(url: str, seconds: float) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE settings SET delay = :s"), {"s": seconds})
    engine.dispose()


def run(url: str, repo: Path, now: str, *args: str) -> tuple[int, list[tuple[str, str, str]]]:
    done = run_cli("run", "--root", str(repo), "--check", "crm.*", "--now", now, "--format", "json", *args,
                   env={"CRM_URL": url})  # fmt: skip
    assert done.stderr == ""
    return done.returncode, [(r["check"], r["status"], r["cause"]) for r in json.loads(done.stdout)]


def open_problems(repo: Path) -> list[tuple[Any, ...]]:
    listed = run_cli("problems", "list", "--root", str(repo), "--format", "json", "--now", LATER)
    return [(p["check"], p["status"]) for p in json.loads(listed.stdout)]


def test_a_check_stuck_in_a_query_is_an_error_at_the_deadline_and_its_schedule_stays_due(crm: tuple[str, Path]):
    url, repo = crm
    assert run(url, repo, NOW, "--due") == (
        1,
        [("crm.stuck_queue", "fail", FAILED), ("crm.orphans", "pass", "")],
    )
    set_delay(url, 25)  # less than the source's statement timeout (30 s): the query is just slow
    started = time.monotonic()
    code, results = run(url, repo, LATER, "--due", "--deadline", "3")
    assert time.monotonic() - started < 10  # the process ends at the deadline, the query still asleep
    assert (code, results) == (
        4,
        [
            ("crm.stuck_queue", "error", "not evaluated: the run's deadline of 3 s passed"),
            ("crm.orphans", "pass", ""),
        ],
    )
    assert open_problems(repo) == [("crm.stuck_queue", "open")]  # an error result resolves nothing
    set_delay(url, 0)
    # the same moment again: the stuck check's schedule is still due; the one that was evaluated is not
    assert run(url, repo, LATER, "--due") == (1, [("crm.stuck_queue", "fail", FAILED)])
