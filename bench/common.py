"""What the database benchmarks share: the repository on sys.path, scratch databases, the machine line."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCALIZATIONS = ["campaign", "mailing", "scenario", "operation", "segmentation", "integration", "webhook",
                 "promo_pool", "bonus", "job", "queue", "dump", "availability", "system"]  # fmt: skip


@contextmanager
def scratch_url(backend: str, directory: Path, name: str) -> Iterator[str]:
    """A SQLite file `name` in directory, or a new PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / name}"
        return
    database = f"cg_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {database}"))
    try:
        yield sa.engine.make_url(POSTGRES_ADMIN).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE {database} WITH (FORCE)"))
        admin.dispose()


def write_report(path: Path | None, rows: list[Any], **facts: Any) -> None:
    """bench/results/*.json: the date, the machine, what was measured and the rows."""
    if path is None:
        return
    report = {"date": datetime.now(UTC).date().isoformat(), "machine": machine(), **facts, "rows": rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def timed_process(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in KiB and exit code of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    return seconds, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def sent_statements(root: Path, environ: dict[str, str], moment: str) -> list[sa.Executable]:
    """The statements one in-process `run` of the repository at root sends to its sources."""
    from runner.engine.evaluation import Evaluation
    from runner.engine.execute import execute
    from runner.engine.plan import run_tasks
    from runner.repository import Repository

    os.environ.update(environ)
    repo = Repository(root)
    now = datetime.fromisoformat(moment)
    ev = Evaluation(repo, now)
    try:
        results = execute(run_tasks(repo, now), ev)
        assert not [r for r in results if r.status.value == "error"], "a check failed on the source"
        return [done.statement for source in ev.opened for done in source.adapter.executed]  # type: ignore[attr-defined]
    finally:
        ev.close()


def floor(url: str, statements: list[sa.Executable], workers: int) -> float:
    engine = sa.create_engine(url, pool_size=workers) if not url.startswith("sqlite") else sa.create_engine(url)

    def one(statement: sa.Executable) -> None:
        with engine.connect() as connection:
            connection.execute(statement).fetchall()

    with engine.connect():
        pass  # connect before the clock starts, as the run's own connect is not part of a query
    started = time.perf_counter()
    if workers == 1:
        for statement in statements:
            one(statement)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, statements))
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds
