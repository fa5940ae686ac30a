"""Open the state store: SQLite file by default, any SQLAlchemy URL from CAMPAIGN_GUARD_STATE_URL.

Every write transaction holds the store's lock (BEGIN IMMEDIATE on SQLite, an advisory lock on
PostgreSQL), so two runners at once serialise their writes instead of duplicating problems.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from runner.errors import SourceUnreachable
from runner.masking import conceal
from runner.root import NotARepository, is_repository
from runner.store.failures import StoreFailure, corrupted, explain, explain_server, lock_wait, locked
from runner.store.tables import HEAD_REVISION

STATE_URL_VARIABLE = "CAMPAIGN_GUARD_STATE_URL"
DEFAULT_STATE_FILE = ".campaign-guard/state.db"
_LOCK_KEY = 0x63616D70  # "camp": the advisory lock every campaign-guard writer takes on PostgreSQL


def state_url(root: Path, environ: Mapping[str, str] | None = None) -> str:
    """CAMPAIGN_GUARD_STATE_URL, else the repository's SQLite file; outside a repository there is no default."""
    env = os.environ if environ is None else environ
    if env.get(STATE_URL_VARIABLE):
        conceal(env[STATE_URL_VARIABLE])
        return env[STATE_URL_VARIABLE]
    if not is_repository(root):
        raise NotARepository(root, for_store=True)
    return f"sqlite:///{(root / DEFAULT_STATE_FILE).resolve()}"


def store_label(root: Path, environ: Mapping[str, str] | None = None) -> str:
    """The store's URL without its password, for messages."""
    return _safe(state_url(root, environ))


class Store:
    """A migrated state store; `write()` is the one way to change it."""

    def __init__(self, engine: Engine, wait: float | None = None) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.wait = lock_wait() if wait is None else wait  # seconds a writer waits for the lock
        self._closing: list[Callable[[], None]] = []

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that holds the store's write lock until it commits."""
        with self.engine.connect() as connection, self.write_on(connection):
            yield connection

    @contextmanager
    def write_on(self, connection: Connection) -> Iterator[None]:
        with connection.begin(), self._locked(connection):
            yield

    @contextmanager
    def brief(self) -> Iterator[Connection]:
        """A short transaction without the store's lock, for one row this process holds a claim on.

        On PostgreSQL and MariaDB it does not queue behind a planner holding the lock; SQLite has
        one writer at a time, so there it waits for the file's lock as any write does.
        """
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def rehearse(self) -> Iterator[Connection]:
        """A write transaction that is rolled back: what would happen, changing nothing (--dry-run)."""
        with self.engine.connect() as connection:
            transaction = connection.begin()
            try:
                with self._locked(connection):
                    yield connection
            finally:
                transaction.rollback()

    @contextmanager
    def _locked(self, connection: Connection) -> Iterator[None]:
        """The store's write lock inside the connection's transaction (SQLite: its BEGIN IMMEDIATE)."""
        if self.dialect == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_LOCK_KEY)))
        elif self.dialect in ("mysql", "mariadb") and not self._got_lock(connection):
            raise locked(_safe(str(self.engine.url)), self.wait)
        try:
            yield
        finally:
            if self.dialect in ("mysql", "mariadb"):
                connection.execute(sa.select(sa.func.release_lock("campaign-guard")))

    def _got_lock(self, connection: Connection) -> bool:
        """MariaDB's GET_LOCK answers 0 when the wait passed (not an error): then the lock is not ours."""
        return connection.execute(sa.select(sa.func.get_lock("campaign-guard", self.wait))).scalar() == 1

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as connection:
            yield connection

    def on_close(self, action: Callable[[], None]) -> None:
        """Done when the store is closed, before its connections are (a holder's release)."""
        self._closing.append(action)

    def close(self) -> None:
        while self._closing:
            self._closing.pop()()
        self.engine.dispose()


def open_store(root: Path, environ: Mapping[str, str] | None = None, *, migrate: bool = True) -> Store:
    """The store at CAMPAIGN_GUARD_STATE_URL (or the repository's SQLite file), upgraded to the newest schema.

    Created when there is none yet: only commands that write open it this way.
    """
    store = _open(state_url(root, environ), migrate=migrate, create=True, wait=lock_wait(environ))
    assert store is not None
    return store


def existing_store(root: Path, environ: Mapping[str, str] | None = None) -> Store | None:
    """The store if one was ever created, upgraded to the newest schema; None when there is none yet.

    Commands that only read open it this way: reading never creates a store (nor its directory).
    """
    return _open(state_url(root, environ), migrate=True, create=False, wait=lock_wait(environ))


def _open(url: str, *, migrate: bool, create: bool, wait: float) -> Store | None:
    try:
        if not create and _missing_file(url):
            return None
        if _empty_file(url):  # SQLite would take it for a new store and silently start over
            raise corrupted(_safe(url))
        engine = _engine(url, create=create, wait=wait)
        store = Store(engine, wait)
        if not create and _revision(store) is None:
            store.close()
            return None
        if migrate:
            upgrade(store)
    except sa.exc.ArgumentError as error:
        raise SourceUnreachable(f"state store {_safe(url)}: not a database URL ({error})") from None
    except ModuleNotFoundError as error:
        raise SourceUnreachable(
            f"state store {_safe(url)}: the driver {error.name!r} is not installed "
            "(pip install 'campaign-guard[postgres]' for PostgreSQL)"
        ) from None
    except sa.exc.OperationalError as error:
        raise SourceUnreachable(f"state store {_safe(url)}: cannot connect: {_first_line(error)}") from None
    except OSError as error:  # the SQLite file's directory cannot be created
        raise SourceUnreachable(f"state store {_safe(url)}: {error.strerror or error}") from None
    return store


def _missing_file(url: str) -> bool:
    """A SQLite URL whose file does not exist (yet)."""
    parsed = sa.engine.make_url(url)
    database = parsed.database
    return (
        parsed.get_backend_name() == "sqlite"
        and bool(database)
        and database != ":memory:"
        and not Path(str(database)).exists()
    )


def _empty_file(url: str) -> bool:
    """A SQLite URL whose file exists but holds nothing: not a store, whatever SQLite makes of it."""
    parsed = sa.engine.make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    path = Path(str(database).removeprefix("file:").split("?")[0])
    return path.is_file() and path.stat().st_size == 0


def _is_uri(parsed: sa.engine.URL) -> bool:
    return str(parsed.query.get("uri", "")).lower() in ("true", "1") or str(parsed.database).startswith("file:")


def _create_file(path: Path) -> None:
    """A new store file appears whole: never empty, so an empty file is always a damaged store.

    SQLite creates the file empty and writes its header a moment later; another process opening
    it in between would take it for an empty (damaged) file. The store is made under another name
    and linked into place, which fails harmlessly when another process was first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return
    draft = path.with_name(f"{path.name}.{os.getpid()}.new")
    try:
        with contextlib.closing(sqlite3.connect(draft)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")  # writes the header
        os.link(draft, path)
    except FileExistsError:
        pass  # another process made it first
    except (OSError, sqlite3.Error):
        pass  # no hard links here, or the directory refuses: SQLite creates it (or says why) as before
    finally:
        draft.unlink(missing_ok=True)


def _engine(url: str, *, create: bool = True, wait: float | None = None) -> Engine:
    parsed = sa.engine.make_url(url)
    seconds = lock_wait() if wait is None else wait
    if parsed.get_backend_name() != "sqlite":
        return _server_engine(parsed, seconds)
    if create and parsed.database and parsed.database != ":memory:" and not _is_uri(parsed):
        _create_file(Path(parsed.database))
    engine = sa.create_engine(parsed, connect_args={"timeout": seconds})  # SQLite's busy timeout

    @sa.event.listens_for(engine, "handle_error")
    def _explain(context: Any) -> None:
        # one line naming the store and what to do instead of a traceback (the transaction is rolled back)
        failure = explain(str(context.original_exception), _safe(url), seconds)
        if failure is not None:
            raise failure from None

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # take the write lock at the start: no two writers interleave read-modify-write
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _server_engine(parsed: sa.engine.URL, wait: float) -> Engine:
    """A PostgreSQL or MariaDB store: the lock wait bounded, every error one line naming the store.

    A server that stops mid-run drops the connection (or refuses the next one): that is a
    StoreFailure too, so the results already evaluated are printed before its line.
    """
    options = {"options": f"-c lock_timeout={int(wait * 1000)}"} if parsed.get_backend_name() == "postgresql" else {}
    engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args=options)
    label = parsed.render_as_string(hide_password=True)

    @sa.event.listens_for(engine, "handle_error")
    def _explain(context: Any) -> None:
        if context.is_pre_ping:
            return  # the pool reconnects; a failure to reconnect comes here again
        original = context.original_exception
        arguments = getattr(original, "args", ()) or ()
        codes = {str(getattr(original, "sqlstate", None) or ""), str(arguments[0]) if arguments else ""}
        if context.connection is None:  # a new connection refused: the server is down or unreachable
            raise StoreFailure(f"state store {label}: cannot connect: {_first_line(original)}") from None
        failure = explain_server(codes, str(original), lost=context.is_disconnect, label=label, wait=wait)
        if failure is not None:
            raise failure from None

    return engine


def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the store to a schema revision (the newest by default) under the write lock.

    A store already at the newest revision costs one query; Alembic is loaded only to migrate.
    """
    if revision == "head" and _revision(store) == HEAD_REVISION:
        return
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "runner.store:migrations")
    with store.engine.connect() as connection:
        if store.dialect == "sqlite":
            # SQLite alters a table by copying it: with foreign keys on, dropping the old copy would
            # cascade to the problem events. The pragma only works outside a transaction.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with store.write_on(connection):
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        finally:
            if store.dialect == "sqlite":
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def _revision(store: Store) -> str | None:
    with store.read() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "orig", None) or error)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__
