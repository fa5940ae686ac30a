"""campaign-guard problems list|show|ack|mute|resolve: the Problems page on the command line."""

from __future__ import annotations

import getpass
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from runner.display import Display
from runner.errors import ExitCode, UsageError
from runner.formats.problems import CARD_REPORTERS, LIST_REPORTERS
from runner.store.actions import act
from runner.store.connect import Store, existing_store, store_label
from runner.store.lifecycle import UNRESOLVED
from runner.store.problems import ProblemFilter, events_of, find_problem, list_problems

STATUSES = ("open", "acknowledged", "muted", "resolved")


def actor(given: str | None) -> str:
    """Who did it: --by, else CAMPAIGN_GUARD_USER, else the login name."""
    if given:
        return given
    try:
        return os.environ.get("CAMPAIGN_GUARD_USER") or getpass.getuser()
    except OSError:
        return "unknown"


def list_(root: Path, args: Any, now: datetime) -> ExitCode:
    display = Display.of(args.tz)
    statuses = STATUSES if "all" in args.status else tuple(args.status) if args.status else UNRESOLVED
    filters = ProblemFilter(
        statuses=statuses,
        severities=args.severity,
        localizations=args.localization,
        campaigns=args.campaign,
        owners=args.owner,
        checks=args.check,
        opened_after=now - args.since if args.since else None,
        opened_before=now - args.older_than if args.older_than else None,
        min_occurrences=args.min_occurrences,
        min_regressions=args.min_regressions,
    )
    store = existing_store(root)
    if store is None:  # nothing was ever recorded; reading creates no store
        if args.output_format == "text":
            print(f"No problems recorded yet: no state store at {store_label(root)} (`campaign-guard run` creates it).")
        else:
            sys.stdout.write(LIST_REPORTERS[args.output_format]([], 0))
        return ExitCode.OK
    try:
        found, total = list_problems(store, filters, args.limit or None)
    finally:
        store.close()
    sys.stdout.write(LIST_REPORTERS[args.output_format](found, total, display))
    return ExitCode.OK


def holding(root: Path, fingerprint: str) -> Store:
    """The store that holds the problem to show or change; none yet means no such problem (none is created)."""
    store = existing_store(root)
    if store is None:
        raise UsageError(f"no problem with fingerprint {fingerprint!r}: no state store yet at {store_label(root)}")
    return store


def show(root: Path, args: Any) -> ExitCode:
    store = holding(root, args.fingerprint)
    try:
        problem = find_problem(store, args.fingerprint)
        events = events_of(store, problem["id"])
    finally:
        store.close()
    display = Display.of(args.tz)
    sys.stdout.write(CARD_REPORTERS[args.output_format](problem, events, display))
    return ExitCode.OK


def change(root: Path, args: Any, now: datetime) -> ExitCode:
    display = Display.of(args.tz)  # an unknown zone is refused before anything changes
    status = {"ack": "acknowledged", "mute": "muted", "resolve": "resolved"}[args.action]
    until = None
    if status == "muted":
        until = args.until or now + (args.for_ or timedelta(hours=1))
    store = holding(root, args.fingerprint)
    try:
        problem = act(
            store, args.fingerprint, status, actor=actor(args.by), note=args.note, moment=now, muted_until=until
        )
    finally:
        store.close()
    after = f" until {display.time(until)}" if until else ""
    print(f"{problem['fingerprint']} {problem['check']} {problem['subject']}: {problem['status']} -> {status}{after}")
    return ExitCode.OK
