"""What the database benchmarks share: the repository on sys.path, scratch databases, the machine line."""

from __future__ import annotations

import json
import os
import platform
import sys
import uuid
from collections.abc import Iterator
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
