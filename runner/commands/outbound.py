"""campaign-guard outbound stop|start|status: the big red button.

stop records who and why, runs every source's stop actions, makes every launch gate fail (the
gate reads the store) and opens a `system` problem; start is as explicit and resolves it; status
exits 1 while stopped and 4 when there is no store to ask, so a CRM's sender can gate on exit 0.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from runner.adapter import SourceError, open_adapter
from runner.builtin.system import OUTBOUND_STOP
from runner.commands.problems import actor
from runner.display import Display
from runner.engine.result import Result, Status
from runner.errors import ExitCode
from runner.repository import Repository
from runner.sources import load_sources
from runner.store.connect import Store, existing_store, open_store, store_label
from runner.store.outbound import current_stop, press
from runner.store.record import record
from runner.store.runs import finish_run, start_run

SUBJECT = "outbound"


def run(root: Path, args: Any, now: datetime) -> ExitCode:
    display = Display.of(args.tz)
    if args.action == "status":
        return _status(root, display)
    repo = Repository(root)
    store = open_store(root)
    try:
        return _switch(repo, store, args, now)
    finally:
        store.close()


def _status(root: Path, display: Display) -> ExitCode:
    """Exit 0 only when the store says outbound runs: no store yet is unknown (exit 4), never "running"."""
    store = existing_store(root)
    if store is None:
        print(
            f"outbound: UNKNOWN: no state store at {store_label(root)} "
            "(none created yet, or CAMPAIGN_GUARD_STATE_URL is not set as for `run`)"
        )
        return ExitCode.SOURCE_ERROR
    try:
        stop = current_stop(store)
    finally:
        store.close()
    if stop is None:
        print("outbound: running")
        return ExitCode.OK
    print(f"outbound: STOPPED by {stop.actor} at {display.time(stop.at)}: {stop.reason}")
    return ExitCode.PROBLEMS


def _switch(repo: Repository, store: Store, args: Any, now: datetime) -> ExitCode:
    who = actor(args.by)
    stopping = args.action == "stop"
    report, failed = _source_actions(repo, stopping)
    press(store, args.action, actor=who, reason=args.reason, moment=now, report="\n".join(report))
    run_id = start_run(store, f"outbound {args.action}", args.reason, now)
    record(store, run_id, [_system_result(stopping, who, args.reason)], now)
    finish_run(store, run_id, results=1, errors=failed)
    for line in report:
        print(line)
    print(f"outbound: {'STOPPED' if stopping else 'running'} ({who}{': ' + args.reason if args.reason else ''})")
    if failed:
        print(f"campaign-guard: {failed} source action(s) failed; see above", file=sys.stderr)
        return ExitCode.SOURCE_ERROR
    return ExitCode.OK


def _source_actions(repo: Repository, stopping: bool) -> tuple[list[str], int]:
    """Run every source's stop (or start) statements; one line per source, and the failures."""
    report, failed = [], 0
    for config in load_sources(repo).by_name.values():
        statements = config.stop_actions if stopping else config.start_actions
        if not statements:
            continue
        adapter = None
        try:
            adapter = open_adapter(config)
            adapter.run_statements(statements, check=f"outbound {'stop' if stopping else 'start'}")
            report.append(f"source {config.name!r}: {len(statements)} statement(s) done")
        except SourceError as error:
            failed += 1
            report.append(f"source {config.name!r}: FAILED: {error.message}")
        finally:
            if adapter is not None:
                adapter.close()
    return report, failed


def _system_result(stopping: bool, who: str, reason: str) -> Result:
    about = OUTBOUND_STOP
    if stopping:
        return about.result(
            SUBJECT,
            Status.FAIL,
            observed="stopped",
            expected="outbound running",
            cause=f"outbound stopped by {who}: {reason}",
        )
    return about.result(SUBJECT, Status.PASS, observed="running")
