"""Throw-away databases on the real servers of this machine (and a SQLite file)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

POSTGRES_ADMIN = os.environ.get(
    "CAMPAIGN_GUARD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
MARIADB_ADMIN = os.environ.get("CAMPAIGN_GUARD_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/")
BACKENDS = ("sqlite", "postgresql", "mariadb")


@contextmanager
def scratch_database(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new, empty database; its URL is yielded and the database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    name = f"cg_test_{uuid.uuid4().hex[:12]}"
    admin_url = POSTGRES_ADMIN if backend == "postgresql" else MARIADB_ADMIN
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        yield sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            if backend == "postgresql":
                connection.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
            else:  # MariaDB has no FORCE: end the sessions a test left behind, so the drop never waits on their locks
                _end_sessions(connection, name)
                connection.execute(sa.text("SET SESSION lock_wait_timeout = 30"))
                connection.execute(sa.text(f"DROP DATABASE {name}"))
        admin.dispose()


def _end_sessions(connection: sa.Connection, database: str) -> None:
    own = connection.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
    sessions = connection.execute(
        sa.text("SELECT id FROM information_schema.processlist WHERE db = :db AND id <> :own"),
        {"db": database, "own": own},
    ).scalars()
    for session in list(sessions):
        connection.execute(sa.text(f"KILL {int(session)}"))
