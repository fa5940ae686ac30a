"""campaign-guard demo: build the demo CRM database the example configuration monitors."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import exc

from runner.demo.build import DemoBuilder, demo_facts, template_attributes
from runner.demo.faults import FAULTS
from runner.demo.sink import Sink
from runner.demo.tables import CONTRACT_TABLES, INDEXES, demo_info, metadata
from runner.errors import ExitCode, SourceUnreachable, UsageError
from runner.progress import Progress
from runner.repository import Repository
from runner.sources import load_sources


def run(root: Path, *, url: str | None, scale: float, seed: int, now: datetime) -> ExitCode:
    repo = Repository(root)
    if scale <= 0 or scale > 20:
        raise UsageError("--scale must be above 0 and at most 20 (1 = about a million messages)")
    target = _url(url or load_sources(repo).get("demo").url)
    shown = target.render_as_string(hide_password=True)
    templates = {d.data["id"]: d.data for d in repo.documents("template") if d.schema_valid}
    builder = partial(DemoBuilder, now=now, seed=seed, scale=scale, attributes=template_attributes(templates))
    progress = Progress()
    started = time.perf_counter()
    progress.line(f"building the demo CRM in {shown} (scale {scale:g}, seed {seed}) ...")
    try:
        file = _sqlite_file(target)
        if file is None:
            sink = _build(_engine(target), shown, builder, demo_facts(now, seed, scale), progress, foreign=_ours)
        else:
            sink = _build_file(file, target, shown, builder, demo_facts(now, seed, scale), progress)
    except exc.DBAPIError as error:
        first = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise SourceUnreachable(f"demo database {shown}: {first}") from None
    rows = ", ".join(f"{sink.counts[name]:,} {name}" for name in CONTRACT_TABLES if sink.counts[name])
    print(f"demo CRM built in {time.perf_counter() - started:.1f} s: {rows}")
    print(f"{len(FAULTS)} injected faults, listed in docs/demo.md; find them with `campaign-guard run`")
    return ExitCode.OK


Builder = Callable[[Sink], DemoBuilder]
Foreign = Callable[[set[str]], set[str]]


def _build(
    engine: sa.Engine,
    shown: str,
    builder: Builder,
    facts: list[tuple[str, str]],
    progress: Progress,
    *,
    foreign: Foreign,
) -> Sink:
    """The whole build in one transaction: on PostgreSQL an interrupted build leaves the old tables as they were."""
    try:
        with engine.begin() as connection:
            _refuse_foreign(connection, shown, foreign)
            metadata.drop_all(connection)
            metadata.create_all(connection, checkfirst=False)
            for index in INDEXES:
                index.drop(connection, checkfirst=True)
            sink = Sink(connection, {table.name: table for table in metadata.sorted_tables})
            builder(sink).build(partial(_step_done, progress, sink, dict(sink.counts)))
            for key, value in facts:
                connection.execute(demo_info.insert().values(key=key, value=value))
            started = time.perf_counter()
            for index in INDEXES:
                index.create(connection)
            _analyze(connection)
            progress.line(f"  {'indexes, statistics':<24} {time.perf_counter() - started:24.1f} s")
    finally:
        engine.dispose()
    return sink


def _build_file(
    file: Path, target: sa.URL, shown: str, builder: Builder, facts: list[tuple[str, str]], progress: Progress
) -> Sink:
    """A SQLite file is built next to itself and renamed into place: interrupted, the old file stays whole."""
    if file.exists():
        engine = _engine(target)
        try:
            with engine.connect() as connection:
                _refuse_foreign(connection, shown, _everything)  # the whole file is replaced, not just our tables
        finally:
            engine.dispose()
    file.parent.mkdir(parents=True, exist_ok=True)
    building = file.with_name(f".{file.name}.{os.getpid()}.building")  # SQLite creates it with the usual mode
    building.unlink(missing_ok=True)  # left by a killed build that had the same process id
    try:
        sink = _build(_engine(target.set(database=str(building))), shown, builder, facts, progress, foreign=_ours)
        os.replace(building, file)
    finally:
        for leftover in (building, Path(f"{building}-journal")):
            leftover.unlink(missing_ok=True)
    for sidecar in ("-journal", "-wal", "-shm"):  # the old file's: never to be replayed onto the new one
        Path(f"{file}{sidecar}").unlink(missing_ok=True)
    return sink


def _step_done(progress: Progress, sink: Sink, before: dict[str, int], step: str, seconds: float) -> None:
    """One line per part of the CRM (each fills several tables): its rows and how long it took."""
    rows = sum(sink.counts.values()) - sum(before.values())
    before.update(sink.counts)
    progress.line(f"  {step:<24} {rows:>12,} rows {seconds:6.1f} s")


def _url(text: str) -> sa.URL:
    try:
        return sa.engine.make_url(text)
    except exc.ArgumentError:
        raise UsageError(f"--url {text!r} is not a SQLAlchemy URL (dialect+driver://user@host/db)") from None


def _sqlite_file(url: sa.URL) -> Path | None:
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database)
    return None


def _engine(url: sa.URL) -> sa.Engine:
    try:
        return sa.create_engine(url)
    except ModuleNotFoundError as missing:
        raise UsageError(
            f"the database driver {missing.name!r} is not installed; pip install 'campaign-guard[postgres]' "
            "or 'campaign-guard[mysql]'"
        ) from None


def _ours(existing: set[str]) -> set[str]:
    """In a server database only the demo's own tables are dropped: others sharing it are kept."""
    return existing & {table.name for table in metadata.sorted_tables}


def _everything(existing: set[str]) -> set[str]:
    return existing


def _refuse_foreign(connection: sa.Connection, shown: str, foreign: Foreign) -> None:
    """Never drop tables of a database that is not a demo database."""
    existing = set(sa.inspect(connection).get_table_names())
    at_stake = foreign(existing)
    if at_stake and demo_info.name not in existing:
        raise UsageError(
            f"{shown} already has tables ({', '.join(sorted(at_stake))}) but is not a demo database; "
            "refusing to overwrite it - point --url at an empty database"
        )


def _analyze(connection: sa.Connection) -> None:
    """Fresh statistics, so that the planner uses the indexes from the first run."""
    names = [table.name for table in metadata.sorted_tables]
    if connection.dialect.name == "mysql":
        connection.exec_driver_sql(f"ANALYZE TABLE {', '.join(names)}")
    else:
        connection.exec_driver_sql("ANALYZE")
