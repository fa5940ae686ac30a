"""Sources are read-only for checks: a SELECT that writes is refused; only the declared actions write."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from .conftest import run_cli
from .databases import scratch_database

NOW = "2026-12-01T11:00:00+03:00"
SOURCES = """\
default: crm
sources:
  crm:
    url: "${CRM_URL}"
    stop_actions:
      - "UPDATE outbound_switch SET enabled = 0"
"""
CHECKS = """\
checks:
  - id: crm.sequence_peek
    title: A query that advances a sequence
    severity: problem
    localization: integration
    sql: {sql}
    hint: Read, never write.
"""
NEXTVAL = {"postgresql": "SELECT nextval('seq') AS n", "mariadb": "SELECT NEXTVAL(seq) AS n"}
SEQUENCE_NOW = {
    "postgresql": "SELECT last_value, is_called FROM seq",
    "mariadb": "SELECT next_not_cached_value, cycle_count FROM seq",
}
REFUSED = {
    "postgresql": "cannot execute nextval() in a read-only transaction",
    "mariadb": "(1792, 'Cannot execute statement in a READ ONLY transaction')",
}


@pytest.fixture(params=["postgresql", "mariadb"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """A scratch database with a sequence and the outbound switch, and a repository with one check on it."""
    backend = str(request.param)
    with scratch_database(backend, tmp_path) as url:
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("CREATE SEQUENCE seq"))
            connection.execute(sa.text("CREATE TABLE outbound_switch (enabled INTEGER)"))
            connection.execute(sa.text("INSERT INTO outbound_switch VALUES (1)"))
        engine.dispose()
        repo = tmp_path / "repo"
        (repo / "rules").mkdir(parents=True)
        (repo / "rules" / "sources.yaml").write_text(SOURCES)
        (repo / "rules" / "functional_checks.yaml").write_text(CHECKS.format(sql=json.dumps(NEXTVAL[backend])))
        yield backend, url, repo


def read(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.text(sql))]
    engine.dispose()
    return rows


def test_a_check_that_advances_a_sequence_is_refused_and_the_sequence_stays(crm: tuple[str, str, Path]):
    backend, url, repo = crm
    before = read(url, SEQUENCE_NOW[backend])
    env = {"CRM_URL": url}
    run = run_cli("run", "--root", str(repo), "--check", "crm.sequence_peek", "--now", NOW, "--format", "json", env=env)
    assert run.returncode == 4, run.stderr
    [result] = json.loads(run.stdout)
    assert (result["status"], result["cause"]) == (
        "error",
        f"source 'crm': the source refused a write in a read-only transaction ({REFUSED[backend]}); "
        "a check may only read",
    )
    assert read(url, SEQUENCE_NOW[backend]) == before
    # the declared stop action is the one statement that still writes
    stop = run_cli("outbound", "stop", "--root", str(repo), "--reason", "drill", "--now", NOW, env=env)
    assert (stop.returncode, stop.stdout.splitlines()[0]) == (0, "source 'crm': 1 statement(s) done"), stop.stderr
    assert read(url, "SELECT enabled FROM outbound_switch") == [(0,)]
    assert read(url, SEQUENCE_NOW[backend]) == before
