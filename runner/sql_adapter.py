"""The SQLAlchemy adapter: SQLite, PostgreSQL (psycopg 3) and MariaDB/MySQL (PyMySQL).

Queries are SQLAlchemy Core with bound parameters; a dataset is a subquery that
renames the real columns to the contract's names, so checks never see a real name.
Each dialect enforces the source's statement timeout its own way. Sources are read-only: every
query runs in a read-only transaction (see `_read_only`); only `run_statements` (the declared
stop/start actions) writes, on a connection of its own.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import ClauseElement, Executable, FromClause

from runner.adapter import SourceError
from runner.contract import DATASETS
from runner.mapping import contract_rows, datasets_named, redact
from runner.mapping_probe import MappingIssue, probe
from runner.sources import DatasetMapping, SourceConfig

DRIVER_EXTRAS = {"psycopg": "postgres", "psycopg2": "postgres", "pymysql": "mysql", "MySQLdb": "mysql"}
_READ_ONLY_CODES = {
    "25006",
    "1792",
}  # PostgreSQL read_only_sql_transaction, MariaDB/MySQL ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
_TIMEOUT_CODES = {"57014", "1969", "3024"}  # PostgreSQL query_canceled, MariaDB / MySQL statement time


@dataclass(frozen=True)
class Executed:
    """A query the source answered: what the benchmark replays as the floor."""

    sql: str
    params: dict[str, Any]
    seconds: float
    statement: Executable


class SqlAlchemyAdapter:
    """One per run: identical queries from several checks are sent once and shared."""

    def __init__(self, config: SourceConfig) -> None:
        self.name = config.name
        self.timezone = config.timezone
        self._config = config
        self._engine = self._create_engine()
        self._slots = threading.BoundedSemaphore(config.max_concurrent_queries)
        self._answers: dict[tuple[str, str], Future[list[dict[str, Any]]]] = {}
        self._answers_lock = threading.Lock()
        self._verified: dict[tuple[Any, ...], Future[list[MappingIssue]]] = {}
        self.executed: list[Executed] = []

    def _create_engine(self, *, writable: bool = False) -> Engine:
        """The engine of the checks (read-only), or a writable one without a pool for declared actions."""
        timeout = self._config.statement_timeout_seconds
        try:
            url = sa.engine.make_url(self._config.url)
        except exc.ArgumentError:
            raise SourceError(
                self.name, None, "the URL is not a SQLAlchemy URL (dialect+driver://user@host/db)"
            ) from None
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql":
            connect_args["options"] = f"-c statement_timeout={timeout * 1000}"
        if url.get_backend_name() == "mysql":
            connect_args["connect_timeout"] = min(timeout, 10)
        if url.get_backend_name() == "sqlite":
            database = url.database or ""
            if database in ("", ":memory:"):
                # an in-memory database is one per connection anyway; no pool to close across threads
                return _read_only(sa.create_engine(url, poolclass=sa.pool.NullPool), writable)
            if not database.startswith("file:") and not Path(database).exists():
                # SQLite would create an empty database there, and every check would miss its tables
                message = f"cannot connect to {url}: no database file {database}"
                raise SourceError(self.name, None, message, unreachable=True)
        try:
            if writable:
                engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
            else:
                engine = sa.create_engine(url, connect_args=connect_args, pool_size=self._config.max_concurrent_queries)
        except TypeError:  # SQLite's pool takes no pool_size
            engine = sa.create_engine(url, connect_args=connect_args)
        except exc.NoSuchModuleError:
            raise SourceError(self.name, None, f"unknown database dialect {url.drivername!r}") from None
        except ModuleNotFoundError as missing:
            extra = DRIVER_EXTRAS.get(missing.name or "", "postgres|mysql")
            raise SourceError(
                self.name,
                None,
                f"the database driver {missing.name!r} is not installed; pip install 'campaign-guard[{extra}]'",
            ) from None
        if url.get_backend_name() == "mysql":
            event.listen(engine, "connect", _mysql_statement_time(timeout))
        return _read_only(engine, writable)

    def dataset(self, name: str) -> FromClause:
        mapping = self._config.datasets.get(name)
        if mapping is None:
            raise SourceError(
                self.name, None, f"dataset {name!r} is not mapped; add it under datasets in {self._config.file}"
            )
        columns = DATASETS[name]
        self._verify(name, mapping, columns)
        return contract_rows(name, mapping, columns, self._engine.dialect.name)

    def table(self, name: str, columns: Sequence[str], times: Sequence[str] = ()) -> FromClause:
        """A table outside the contract, through `tables:` when mapped there, else by its own name."""
        mapping = self._config.tables.get(name) or DatasetMapping(table=name)
        self._verify(name, mapping, columns, times=tuple(times), noun="table")
        return contract_rows(name, mapping, columns, self._engine.dialect.name, times=times)

    def _verify(
        self,
        name: str,
        mapping: DatasetMapping,
        columns: Sequence[str],
        *,
        times: tuple[str, ...] = (),
        noun: str = "dataset",
    ) -> None:
        """The first use of a mapping in a run checks it against the source (once; then remembered)."""

        def probed() -> list[MappingIssue]:
            with self._connection(None) as connection:
                return probe(connection, name, mapping, columns, self._config.file, times=times, noun=noun)

        issues = self._once(self._verified, (noun, name, tuple(columns), times), probed)
        if issues:
            more = f" (and {len(issues) - 1} more: `campaign-guard sources check {self.name}`)" if issues[1:] else ""
            raise SourceError(self.name, None, str(issues[0]) + more)

    def _once(self, answers: dict[Any, Future[Any]], key: Any, compute: Callable[[], Any]) -> Any:
        """compute() once per key for every thread that asks; the others wait for its answer (or its error)."""
        with self._answers_lock:
            answer = answers.get(key)
            asking = answer is None
            if answer is None:
                answer = answers[key] = Future()
        if not asking:
            return answer.result()
        try:
            value = compute()
        except BaseException as error:  # whatever it was, the threads waiting for it must hear of it
            answer.set_exception(error)
            raise
        answer.set_result(value)
        return value

    def over_datasets(self, sql: str) -> sa.TextClause:
        """SQL written against dataset names, with a WITH clause for every dataset it names.

        Each is inlined where it is used (NOT MATERIALIZED on PostgreSQL and SQLite; MariaDB merges
        them by itself): a dataset used twice must not become a temporary copy of the whole table.
        """
        dialect = self._engine.dialect
        bodies = {}
        for name in datasets_named(sql, self._config.datasets):
            subquery = self.dataset(name)  # probed first: the dialect knows the server's version afterwards
            assert isinstance(subquery, sa.Subquery)
            body = str(subquery.element.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            if dialect.paramstyle in ("format", "pyformat"):
                body = body.replace("%%", "%")  # compiled for the driver; sa.text below escapes it once more
            bodies[name] = body
        inline = " NOT MATERIALIZED" if _knows_not_materialized(dialect) else ""
        definitions = [f"{name} AS{inline} ({body})" for name, body in bodies.items()]
        return sa.text(f"WITH {', '.join(definitions)}\n{sql}" if definitions else sql)

    def redact(self, row: Mapping[str, Any], datasets: Collection[str] | None = None) -> dict[str, Any]:
        """A sample row as the mapping allows it to be shown (personal data masked or left out): by the
        policies of the datasets it was read from, or of every dataset when that is not known."""
        policies = [
            (DATASETS[name], mapping.samples)
            for name, mapping in self._config.datasets.items()
            if datasets is None or name in datasets
        ]
        return redact(row, policies)

    def private(self, dataset: str) -> frozenset[str]:
        mapping = self._config.datasets.get(dataset)
        if mapping is None:
            return frozenset()
        return mapping.samples.mask | mapping.samples.hidden(DATASETS[dataset])

    def fetch(self, statement: Executable, *, check: str | None = None) -> list[dict[str, Any]]:
        compiled = cast(ClauseElement, statement).compile(dialect=self._engine.dialect)
        key = (str(compiled), repr(sorted(compiled.params.items())))

        def ask() -> list[dict[str, Any]]:
            started = time.perf_counter()
            with self._connection(check) as connection:
                rows = [dict(row._mapping) for row in connection.execute(statement)]
            self.executed.append(Executed(key[0], dict(compiled.params), time.perf_counter() - started, statement))
            return rows

        rows: list[dict[str, Any]] = self._once(self._answers, key, ask)
        return rows

    def run_statements(self, statements: Sequence[str], *, check: str | None = None) -> None:
        """The declared actions, the only statements that may write: on a writable connection of their own."""
        engine = self._create_engine(writable=True)
        try:
            with self._connection(check, engine) as connection, connection.begin():
                for statement in statements:
                    connection.execute(sa.text(statement))
        finally:
            engine.dispose()

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _connection(self, check: str | None, engine: Engine | None = None) -> Iterator[Connection]:
        with self._slots:
            try:
                with (engine or self._engine).connect() as connection, self._sqlite_deadline(connection):
                    yield connection
            except exc.DBAPIError as error:
                raise self._failure(error, check) from None

    @contextmanager
    def _sqlite_deadline(self, connection: Connection) -> Iterator[None]:
        """SQLite has no statement timeout: interrupt the connection when the time is up."""
        if connection.dialect.name != "sqlite":
            yield
            return
        raw = connection.connection.dbapi_connection
        assert raw is not None
        timer = threading.Timer(self._config.statement_timeout_seconds, raw.interrupt)
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    def _failure(self, error: exc.DBAPIError, check: str | None) -> SourceError:
        """The driver's error in one line; a connection or timeout failure marked unreachable."""
        original = error.orig
        codes = {str(getattr(original, "sqlstate", "")), str(original.args[0]) if original and original.args else ""}
        text = str(original).strip().splitlines()[0] if original else str(error)
        where = self._engine.url.render_as_string(hide_password=True)
        if codes & _READ_ONLY_CODES or text == "attempt to write a readonly database":
            message = f"the source refused a write in a read-only transaction ({text}); a check may only read"
            return SourceError(self.name, check, message)
        if codes & _TIMEOUT_CODES or text == "interrupted":
            message = f"query exceeded the statement timeout of {self._config.statement_timeout_seconds} s"
            return SourceError(self.name, check, message, unreachable=True)
        if error.connection_invalidated or isinstance(error, exc.InterfaceError) or _is_connect_error(error):
            return SourceError(self.name, check, f"cannot connect to {where}: {text}", unreachable=True)
        return SourceError(self.name, check, f"query failed: {text}")


_CONNECT_FAILURES = (
    "connection refused",
    "could not connect",
    "can't connect",
    "access denied",
    "password authentication failed",
    'role "',  # PostgreSQL: the user does not exist
    "unable to open database",
    "unknown database",
    'database "',
    "could not translate host name",
)


def _knows_not_materialized(dialect: sa.Dialect) -> bool:
    """PostgreSQL 12 and SQLite 3.35 took the keyword; older ones never copy a WITH used twice anyway."""
    if dialect.name == "sqlite":
        return sqlite3.sqlite_version_info >= (3, 35)
    version = getattr(dialect, "server_version_info", None) or (0,)
    return dialect.name == "postgresql" and tuple(version) >= (12,)


def _is_connect_error(error: exc.DBAPIError) -> bool:
    text = str(error.orig).lower()
    return any(failure in text for failure in _CONNECT_FAILURES)


def _read_only(engine: Engine, writable: bool) -> Engine:
    """Every transaction of the checks' engine is read-only, whatever its SQL calls (nextval(), a function
    that writes): SQLite refuses writes on the connection, PostgreSQL and MariaDB on each transaction
    (a session setting could be undone by a function a check calls)."""
    if writable:
        return engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _raw("PRAGMA query_only = ON"))
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", lambda connection: _raw("SET TRANSACTION READ ONLY")(connection.connection))
    elif engine.dialect.name == "mysql":
        event.listen(engine, "begin", lambda connection: _raw("START TRANSACTION READ ONLY")(connection.connection))
    return engine


def _raw(statement: str) -> Callable[..., None]:
    """Run a statement on the DBAPI connection, outside SQLAlchemy's bookkeeping."""

    def run(dbapi_connection: Any, *_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(statement)
        finally:
            cursor.close()

    return run


def _mysql_statement_time(seconds: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"SET SESSION max_statement_time = {float(seconds)}")  # MariaDB
        except Exception:  # MySQL names the variable max_execution_time
            cursor.execute(f"SET SESSION max_execution_time = {int(seconds * 1000)}")
        finally:
            cursor.close()

    return on_connect
