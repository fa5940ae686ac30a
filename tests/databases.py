"""Throw-away databases on the real servers of this machine (and a SQLite file)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
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


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb + pg_ctl on a free port), which a test may stop.

    The shared server on 5432 is never stopped; this one lives in a temporary directory owned by the
    postgres user (the server refuses to run as root) and is removed at the end.
    """

    def __init__(self) -> None:
        version = sorted(os.listdir("/etc/postgresql"))[-1] if os.path.isdir("/etc/postgresql") else ""
        self.bin = Path(f"/usr/lib/postgresql/{version}/bin")
        self.directory = Path(tempfile.mkdtemp(prefix="cg-pg-"))
        self.port = _free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._as_postgres("initdb", "-D", "data", "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        settings = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres("pg_ctl", "-D", "data", "-o", settings, "-l", "log", "-w", "start")

    def stop(self) -> None:
        """As a crash would: every session dropped at once."""
        self._as_postgres("pg_ctl", "-D", "data", "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        if (self.directory / "data" / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _as_postgres(self, program: str, *arguments: str) -> None:
        command = [str(self.bin / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, cwd=self.directory, check=True, capture_output=True, timeout=60)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    cluster = PrivateCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()
