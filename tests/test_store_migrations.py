"""Upgrading campaign-guard upgrades the state store; nobody loses their problems."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from runner.store.connect import open_store, upgrade
from runner.store.problems import ProblemFilter, events_of, list_problems
from runner.store.tables import HEAD_REVISION, metadata

from .conftest import run_cli
from .databases import scratch_database

OPENED = datetime(2026, 11, 20, 9, 0)
SEEN = datetime(2026, 11, 21, 9, 5)


def test_the_head_revision_constant_is_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", "runner.store:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_store_of_the_previous_schema_is_upgraded_with_its_problems_intact(backend: str, tmp_path: Path) -> None:
    with scratch_database(backend, tmp_path) as url:
        environ = {"CAMPAIGN_GUARD_STATE_URL": url}
        old = open_store(tmp_path, environ, migrate=False)
        upgrade(old, "0001")
        with old.write() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO problems (fingerprint, check_id, subject, severity, localization, status, title,"
                    " cause, hint, campaign, owner, location, observed, expected, samples, first_seen, last_seen,"
                    " last_evaluated_at, occurrences, regressions, streak, acknowledged_by)"
                    " VALUES ('0123456789abcdef', 'monitor.promo_pool_low', 'WELCOME10', 'warning', 'promo_pool',"
                    " 'acknowledged', 'Promo pool running dry', '37 free codes left', 'Load new codes', NULL,"
                    " 'crm-marketing', NULL, '37', '>= 100', '[]', :opened, :seen, :seen, 7, 2, 3, 'olga')"
                ),
                {"opened": OPENED, "seen": SEEN},
            )
            problem_id = connection.execute(sa.text("SELECT id FROM problems")).scalar_one()
            connection.execute(
                sa.text(
                    "INSERT INTO problem_events (problem_id, kind, at, actor, note, severity)"
                    " VALUES (:id, 'opened', :opened, NULL, NULL, 'warning'),"
                    " (:id, 'acknowledged', :seen, 'olga', 'on it', 'warning')"
                ),
                {"id": problem_id, "opened": OPENED, "seen": SEEN},
            )
        old.close()

        store = open_store(tmp_path, environ)  # what every command does first
        try:
            (problem,), total = list_problems(store, ProblemFilter())
            assert total == 1
            assert {key: problem[key] for key in ("fingerprint", "status", "occurrences", "regressions")} == {
                "fingerprint": "0123456789abcdef",
                "status": "acknowledged",
                "occurrences": 7,
                "regressions": 2,
            }
            assert (problem["first_seen"], problem["observed"], problem["escalated"]) == (
                "2026-11-20T09:00:00+00:00",
                37,
                False,
            )
            assert [(e["kind"], e["actor"]) for e in events_of(store, problem["id"])] == [
                ("opened", None),
                ("acknowledged", "olga"),
            ]
            with store.read() as connection:
                assert compare_metadata(MigrationContext.configure(connection), metadata) == []
                assert connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
        finally:
            store.close()


def test_an_unreachable_store_is_one_line_and_exit_4() -> None:
    done = run_cli(
        "problems", "list", env={"CAMPAIGN_GUARD_STATE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/state"}
    )
    assert done.returncode == 4
    assert done.stdout == ""
    assert done.stderr.startswith(
        "campaign-guard: state store postgresql+psycopg://postgres@127.0.0.1:1/state: cannot connect:"
    )
    assert len(done.stderr.splitlines()) == 1


def test_a_store_file_that_cannot_be_created_is_one_line_and_exit_4() -> None:
    done = run_cli("notify", env={"CAMPAIGN_GUARD_STATE_URL": "sqlite:////proc/no-such/state.db"})
    assert (done.returncode, done.stdout) == (4, "")
    assert done.stderr.startswith("campaign-guard: state store sqlite:////proc/no-such/state.db: ")
    assert len(done.stderr.splitlines()) == 1
