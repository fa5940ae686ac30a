"""What a state-store error means to the user: one line naming the store and what to do.

SQLite reports a full disk, a lock held too long, a damaged file or a read-only one as a DBAPI
error whose message says which; `explain` turns the message into a `StoreFailure` (exit 4).
Every store write runs in a transaction, so a failed write leaves the store as it was.
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


def explain(message: str, label: str, wait: float) -> StoreFailure | None:
    """The one line for a store error's message; None when the message is none of the known ones."""
    text = message.lower()
    if "database or disk is full" in text:
        return StoreFailure(
            f"state store {label}: the disk is full; free space and run again "
            "(nothing was half-written: the transaction was rolled back)"
        )
    if "database is locked" in text or "database table is locked" in text:
        return StoreFailure(
            f"state store {label} is locked by another campaign-guard process for more than {wait:g} s; "
            f"run again when it is done, or wait longer with {LOCK_WAIT_VARIABLE}=SECONDS"
        )
    if "file is not a database" in text or "database disk image is malformed" in text:
        return corrupted(label)
    if "readonly database" in text or "unable to open database file" in text:
        return StoreFailure(
            f"state store {label} cannot be written (read-only file or directory?); "
            "make it and its directory writable and run again"
        )
    if "disk i/o error" in text:
        return StoreFailure(f"state store {label}: disk I/O error; check the disk and run again")
    return None
