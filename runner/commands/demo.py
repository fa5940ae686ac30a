"""campaign-guard demo: build the demo CRM database the example configuration monitors."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc

from runner.demo.build import DemoBuilder, demo_facts, template_attributes
from runner.demo.faults import FAULTS
from runner.demo.sink import Sink
from runner.demo.tables import CONTRACT_TABLES, INDEXES, demo_info, metadata
from runner.errors import ExitCode, SourceUnreachable, UsageError
from runner.repository import Repository
from runner.sources import load_sources


def run(root: Path, *, url: str | None, scale: float, seed: int, now: datetime) -> ExitCode:
    repo = Repository(root)
    if scale <= 0 or scale > 20:
        raise UsageError("--scale must be above 0 and at most 20 (1 = about a million messages)")
    target = url or load_sources(repo).get("demo").url
    engine = _engine(target)
    started = time.perf_counter()
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.begin() as connection:
            _refuse_foreign(connection, shown)
            metadata.drop_all(connection)
            metadata.create_all(connection, checkfirst=False)
            for index in INDEXES:
                index.drop(connection, checkfirst=True)
        with engine.begin() as connection:
            sink = Sink(connection, {table.name: table for table in metadata.sorted_tables})
            templates = {d.data["id"]: d.data for d in repo.documents("template") if d.schema_valid}
            _progress(f"building the demo CRM in {shown} (scale {scale:g}, seed {seed}) ...")
            DemoBuilder(sink, now, seed=seed, scale=scale, attributes=template_attributes(templates)).build()
            for key, value in demo_facts(now, seed, scale):
                connection.execute(demo_info.insert().values(key=key, value=value))
            _progress("indexing ...")
            for index in INDEXES:
                index.create(connection)
            _analyze(connection)
    except exc.DBAPIError as error:
        first = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise SourceUnreachable(f"demo database {shown}: {first}") from None
    finally:
        engine.dispose()
    rows = ", ".join(f"{sink.counts[name]:,} {name}" for name in CONTRACT_TABLES if sink.counts[name])
    print(f"demo CRM built in {time.perf_counter() - started:.1f} s: {rows}")
    print(f"{len(FAULTS)} injected faults, listed by `campaign-guard docs demo`; find them with `campaign-guard run`")
    return ExitCode.OK


def _engine(url: str) -> sa.Engine:
    try:
        parsed = sa.engine.make_url(url)
    except exc.ArgumentError:
        raise UsageError(f"--url {url!r} is not a SQLAlchemy URL (dialect+driver://user@host/db)") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        return sa.create_engine(parsed)
    except ModuleNotFoundError as missing:
        raise UsageError(
            f"the database driver {missing.name!r} is not installed; pip install 'campaign-guard[postgres]' "
            "or 'campaign-guard[mysql]'"
        ) from None


def _refuse_foreign(connection: sa.Connection, shown: str) -> None:
    """Never drop tables of a database that is not a demo database."""
    existing = set(sa.inspect(connection).get_table_names())
    ours = {table.name for table in metadata.sorted_tables}
    if existing & ours and demo_info.name not in existing:
        raise UsageError(
            f"{shown} already has tables named like the demo's ({', '.join(sorted(existing & ours))}) "
            "but is not a demo database; refusing to overwrite it - point --url at an empty database"
        )


def _analyze(connection: sa.Connection) -> None:
    """Fresh statistics, so that the planner uses the indexes from the first run."""
    names = [table.name for table in metadata.sorted_tables]
    if connection.dialect.name == "mysql":
        connection.exec_driver_sql(f"ANALYZE TABLE {', '.join(names)}")
    else:
        connection.exec_driver_sql("ANALYZE")


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
