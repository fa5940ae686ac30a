"""What a state-store error means to the user: one line naming the store and what to do.

SQLite reports a full disk, a lock held too long, a damaged file or a read-only one as a DBAPI
error whose message says which; `explain` turns the message into a `StoreFailure` (exit 4). A
server store (PostgreSQL, MariaDB) says it with an SQLSTATE or by dropping the connection;
`explain_server` reads those. Every store write runs in a transaction, so a failed write leaves
the store as it was.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from runner.errors import SourceUnreachable, UsageError

LOCK_WAIT_VARIABLE = "CAMPAIGN_GUARD_STORE_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 30.0  # seconds a writer waits for another campaign-guard process's lock


class StoreFailure(SourceUnreachable):
    """The state store refused the work: full, locked, damaged or read-only."""


def lock_wait(environ: Mapping[str, str] | None = None) -> float:
    """Seconds to wait for the store's lock: CAMPAIGN_GUARD_STORE_LOCK_WAIT, else 30."""
    text = (os.environ if environ is None else environ).get(LOCK_WAIT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_LOCK_WAIT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 86400:
        raise UsageError(
            f"{LOCK_WAIT_VARIABLE}={text!r}: give the seconds to wait for the state store's lock (0-86400)"
        )
    return seconds


def corrupted(label: str) -> StoreFailure:
    return StoreFailure(
        f"state store {label} is not a readable SQLite store (corrupted?); move it away and run again: "
        "a new one will be created (problems history starts over)"
    )


def locked(label: str, wait: float) -> StoreFailure:
    return StoreFailure(
        f"state store {label} is locked by another campaign-guard process for more than {wait:g} s; "
        f"run again when it is done, or wait longer with {LOCK_WAIT_VARIABLE}=SECONDS"
    )


def full(label: str) -> StoreFailure:
    return StoreFailure(
        f"state store {label}: the disk is full; free space and run again "
        "(nothing was half-written: the transaction was rolled back)"
    )


def read_only(label: str) -> StoreFailure:
    return StoreFailure(
        f"state store {label} cannot be written (read-only file or directory?); "
        "make it and its directory writable and run again"
    )


_SERVER_LOCKED = {"55P03", "1205"}  # PostgreSQL lock_not_available (lock_timeout); MariaDB lock wait timeout
_SERVER_FULL = {"53100", "1021", "1114"}  # PostgreSQL disk_full; MariaDB disk full, table is full
_SERVER_READ_ONLY = {"25006", "1290", "1792"}  # read_only_sql_transaction (a standby); MariaDB --read-only


def explain_server(codes: set[str], message: str, *, lost: bool, label: str, wait: float) -> StoreFailure | None:
    """The one line for a PostgreSQL or MariaDB store's error (its SQLSTATE or MariaDB error number)."""
    if codes & _SERVER_LOCKED:
        return locked(label, wait)
    if codes & _SERVER_FULL:
        return full(label)
    if codes & _SERVER_READ_ONLY:
        return StoreFailure(
            f"state store {label} is read-only (a standby, or the server is in read-only mode); "
            "point CAMPAIGN_GUARD_STATE_URL at the primary and run again"
        )
    if lost:
        first = message.strip().splitlines()[0] if message.strip() else "the connection was lost"
        return StoreFailure(
            f"state store {label} does not answer ({first}); nothing was half-written "
            "(the transaction was rolled back): run again when it is back"
        )
    return None


def explain(message: str, label: str, wait: float) -> StoreFailure | None:
    """The one line for a store error's message; None when the message is none of the known ones."""
    text = message.lower()
    if "database or disk is full" in text:
        return full(label)
    if "database is locked" in text or "database table is locked" in text:
        return locked(label, wait)
    if "file is not a database" in text or "database disk image is malformed" in text:
        return corrupted(label)
    if "readonly database" in text or "unable to open database file" in text:
        return read_only(label)
    if "disk i/o error" in text:
        return StoreFailure(f"state store {label}: disk I/O error; check the disk and run again")
    return None
