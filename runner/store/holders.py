"""Holders: the proof, kept by the store's own means, that a campaign-guard process is still alive.

A run's schedule claims and a notify pass's outbox leases name their holder. Another process that
finds a claim whose holder is dead takes it over at once, instead of waiting for the lease to
expire: a process killed mid-way (kill -9, a crash, a reboot) never blinds the next one.

- SQLite: a lock file per holder in a directory next to the store (`state.db.holders/ID.lock`),
  held with flock for the process's life. The kernel drops the lock when the process dies: a file
  nobody holds any more is a dead holder's (it is removed by whoever finds it).
- PostgreSQL: a session-level advisory lock on a dedicated connection; the server drops it when
  the connection ends.
- MariaDB: GET_LOCK on a dedicated connection, released with the session likewise.

One holder per open store, released when the store is closed.
"""

from __future__ import annotations

import fcntl
import os
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runner.store.connect import Store
from runner.store.failures import StoreFailure

_held: weakref.WeakKeyDictionary[Store, Holder] = weakref.WeakKeyDictionary()
_in_memory: set[str] = set()  # holders of stores without a file (sqlite://): this process's only


@dataclass
class Holder:
    id: str
    pid: int
    _file: Any = None  # the flocked lock file (SQLite)
    _path: Path | None = None
    _connection: Connection | None = None  # the session holding the lock (PostgreSQL, MariaDB)
    _released: bool = field(default=False)

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        _in_memory.discard(self.id)
        if self._file is not None:
            if self._path is not None:
                self._path.unlink(missing_ok=True)
            self._file.close()  # closing drops the flock
        if self._connection is not None:
            try:
                if self._connection.dialect.name == "postgresql":
                    self._connection.execute(sa.select(sa.func.pg_advisory_unlock(_key(self.id))))
                else:
                    self._connection.execute(sa.select(sa.func.release_lock(_lock_name(self.id))))
                self._connection.close()
            except (sa.exc.SQLAlchemyError, StoreFailure):
                pass  # the server went away: the lock went with it


def hold(store: Store) -> Holder:
    """This process's holder for the store, taken on first use and released when the store closes."""
    holder = _held.get(store)
    if holder is None:
        holder = _take(store, uuid.uuid4().hex)
        _held[store] = holder
        store.on_close(holder.release)
    return holder


def alive(store: Store, connection: Connection, holder_id: str) -> bool:
    """Whether the holder's process still holds its lock (asked on the connection of the caller)."""
    if store.dialect == "postgresql":
        high, low = divmod(_key(holder_id), 1 << 32)
        return bool(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND classid::bigint = :high AND objid::bigint = :low"
                ),
                {"high": high, "low": low},
            ).scalar()
        )
    if store.dialect in ("mysql", "mariadb"):
        return connection.execute(sa.select(sa.func.is_used_lock(_lock_name(holder_id)))).scalar() is not None
    directory = _directory(store)
    if directory is None:
        return holder_id in _in_memory
    return _file_held(directory / f"{holder_id}.lock")


def _take(store: Store, holder_id: str) -> Holder:
    pid = os.getpid()
    if store.dialect in ("postgresql", "mysql", "mariadb"):
        connection = store.engine.connect()
        if store.dialect == "postgresql":
            # a machine that vanishes sends no FIN: the server probes the idle session and ends it within a minute
            for setting, value in (
                ("tcp_keepalives_idle", 30),
                ("tcp_keepalives_interval", 10),
                ("tcp_keepalives_count", 3),
            ):
                connection.execute(sa.select(sa.func.set_config(setting, str(value), False)))
            connection.execute(sa.select(sa.func.pg_advisory_lock(_key(holder_id))))
        else:
            connection.execute(sa.select(sa.func.get_lock(_lock_name(holder_id), 0)))
        connection.commit()  # a session lock outlives the transaction; the connection stays open
        return Holder(holder_id, pid, _connection=connection)
    directory = _directory(store)
    if directory is None:
        _in_memory.add(holder_id)
        return Holder(holder_id, pid)
    try:
        directory.mkdir(exist_ok=True)
        _sweep(directory)
        draft = directory / f".{holder_id}.new"
        lock_file = draft.open("w")
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        path = directory / f"{holder_id}.lock"
        draft.rename(path)  # appears already locked: nobody takes it for a dead holder's
    except OSError as error:
        raise StoreFailure(
            f"state store {store.engine.url.render_as_string(hide_password=True)}: cannot create the lock file "
            f"that shows this process is alive in {directory}: {error.strerror or error}; "
            "make the directory writable and run again"
        ) from None
    return Holder(holder_id, pid, _file=lock_file, _path=path)


def _sweep(directory: Path) -> None:
    """Remove the lock files of processes that died holding nothing the store names (found by nobody else)."""
    for path in directory.glob("*.lock"):
        _file_held(path)


def _file_held(path: Path) -> bool:
    """A lock file still flocked by its process; one nobody holds is removed (its holder is dead)."""
    try:
        lock_file = path.open("r")
    except FileNotFoundError:
        return False  # released, or removed by whoever found it dead
    with lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        path.unlink(missing_ok=True)
        return False


def _directory(store: Store) -> Path | None:
    """The directory of a SQLite store's lock files, next to its file; None for a store in memory."""
    database = store.engine.url.database
    if not database or database == ":memory:" or "mode=memory" in database:
        return None
    path = Path(database.removeprefix("file:").split("?")[0])
    return path.with_name(f"{path.name}.holders")


def _key(holder_id: str) -> int:
    """The PostgreSQL advisory lock key of a holder: 60 bits of its id (positive, fits a bigint)."""
    return int(holder_id[:15], 16)


def _lock_name(holder_id: str) -> str:
    return f"campaign-guard-holder-{holder_id}"
