"""A PostgreSQL state store that stops mid-run or is locked: one line naming it, exit 4, nothing lost."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from runner import main as cli
from runner.commands import run as run_command
from runner.store import connect

from .conftest import LAUNCH_DAY, ROOT, run_cli
from .databases import PrivateCluster, private_postgres, scratch_database

NO_CRM = {"CAMPAIGN_GUARD_DEMO_URL": "sqlite://"}  # every check errs (exit 4), and its result is recorded
RUN = ("run", "--now", LAUNCH_DAY)


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivateCluster]:
    with private_postgres() as started:
        monkeypatch.setenv("CAMPAIGN_GUARD_STATE_URL", started.url)
        yield started


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("runs", "results", "problems", "problem_events")
            }
    finally:
        engine.dispose()


def test_a_postgresql_store_stopped_mid_run_is_one_line_and_nothing_is_lost(
    cluster: PrivateCluster, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run_cli(*RUN, "--format", "json", env=NO_CRM)
    assert first.returncode == 4, first.stderr  # the empty CRM's check errors, stored
    before = counts(cluster.url)
    real_record = run_command.record

    def stop_then_record(*args: Any, **kwargs: Any) -> Any:
        cluster.stop()  # the server dies once the checks are evaluated, before their results are stored
        return real_record(*args, **kwargs)

    monkeypatch.setattr(run_command, "record", stop_then_record)
    monkeypatch.setenv("CAMPAIGN_GUARD_DEMO_URL", "sqlite://")
    exit_code = cli.main(["--root", str(ROOT), *RUN, "--format", "json"])
    captured = capsys.readouterr()
    label = f"state store postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres"
    assert exit_code == 4
    assert captured.err.startswith(f"campaign-guard: {label}: cannot connect: connection failed: ")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert captured.out == first.stdout  # the results it evaluated are shown all the same

    cluster.start()
    after = counts(cluster.url)
    assert after == {**before, "runs": before["runs"] + 1}  # the started run; no result half-stored
    again = run_cli(*RUN, "--format", "json", env=NO_CRM)
    assert (again.returncode, again.stdout) == (4, first.stdout)
    assert "state store" not in again.stderr
    assert counts(cluster.url)["results"] == 2 * before["results"]


def test_a_postgresql_store_locked_past_the_wait_is_one_line(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    with scratch_database("postgresql", tmp_path) as url:
        monkeypatch.setenv("CAMPAIGN_GUARD_STATE_URL", url)
        assert run_cli(*RUN, env=NO_CRM).returncode == 4  # the store exists and is migrated
        holder = sa.create_engine(url)
        try:
            with holder.connect() as connection:
                connection.execute(sa.select(sa.func.pg_advisory_lock(connect._LOCK_KEY)))  # another writer
                done = run_cli(*RUN, env={**NO_CRM, "CAMPAIGN_GUARD_STORE_LOCK_WAIT": "0.2"})
                connection.execute(sa.select(sa.func.pg_advisory_unlock(connect._LOCK_KEY)))
        finally:
            holder.dispose()
        label = sa.engine.make_url(url).render_as_string(hide_password=True)
        assert (done.returncode, done.stdout, done.stderr) == (
            4,
            "",
            f"campaign-guard: state store {label} is locked by another campaign-guard process for more than 0.2 s; "
            "run again when it is done, or wait longer with CAMPAIGN_GUARD_STORE_LOCK_WAIT=SECONDS\n",
        )
